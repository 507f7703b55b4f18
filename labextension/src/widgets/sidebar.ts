/**
 * The left sidebar: connection status, flows, runs (with filters) and online agents.
 */
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { errorText } from '../models/errors';
import { configType, formatAgo, formatWhen, shortId } from '../models/format';
import { SidebarModel } from '../models/sidebarModel';
import { STATE_NAMES, stateClass } from '../models/states';
import type { FlowRun } from '../types';
import { h, replaceChildren } from './dom';

export interface SidebarOptions {
  model: SidebarModel;
  openRun: (id: string) => void;
}

export class FlowsSidebar extends Widget {
  constructor(options: SidebarOptions) {
    super();
    this.model = options.model;
    this._openRun = options.openRun;
    this.addClass('jp-flows-sidebar');
    this.id = 'jupyter-flows-sidebar';
    this.title.caption = 'jupyter-flows: flows, runs and agents';
    this._buildSkeleton();
    this.model.changed.connect(this._render, this);
    this._render();
  }

  readonly model: SidebarModel;

  /** Read the lists now (after a run was created or cancelled, or on "Refresh"). */
  async refresh(): Promise<void> {
    await this.model.refresh();
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.unfollow();
    this.model.changed.disconnect(this._render, this);
    super.dispose();
  }

  protected override onAfterShow(_msg: Message): void {
    this.model.follow();
  }

  protected override onAfterAttach(_msg: Message): void {
    if (this.isVisible) {
      this.model.follow();
    }
  }

  protected override onAfterHide(_msg: Message): void {
    this.model.unfollow();
  }

  protected override onBeforeDetach(_msg: Message): void {
    this.model.unfollow();
  }

  private _buildSkeleton(): void {
    this._flowSelect = h('select', {
      class: 'jp-flows-filter-flow',
      title: 'Show runs of this flow',
      onchange: () => this._filterChanged()
    });
    this._stateSelect = h(
      'select',
      { class: 'jp-flows-filter-state', title: 'Show runs in this state', onchange: () => this._filterChanged() },
      h('option', { value: '' }, 'any state'),
      STATE_NAMES.map(state => h('option', { value: state }, state))
    );
    replaceChildren(
      this.node,
      h(
        'div',
        { class: 'jp-flows-header' },
        h('span', { class: 'jp-flows-title' }, 'Flows'),
        h('button', {
          class: 'jp-flows-button jp-flows-refresh',
          title: 'Refresh now',
          onclick: () => void this.refresh()
        }, 'Refresh')
      ),
      this._status,
      h('div', { class: 'jp-flows-section-title' }, 'Flows'),
      this._flows,
      h('div', { class: 'jp-flows-section-title' }, 'Runs'),
      h('div', { class: 'jp-flows-filters' }, this._flowSelect, this._stateSelect),
      this._runs,
      h('div', { class: 'jp-flows-section-title' }, 'Agents'),
      this._agents
    );
  }

  /** A scheduled flow's schedule in words, its next times and a pause/resume toggle. */
  private _scheduleRow(flowName: string): HTMLElement | null {
    const schedule = this.model.schedules.get(flowName);
    if (!schedule?.schedule) {
      return null;
    }
    const next = schedule.active && schedule.next_times.length
      ? ` · next ${schedule.next_times.slice(0, 3).map(time => formatWhen(time)).join(', ')}`
      : '';
    return h('div', {
      class: 'jp-flows-row-detail jp-flows-schedule',
      'data-active': String(schedule.active)
    },
      h('span', { class: 'jp-flows-schedule-words' },
        `${schedule.active ? '' : 'paused: '}${schedule.description ?? 'scheduled'}${next}`),
      ' ',
      h('button', {
        class: 'jp-flows-button jp-flows-schedule-toggle',
        title: schedule.active
          ? 'Pause: the runs it made that have not started are removed'
          : 'Resume: the backend makes its next runs again',
        onclick: () => void this._toggleSchedule(flowName, !schedule.active)
      }, schedule.active ? 'Pause' : 'Resume'));
  }

  private async _toggleSchedule(flowName: string, active: boolean): Promise<void> {
    try {
      await this.model.setScheduleActive(flowName, active);
    } catch (error) {
      this.model.error = errorText(error);
    }
    void this.refresh();
  }

  private _filterChanged(): void {
    this.model.setFilter({
      flowName: this._flowSelect.value || null,
      state: this._stateSelect.value || null
    });
    void this.refresh();
  }

