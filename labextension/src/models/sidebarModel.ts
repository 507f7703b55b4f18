/**
 * The sidebar's data: connection status, flows, runs (filtered) and agents.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { Agent, BackendConfig, Flow, FlowRun, FlowSchedule } from '../types';
import type { BackendAPI } from './api';
import { APIError, errorText } from './errors';
import { EventFeed } from './eventFeed';
import { isFinished, stateCategory } from './states';
import { waitingReason } from './waiting';

export interface RunFilter {
  flowName: string | null;
  state: string | null;
}

/** A flow by name: its newest version and how many versions exist. */
export interface FlowSummary {
  name: string;
  project: string;
  latest: Flow;
  versions: number;
}

export type ConnectionStatus = 'connecting' | 'connected' | 'error';

/** What the panel says when the server extension does not answer at all. */
export const NOT_ENABLED =
  'the jupyter-flows server extension is not enabled in this Jupyter server ' +
  '(/jupyter-flows/api/config answered 404): install jupyter-flows[notebook] where ' +
  'Jupyter runs and restart it';

/** The kinds of the backend's change feed (`GET /api/events`). */
export const CHANGE_EVENTS = ['ready', 'reset', 'flow', 'flow_run', 'agent'] as const;

/** Changes arriving within this many ms are read with one refresh. */
const REFRESH_DELAY = 150;

/** At most this many scheduled flows get their schedule (words, next times) read per refresh. */
const SCHEDULE_LOOKUPS = 20;

/** At most this many waiting runs get their agent match looked up on each refresh. */
const MATCH_LOOKUPS = 10;

/** The newest version of each (project, name), sorted by name. */
export function summarizeFlows(flows: Flow[]): FlowSummary[] {
  const byKey = new Map<string, FlowSummary>();
  for (const flow of flows) {
    const key = `${flow.project}\u0000${flow.name}`;
    const known = byKey.get(key);
    if (!known) {
      byKey.set(key, { name: flow.name, project: flow.project, latest: flow, versions: 1 });
    } else {
      known.versions += 1;
      if (flow.version > known.latest.version) {
        known.latest = flow;
      }
    }
  }
  return [...byKey.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || a.project.localeCompare(b.project)
  );
}

export class SidebarModel {
  constructor(readonly api: BackendAPI) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get status(): ConnectionStatus {
    if (this.error) {
      return 'error';
    }
    return this.lastUpdated === null ? 'connecting' : 'connected';
  }

  config: BackendConfig | null = null;
  error: string | null = null;
  flows: FlowSummary[] = [];
  runs: FlowRun[] = [];
  runsTotal = 0;
  agents: Agent[] = [];
  /** The backend's answer to "can an online agent take this run?", for waiting runs. */
  /** Why each waiting run waits, when it says: no agent can take it, or a concurrency limit. */
  matches = new Map<string, string>();
  /** The schedule of each flow (by name) whose latest version has one. */
  schedules = new Map<string, FlowSchedule>();
  filter: RunFilter = { flowName: null, state: null };
  lastUpdated: number | null = null;

  get onlineAgents(): Agent[] {
    return this.agents.filter(agent => agent.online);
  }

  /** Flow names for the filter, including a filtered name no longer listed. */
  get flowNames(): string[] {
    const names = new Set(this.flows.map(flow => flow.name));
    if (this.filter.flowName) {
      names.add(this.filter.flowName);
    }
    return [...names].sort();
  }

  /** Why this waiting run is not taken (no online agent can, or a limit is full), or null. */
  unmatchedReason(run: FlowRun): string | null {
    if (stateCategory(run.state) !== 'waiting') {
      return null;
    }
    return this.matches.get(run.id) ?? null;
  }

  get isFollowing(): boolean {
    return this._feed !== null;
  }

  /**
   * Follow the backend's change feed: `ready` (and `reset`, after missed changes) loads the
   * lists, and every flow, run or agent change reads them again, a burst of changes at once.
   * A feed that fails reads them too, so the panel says why.
   */
  follow(): void {
    const open = this.api.openStream;
    if (this._feed || !open) {
      void this.refresh();
      return;
    }
    this._feed = new EventFeed(open, {
      events: CHANGE_EVENTS,
      endPoint: () => 'events',
      onEvent: () => this._refreshSoon(),
      onStatus: open => {
        if (!open) {
          this._refreshSoon();
        }
      }
    });
    this._feed.start();
  }

  unfollow(): void {
    this._feed?.stop();
    this._feed = null;
    if (this._refreshTimer !== null) {
      clearTimeout(this._refreshTimer);
      this._refreshTimer = null;
    }
  }

  private _refreshSoon(): void {
    if (this._refreshTimer === null) {
      this._refreshTimer = setTimeout(() => {
        this._refreshTimer = null;
        void this.refresh();
      }, REFRESH_DELAY);
    }
  }

  setFilter(filter: Partial<RunFilter>): void {
    this.filter = { ...this.filter, ...filter };
    this._changed.emit();
  }

  /** Fetch everything once; resolves true while any listed run is unfinished. */
  async refresh(): Promise<boolean> {
    try {
      if (!this.config || this.error) {
        this.config = await this.api.config().catch(error => {
          throw error instanceof APIError && error.status === 404
            ? new APIError(404, NOT_ENABLED)
            : error;
        });
      }
      const [flows, runs, agents] = await Promise.all([
        this.api.flows(),
        this.api.runs({ flowName: this.filter.flowName, state: this.filter.state }),
        this.api.agents()
      ]);
      this.flows = summarizeFlows(flows.items);
      this.runs = runs.items;
      this.runsTotal = runs.total;
      this.agents = agents;
      [this.matches, this.schedules] = await Promise.all([
        this._lookUpMatches(runs.items), this._lookUpSchedules(this.flows)]);
      this.error = null;
      this.lastUpdated = Date.now();
    } catch (error) {
      this.error = errorText(error);
    }
    this._changed.emit();
    return !this.error && this.runs.some(run => !isFinished(run.state));
  }

  /** Pause or resume a flow's schedule, then show what the backend made of it. */
  async setScheduleActive(flowName: string, active: boolean): Promise<void> {
    const known = this.schedules.get(flowName);
    const flow = this.flows.find(summary => summary.name === flowName);
    const id = known?.flow_id ?? flow?.latest.id;
    if (!id) {
      throw new Error(`no flow named ${flowName}`);
    }
    this.schedules.set(flowName, await this.api.setScheduleActive(id, active));
    this._changed.emit();
  }

  private async _lookUpSchedules(flows: FlowSummary[]): Promise<Map<string, FlowSchedule>> {
    const scheduled = flows.filter(flow => flow.latest.spec.schedule).slice(0, SCHEDULE_LOOKUPS);
    const found = await Promise.all(
      scheduled.map(flow => this.api.schedule(flow.latest.id).then(schedule => [flow.name, schedule] as const)));
    return new Map(found);
  }

  private async _lookUpMatches(runs: FlowRun[]): Promise<Map<string, string>> {
    const waiting = runs.filter(run => stateCategory(run.state) === 'waiting').slice(0, MATCH_LOOKUPS);
    const found = await Promise.all(waiting.map(run => this.api.run(run.id).then(full => [run.id, waitingReason(full)] as const)));
    const matches = new Map<string, string>();
    for (const [id, reason] of found) {
      if (reason) {
        matches.set(id, reason);
      }
    }
    return matches;
  }

  private _changed = new Signal<this, void>(this);
  private _feed: EventFeed | null = null;
  private _refreshTimer: ReturnType<typeof setTimeout> | null = null;
}

