/**
 * One flow run as the run view shows it: the run, its flow (for the DAG and parameters),
 * its state history, task runs, and the logs read so far (after a cursor).
 */
import { ISignal, Signal } from '@lumino/signaling';

import type {
  Flow,
  FlowRun,
  FlowRunStateEvent,
  JSONObject,
  LogRecord,
  StateRecord,
  TaskRun,
  TaskRunStateEvent
} from '../types';
import type { BackendAPI } from './api';
import { DagLayout, layoutDag, NodeState, nodeStates } from './dag';
import { errorText } from './errors';
import { EventFeed } from './eventFeed';
import { parseTime } from './format';
import { isCancellable, isFinished, isRestartable, stateCategory } from './states';

/** One row of the task table: a task, with its mapped children summed up. */
export interface TaskRow {
  slug: string;
  name: string;
  state: string;
  message: string | null;
  children: { total: number; finished: number; failed: number } | null;
  /** Start to end (or to now while running), when the start is known. */
  duration: number | null;
  /** When it reached its current state, counted from the run's start. */
  offset: number | null;
}

/** The kinds of a run's events stream (`GET /api/flow_runs/{id}/events`). */
export const RUN_EVENTS = ['flow_run_state', 'task_run_state', 'log', 'end'] as const;

/** Events arriving within this many ms make one `changed` signal (a burst of logs). */
const EMIT_DELAY = 30;

/** Logs kept in memory per run; older lines are dropped (the backend keeps them all). */
export const MAX_LOG_LINES = 5000;
const LOG_PAGE = 500;
const LOG_PAGES_PER_REFRESH = 4;

export class RunModel {
  constructor(
    readonly api: BackendAPI,
    readonly runId: string
  ) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  run: FlowRun | null = null;
  flow: Flow | null = null;
  layout: DagLayout | null = null;
  states: StateRecord[] = [];
  taskRuns: TaskRun[] = [];
  logs: LogRecord[] = [];
  /** The id of the last log line read; the next read asks for lines after it. */
  logCursor = 0;
  error: string | null = null;

  get isFinished(): boolean {
    return !!this.run && isFinished(this.run.state);
  }

  get canCancel(): boolean {
    return !!this.run && isCancellable(this.run.state);
  }

  get canRestart(): boolean {
    return !!this.run && isRestartable(this.run.state);
  }

  /** Fetch what changed; resolves true while the run is unfinished. */
  async refresh(): Promise<boolean> {
    try {
      const [run, states, taskRuns] = await Promise.all([
        this.api.run(this.runId),
        this.api.states(this.runId),
        this.api.taskRuns(this.runId)
      ]);
      if (!this.flow || this.flow.id !== run.flow_id) {
        this.flow = await this.api.flow(run.flow_id);
        this.layout = layoutDag(this.flow.spec);
      }
      this.run = run;
      this.states = states;
      this._observe(taskRuns);
      this.taskRuns = taskRuns;
      await this._readLogs();
      this.error = null;
    } catch (error) {
      this.error = errorText(error);
    }
    this._changed.emit();
    return !this.error && !this.isFinished;
  }

  get isFollowing(): boolean {
    return this._feed !== null;
  }

  /**
   * Follow the run's events stream from its start, applying each event as it comes, until
   * the backend sends `end`. Applying is idempotent, so what `refresh` already loaded is
   * not added twice.
   */
  follow(): void {
    const open = this.api.openStream;
    if (this._feed || !open) {
      return;
    }
    const path = `flow_runs/${encodeURIComponent(this.runId)}/events`;
    this._feed = new EventFeed(open, {
      events: RUN_EVENTS,
      endPoint: lastId => (lastId ? `${path}?after=${encodeURIComponent(lastId)}` : path),
      onEvent: (kind, data) => this.apply(kind, data),
      // a failed stream: say why (the REST call carries the proxy's message); an open one
      // after a failure: catch up on what the stream will not resend (the run itself)
      onStatus: open => {
        if (!open || this.error) {
          void this.refresh();
        }
      }
    });
    this._feed.start();
  }

  unfollow(): void {
    this._feed?.stop();
    this._feed = null;
  }

  /** One event of the run's stream. */
  apply(kind: string, data: unknown): void {
    switch (kind) {
      case 'flow_run_state':
        this._applyRunState(data as FlowRunStateEvent);
        break;
      case 'task_run_state':
        this._applyTaskRun(data as TaskRunStateEvent);
        break;
      case 'log':
        this._applyLog(data as LogRecord);
        break;
      case 'end':
        // finished: nothing more will come; read the run once for what events do not carry
        this.unfollow();
        void this.refresh();
        return;
      default:
        return;
    }
    this._scheduleEmit();
  }

  private _applyRunState(event: FlowRunStateEvent): void {
    if (this.run && event.version >= this.run.version) {
      this.run = {
        ...this.run,
        state: event.state,
        state_message: event.message,
        state_timestamp: event.timestamp,
        version: event.version
      };
    }
    const known = this.states.some(s => s.version === event.version && s.state === event.state);
    if (!known) {
      this.states.push({ id: event.seq, state: event.state, message: event.message,
                         timestamp: event.timestamp, version: event.version });
      this.states.sort((a, b) => a.version - b.version);
    }
  }

  private _applyTaskRun(event: TaskRunStateEvent): void {
    const index = this.taskRuns.findIndex(
      run => run.task_slug === event.task_slug && run.map_index === event.map_index);
    const running = stateCategory(event.state) === 'running';
    const update: TaskRun = { task_slug: event.task_slug, map_index: event.map_index,
                              state: event.state, message: event.message,
                              timestamp: event.timestamp,
                              started: this.taskRuns[index]?.started ?? (running ? event.timestamp : null),
                              location: this.taskRuns[index]?.location ?? null };
    if (index < 0) {
      this.taskRuns.push(update);
    } else if ((parseTime(update.timestamp) ?? 0) >= (parseTime(this.taskRuns[index]!.timestamp) ?? 0)) {
      this.taskRuns[index] = update;
    }
    this._observe([update]);
  }

