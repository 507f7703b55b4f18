/**
 * The backend's wire payloads, as jupyter_flows/api/schemas.py defines them.
 * Datetimes arrive as ISO 8601 strings in UTC.
 */

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

export interface ParameterSpec {
  default: JSONValue;
  default_repr?: string;
  required: boolean;
}

export interface TaskSpec {
  slug: string;
  name: string;
  type: string;
  tags: string[];
  max_retries: number;
  trigger?: string;
  is_parameter: boolean;
  mapped: boolean;
  parameter?: ParameterSpec;
}

export interface EdgeSpec {
  upstream: string;
  downstream: string;
  key: string | null;
  mapped: boolean;
  flattened?: boolean;
}

/** A flow's graph: tasks in topological order, edges in the order of their downstream. */
export interface FlowSpec {
  name: string;
  tasks: TaskSpec[];
  edges: EdgeSpec[];
  parameters: string[];
  reference_tasks?: string[];
}

export interface Flow {
  id: string;
  name: string;
  project: string;
  version: number;
  spec_hash: string;
  spec: FlowSpec;
  storage: JSONObject;
  run_config: JSONObject;
  executor: JSONObject;
  labels: string[];
  max_retries: number;
  created: string;
  updated: string;
}

export interface AgentMatch {
  matched: boolean;
  agent_ids: string[];
  explanation: string;
}

export interface FlowRun {
  id: string;
  flow_id: string;
  flow_name: string;
  project: string;
  flow_version: number;
  parameters: JSONObject;
  run_config: JSONObject;
  executor: JSONObject;
  labels: string[];
  idempotency_key: string | null;
  scheduled_start: string;
  state: string;
  state_message: string | null;
  state_timestamp: string;
  version: number;
  run_count: number;
  max_retries: number;
  agent_id: string | null;
  agent_name?: string | null;
  lease_expires_at: string | null;
  last_heartbeat: string | null;
  exit_code: number | null;
  created: string;
  updated: string;
  /** Only on GET /flow_runs/{id}. */
  agent_match?: AgentMatch | null;
}

export interface StateRecord {
  id: number;
  state: string;
  message: string | null;
  timestamp: string;
  version: number;
}

export interface TaskRun {
  task_slug: string;
  map_index: number | null;
  state: string;
  message: string | null;
  timestamp: string;
}

export interface LogRecord {
  id: number;
  flow_run_id: string;
  timestamp: string;
  level: string;
  message: string;
  task_slug: string | null;
  map_index: number | null;
}

export interface LogPage {
  items: LogRecord[];
  next_after: number;
}

export interface Agent {
  id: string;
  name: string;
  type: string;
  labels: string[];
  created: string;
  last_heartbeat: string;
  online: boolean;
}

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

export interface Health {
  status: string;
  version: string;
  database: string;
}
