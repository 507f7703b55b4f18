import { BackendAPI, RequestFn } from '../src/models/api';
import { APIError } from '../src/models/errors';
import type { EdgeSpec, Flow, FlowRun, FlowSpec, TaskSpec } from '../src/types';

export interface Call {
  endPoint: string;
  method: string;
  body: unknown;
}

type Route = (endPoint: string, body: unknown) => unknown;

/** A fake server extension: the first route whose prefix matches the path answers. */
export function fakeApi(routes: Record<string, Route | unknown>): { api: BackendAPI; calls: Call[] } {
  const calls: Call[] = [];
  const request: RequestFn = async <T>(endPoint: string, init: RequestInit = {}): Promise<T> => {
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ endPoint, method: init.method ?? 'GET', body });
    const path = endPoint.split('?')[0]!;
    const key = Object.keys(routes)
      .filter(prefix => path === prefix || path.startsWith(`${prefix}/`) || prefix.endsWith('*') && path.startsWith(prefix.slice(0, -1)))
      .sort((a, b) => b.length - a.length)[0];
    if (key === undefined) {
      throw new APIError(404, `no route for ${endPoint}`);
    }
    const route = routes[key];
    const answer = typeof route === 'function' ? (route as Route)(endPoint, body) : route;
    if (answer instanceof Error) {
      throw answer;
    }
    return structuredClone(answer) as T;
  };
  return { api: new BackendAPI(request), calls };
}

/** A task as the backend's spec has it: every field, defaults filled in. */
export function taskSpec(overrides: Partial<TaskSpec> & { slug: string }): TaskSpec {
  return {
    name: overrides.slug, type: 'FunctionTask', tags: [], max_retries: 0, retry_delay: null,
    timeout: null, trigger: 'all_successful', skip_on_upstream_skip: true, cache_for: null,
    checkpoint: null, is_parameter: false, mapped: false, parameter: null,
    ...overrides
  };
}

export function edgeSpec(upstream: string, downstream: string, overrides: Partial<EdgeSpec> = {}): EdgeSpec {
  return { upstream, downstream, key: 'x', mapped: false, flattened: false, ...overrides };
}

export const SPEC: FlowSpec = {
  name: 'etl',
  tasks: [
    taskSpec({ slug: 'n', type: 'Parameter', is_parameter: true,
               parameter: { default: 3, default_repr: null, required: false } }),
    taskSpec({ slug: 'extract-1', name: 'extract' }),
    taskSpec({ slug: 'double-1', name: 'double', mapped: true }),
    taskSpec({ slug: 'total-1', name: 'total' })
  ],
  edges: [
    edgeSpec('n', 'extract-1', { key: 'n' }),
    edgeSpec('extract-1', 'double-1', { mapped: true }),
    edgeSpec('double-1', 'total-1', { key: 'xs' })
  ],
  parameters: ['n'],
  reference_tasks: [],
  schedule: null,
  code_location: null
};

export function flow(overrides: Partial<Flow> = {}): Flow {
  return {
    id: 'flow1', name: 'etl', project: 'default', version: 1, spec_hash: 'h', spec: SPEC,
    storage: {}, run_config: { type: 'local', env: { API_KEY: '********' }, labels: [] },
    executor: {}, labels: [], max_retries: 0, schedule_active: true, archived: null,
    created: '2026-01-01T00:00:00Z', updated: '2026-01-01T00:00:00Z',
    ...overrides
  };
}

export function flowRun(overrides: Partial<FlowRun> = {}): FlowRun {
  return {
    id: 'run1', flow_id: 'flow1', flow_name: 'etl', project: 'default', flow_version: 1,
    parameters: {}, run_config: { type: 'local' }, executor: {}, labels: [],
    idempotency_key: null, scheduled_start: '2026-01-01T00:00:00Z', state: 'Scheduled',
    state_message: 'created', state_timestamp: '2026-01-01T00:00:00Z', version: 1, run_count: 0,
    max_retries: 0, agent_id: null, agent_name: null, lease_expires_at: null, last_heartbeat: null,
    exit_code: null, created: '2026-01-01T00:00:00Z', updated: '2026-01-01T00:00:00Z',
    agent_match: null, auto_scheduled: false, parent_flow_run_id: null, waiting_for: null, name: null,
    ...overrides
  };
}

/** A fake EventSource: the test opens, emits events on, and fails it. */
export class FakeSource {
  constructor(readonly endPoint: string) {}

  readyState = 0;
  closed = false;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this._listeners.set(type, [...(this._listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  emit(kind: string, data: unknown, id = ''): void {
    const event = new MessageEvent(kind, { data: JSON.stringify(data), lastEventId: id });
    for (const listener of this._listeners.get(kind) ?? []) {
      listener(event);
    }
  }

  /** The browser gave up (`closed`: e.g. a 502) or is reconnecting by itself. */
  fail(closed: boolean): void {
    this.readyState = closed ? 2 : 0;
    this.onerror?.(new Event('error'));
  }

  private _listeners = new Map<string, ((event: MessageEvent) => void)[]>();
}

/** An API whose event streams are FakeSources, listed in the order they were opened. */
export function withStreams(api: BackendAPI): { api: BackendAPI; sources: FakeSource[] } {
  const sources: FakeSource[] = [];
  const streaming = new BackendAPI(api.request, endPoint => {
    const source = new FakeSource(endPoint);
    sources.push(source);
    return source;
  });
  return { api: streaming, sources };
}