  private _render(): void {
    const model = this.model;
    this._renderStatus();
    // flows
    replaceChildren(
      this._flows,
      model.flows.length
        ? model.flows.map(flow =>
            h(
              'div',
              { class: 'jp-flows-flow', 'data-flow-name': flow.name, title: `flow id ${flow.latest.id}` },
              h('div', { class: 'jp-flows-row-main' },
                h('span', { class: 'jp-flows-flow-name' }, flow.name),
                h('span', { class: 'jp-flows-muted' },
                  ` v${flow.latest.version}` + (flow.project !== 'default' ? ` · ${flow.project}` : ''))),
              h('div', { class: 'jp-flows-row-detail' },
                `run: ${configType(flow.latest.run_config, 'none')} · executor: ${configType(flow.latest.executor)}`,
                flow.latest.labels.length ? h('span', {}, ' · ', labelChips(flow.latest.labels)) : null),
              this._scheduleRow(flow.name)
            )
          )
        : h('div', { class: 'jp-flows-empty' },
            model.status === 'connected'
              ? 'No flows yet: register one with flow.register() or `jupyter-flows register SCRIPT`.'
              : '')
    );
    // filters keep what the user chose
    const names = model.flowNames;
    const current = model.filter.flowName ?? '';
    replaceChildren(
      this._flowSelect,
      h('option', { value: '' }, 'all flows'),
      names.map(name => h('option', { value: name, selected: name === current }, name))
    );
    this._flowSelect.value = current;
    this._stateSelect.value = model.filter.state ?? '';
    // runs
    replaceChildren(
      this._runs,
      model.runs.length
        ? model.runs.map(run => this._runRow(run))
        : h('div', { class: 'jp-flows-empty' }, model.status === 'connected' ? 'No runs match.' : ''),
      model.runsTotal > model.runs.length
        ? h('div', { class: 'jp-flows-muted' }, `showing ${model.runs.length} of ${model.runsTotal}`)
        : null
    );
    // agents
    const online = model.onlineAgents;
    const offline = model.agents.length - online.length;
    replaceChildren(
      this._agents,
      online.length
        ? online.map(agent =>
            h('div', { class: 'jp-flows-agent', 'data-agent-name': agent.name },
              h('div', { class: 'jp-flows-row-main' },
                h('span', { class: 'jp-flows-dot jp-flows-state-success' }),
                h('span', {}, agent.name),
                h('span', { class: 'jp-flows-muted' }, ` (${agent.type})`)),
              h('div', { class: 'jp-flows-row-detail' },
                agent.labels.length ? labelChips(agent.labels) : 'no labels',
                ` · heartbeat ${formatAgo(agent.last_heartbeat)}`))
          )
        : h('div', { class: 'jp-flows-empty' }, model.status === 'connected' ? 'No agent is online.' : ''),
      offline ? h('div', { class: 'jp-flows-muted' }, `${offline} offline`) : null
    );
  }

  private _runRow(run: FlowRun): HTMLElement {
    const warning = this.model.unmatchedReason(run);
    return h(
      'div',
      {
        class: 'jp-flows-run',
        'data-run-id': run.id,
        'data-state': run.state,
        title: `open run ${run.id}`,
        onclick: () => this._openRun(run.id)
      },
      h('div', { class: 'jp-flows-row-main' },
        h('span', { class: `jp-flows-state ${stateClass(run.state)}` }, run.state),
        h('span', { class: 'jp-flows-run-flow' }, run.flow_name)),
      h('div', { class: 'jp-flows-row-detail' },
        `#${shortId(run.id)} · ${formatAgo(run.created)}`,
        run.state_message ? ` · ${run.state_message}` : '',
        run.labels.length ? h('span', {}, ' · ', labelChips(run.labels)) : null),
      warning ? h('div', { class: 'jp-flows-warning jp-flows-run-unmatched' }, `⚠ ${warning}`) : null
    );
  }

  private _renderStatus(): void {
    const model = this.model;
    const config = model.config;
    let text: string;
    if (model.status === 'error') {
      text = model.error ?? 'error';
    } else if (!config) {
      text = 'Connecting…';
    } else {
      const where = config.embedded ? 'embedded backend' : 'backend';
      const agent = config.agent ? ` · agent ${config.agent.running ? 'running' : 'stopped'}` : '';
      text = `Connected to ${where} ${config.backend_url}${agent}`;
    }
    this._status.className = `jp-flows-status jp-flows-status-${model.status}`;
    replaceChildren(this._status, h('span', { class: 'jp-flows-dot' }), h('span', { class: 'jp-flows-status-text' }, text));
  }

  private _openRun: (id: string) => void;
  private _status = h('div', { class: 'jp-flows-status' });
  private _flows = h('div', { class: 'jp-flows-list jp-flows-flows' });
  private _runs = h('div', { class: 'jp-flows-list jp-flows-runs' });
  private _agents = h('div', { class: 'jp-flows-list jp-flows-agents' });
  private _flowSelect!: HTMLSelectElement;
  private _stateSelect!: HTMLSelectElement;
}

export function labelChips(labels: string[]): HTMLElement[] {
  return labels.map(label => h('span', { class: 'jp-flows-label' }, label));
}
