/**
 * The backend's wire payloads: generated from its OpenAPI document (src/api.gen.ts, made by
 * scripts/api_types.py; a test fails when it drifts from the server). Datetimes arrive as
 * ISO 8601 strings in UTC. Only the server extension's own answers are written here.
 */
import type { components } from './api.gen';

type Schemas = components['schemas'];

export type JSONValue =
  | string
  | number
  | boolean
  | null
  | JSONValue[]
  | { [key: string]: JSONValue };

export type JSONObject = { [key: string]: JSONValue };

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type ParameterSpec = Schemas['ParameterSpec-Output'];
export type TaskSpec = Schemas['TaskSpec-Output'];
export type EdgeSpec = Schemas['EdgeSpec-Output'];
/** A flow's graph: tasks in topological order, edges in the order of their downstream. */
export type FlowSpec = Schemas['FlowSpec-Output'];
/** `T` with the fields the backend keeps as free JSON objects typed as such. */
type WithJSON<T, K extends keyof T> = Omit<T, K> & { [P in K]: JSONObject };

export type Flow = WithJSON<Schemas['Flow'], 'storage' | 'run_config' | 'executor'>;
export type AgentMatch = Schemas['AgentMatch'];
export type FlowRun = WithJSON<Schemas['FlowRun'], 'parameters' | 'run_config' | 'executor'>;
export type StateRecord = Schemas['StateRecord'];
export type TaskRun = Schemas['TaskRun'];
export type LogRecord = Schemas['LogRecord'];
export type LogPage = Schemas['LogPage'];
export type Agent = Schemas['Agent'];
export type Health = Schemas['Health'];
/** A flow's schedule as the backend runs it (the latest version's), with its next times. */
export type FlowSchedule = Schemas['FlowSchedule'];
export type FlowRunStateEvent = Schemas['FlowRunStateEvent'];
export type TaskRunStateEvent = Schemas['TaskRunStateEvent'];
export type LogEvent = Schemas['LogEvent'];

/** GET /jupyter-flows/api/config: which backend the server extension proxies to. */
export interface BackendConfig {
  backend_url: string;
  embedded: boolean;
  source: string;
  api_key_configured: boolean;
  status: string;
  error?: string | null;
  database?: string;
  agent: { name: string; labels: string[]; running: boolean } | null;
}