  private _applyLog(record: LogRecord): void {
    if (record.id <= this.logCursor) {
      return;
    }
    this._noteLogStart(record);
    this.logs.push(record);
    this.logCursor = record.id;
    if (this.logs.length > MAX_LOG_LINES) {
      this.logs.splice(0, this.logs.length - MAX_LOG_LINES);
    }
  }

  private _scheduleEmit(): void {
    if (this._emitTimer === null) {
      this._emitTimer = setTimeout(() => {
        this._emitTimer = null;
        this._changed.emit();
      }, EMIT_DELAY);
    }
  }

  /** Cancel the run: Cancelled at once if nothing runs it yet, else Cancelling until its
   * flow-run process (or, after the grace period, its agent) stops the work. */
  async cancel(): Promise<void> {
    this.run = await this.api.cancel(this.runId, 'cancelled from JupyterLab');
    this._changed.emit();
  }

  /** Restart this run from where it failed, then follow it again to its new end. */
  async restart(): Promise<void> {
    this.run = await this.api.restart(this.runId);
    this._changed.emit();
    this.follow();
  }

  /** A new run of the same flow version with these parameters and this run's labels. */
  runAgain(parameters: JSONObject): Promise<FlowRun> {
    if (!this.run) {
      return Promise.reject(new Error('the run has not been loaded yet'));
    }
    return this.api.createRun({
      flow_id: this.run.flow_id,
      parameters,
      labels: this.run.labels
    });
  }

  /** The state each DAG node shows. */
  nodeStates(): Map<string, NodeState> {
    return nodeStates(this.taskRuns);
  }

  /** When the run started running (its first Running state), ms. */
  get startedAt(): number | null {
    const running = this.states.find(record => record.state === 'Running');
    return parseTime(running?.timestamp);
  }

  /** The task table, in the spec's order, then any task the spec does not name. */
  taskRows(now: number = Date.now()): TaskRow[] {
    const states = this.nodeStates();
    const names = new Map((this.flow?.spec.tasks ?? []).map(task => [task.slug, task.name]));
    const slugs = [...names.keys(), ...[...states.keys()].filter(slug => !names.has(slug))];
    const parents = new Map(
      this.taskRuns.filter(run => run.map_index === null).map(run => [run.task_slug, run])
    );
    const runStart = this.startedAt;
    const rows: TaskRow[] = [];
    for (const slug of slugs) {
      const node = states.get(slug);
      if (!node) {
        rows.push({ slug, name: names.get(slug) ?? slug, state: 'Pending', message: null,
                    children: null, duration: null, offset: null });
        continue;
      }
      const parent = parents.get(slug);
      const reached = parseTime(parent?.timestamp) ??
        Math.max(...this.taskRuns.filter(run => run.task_slug === slug)
          .map(run => parseTime(run.timestamp) ?? 0));
      const start = this._starts.get(slug) ?? null;
      const end = isFinished(node.state) ? reached : now;
      rows.push({
        slug,
        name: names.get(slug) ?? slug,
        state: node.state,
        message: node.message,
        children: node.children.total ? { ...node.children } : null,
        duration: start !== null && end !== null ? Math.max(0, end - start) : null,
        offset: runStart !== null && reached ? Math.max(0, reached - runStart) : null
      });
    }
    return rows;
  }

  /**
   * A task's start: the backend's `started` (when it first ran), else when it is seen
   * Running (the timestamp says when it entered that state), or its first log line.
   */
  private _observe(taskRuns: TaskRun[]): void {
    for (const run of taskRuns) {
      const started = parseTime(run.started);
      if (started !== null) {
        this._starts.set(run.task_slug, Math.min(started, this._starts.get(run.task_slug) ?? started));
      }
      if (stateCategory(run.state) === 'running') {
        const time = parseTime(run.timestamp);
        const known = this._starts.get(run.task_slug);
        if (time !== null && (known === undefined || time < known)) {
          this._starts.set(run.task_slug, time);
        }
      }
    }
  }

  private async _readLogs(): Promise<void> {
    for (let page = 0; page < LOG_PAGES_PER_REFRESH; page++) {
      const answer = await this.api.logs(this.runId, this.logCursor, LOG_PAGE);
      // the stream may have delivered some of these while the page was on its way
      const fresh = answer.items.filter(record => record.id > this.logCursor);
      for (const record of fresh) {
        this._noteLogStart(record);
      }
      this.logs.push(...fresh);
      this.logCursor = Math.max(this.logCursor, answer.next_after);
      if (answer.items.length < LOG_PAGE) {
        break;
      }
    }
    if (this.logs.length > MAX_LOG_LINES) {
      this.logs.splice(0, this.logs.length - MAX_LOG_LINES);
    }
  }

  /** A task's first log line tells when it started, if nothing earlier did. */
  private _noteLogStart(record: LogRecord): void {
    const time = parseTime(record.timestamp);
    if (record.task_slug && time !== null) {
      const known = this._starts.get(record.task_slug);
      if (known === undefined || time < known) {
        this._starts.set(record.task_slug, time);
      }
    }
  }

  private _starts = new Map<string, number>();
  private _feed: EventFeed | null = null;
  private _emitTimer: ReturnType<typeof setTimeout> | null = null;
  private _changed = new Signal<this, void>(this);
}
