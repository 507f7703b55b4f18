/**
 * Typed calls to the backend through the server extension's proxy.
 */
import type {
  Agent,
  BackendConfig,
  Flow,
  FlowRun,
  FlowSchedule,
  Health,
  JSONObject,
  LogPage,
  Page,
  StateRecord,
  TaskRun
} from '../types';
import type { SourceFactory } from './eventFeed';

/** Makes a request to `/jupyter-flows/api/<endPoint>`; `requestAPI` in the app. */
export type RequestFn = <T>(endPoint: string, init?: RequestInit) => Promise<T>;

export interface RunQuery {
  flowName?: string | null;
  state?: string | null;
  limit?: number;
}

export interface NewRun {
  flow_id: string;
  parameters?: JSONObject;
  labels?: string[];
}

function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') {
      search.append(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });

export class BackendAPI {
  /** `openStream` opens the backend's event streams; without it, views load but do not follow. */
  constructor(
    readonly request: RequestFn,
    readonly openStream: SourceFactory | null = null
  ) {}

  config(): Promise<BackendConfig> {
    return this.request<BackendConfig>('config');
  }

  health(): Promise<Health> {
    return this.request<Health>('health');
  }

  flows(limit = 200): Promise<Page<Flow>> {
    return this.request<Page<Flow>>(`flows${query({ limit })}`);
  }

  flow(id: string): Promise<Flow> {
    return this.request<Flow>(`flows/${encodeURIComponent(id)}`);
  }

  runs(filter: RunQuery = {}): Promise<Page<FlowRun>> {
    return this.request<Page<FlowRun>>(
      `flow_runs${query({ flow_name: filter.flowName, state: filter.state, limit: filter.limit ?? 50 })}`
    );
  }

  /** One run, with `agent_match`. */
  run(id: string): Promise<FlowRun> {
    return this.request<FlowRun>(`flow_runs/${encodeURIComponent(id)}`);
  }

  states(id: string): Promise<StateRecord[]> {
    return this.request<StateRecord[]>(`flow_runs/${encodeURIComponent(id)}/states`);
  }

  taskRuns(id: string): Promise<TaskRun[]> {
    return this.request<TaskRun[]>(`flow_runs/${encodeURIComponent(id)}/task_runs`);
  }

  logs(id: string, after: number, limit = 500): Promise<LogPage> {
    return this.request<LogPage>(`flow_runs/${encodeURIComponent(id)}/logs${query({ after, limit })}`);
  }

  /** A flow's schedule (any version's id names the flow). */
  schedule(flowId: string): Promise<FlowSchedule> {
    return this.request<FlowSchedule>(`flows/${encodeURIComponent(flowId)}/schedule`);
  }

  /** Pause (its unclaimed runs are deleted) or resume a flow's schedule. */
  setScheduleActive(flowId: string, active: boolean): Promise<FlowSchedule> {
    return this.request<FlowSchedule>(`flows/${encodeURIComponent(flowId)}/schedule`, post({ active }));
  }

  agents(): Promise<Agent[]> {
    return this.request<Agent[]>('agents');
  }

  createRun(body: NewRun): Promise<FlowRun> {
    return this.request<FlowRun>('flow_runs', post(body));
  }

  setState(id: string, state: string, message: string): Promise<FlowRun> {
    return this.request<FlowRun>(`flow_runs/${encodeURIComponent(id)}/state`, post({ state, message }));
  }

  /** The same run back to Scheduled: task runs that succeeded keep their checkpointed
   * results, the others run again (`fromTask`: that task and its downstream too). */
  restart(id: string, fromTask?: string): Promise<FlowRun> {
    return this.request<FlowRun>(`flow_runs/${encodeURIComponent(id)}/restart`, post(fromTask ? { from_task: fromTask } : {}));
  }

  /** Cancelled at once if nothing runs it yet; Cancelling while its process stops it. */
  cancel(id: string, message: string): Promise<FlowRun> {
    return this.request<FlowRun>(`flow_runs/${encodeURIComponent(id)}/cancel`, post({ message }));
  }
}
