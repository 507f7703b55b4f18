/**
 * The run view (a main-area tab): state, DAG, task runs, state timeline, run config,
 * executor, parameters and streaming logs, with "Run again", "Restart from failure" and
 * "Cancel".
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { errorText } from '../models/errors';
import {
  configRows,
  configType,
  formatClock,
  formatDuration,
  parseTime,
  shortId
} from '../models/format';
import { parameterFields } from '../models/params';
import { RunModel } from '../models/runModel';
import { stateCategory, stateClass } from '../models/states';
import { waitingReason } from '../models/waiting';
import type { FlowRun, JSONValue, LogRecord } from '../types';
import { renderDag } from './dagView';
import { h, replaceChildren } from './dom';
import { ParametersForm } from './parametersForm';
import { labelChips } from './sidebar';

export interface RunViewOptions {
  model: RunModel;
  /** Open another run (the one "Run again" created). */
  openRun: (id: string) => void;
  /** Tell others (the sidebar) that runs changed. */
  runsChanged: () => void;
  notify: (message: string, kind: 'success' | 'error') => void;
}

export class RunView extends Widget {
  constructor(options: RunViewOptions) {
    super();
    this.model = options.model;
    this._options = options;
    this.addClass('jp-flows-runview');
    this.node.dataset.runId = this.model.runId;
    this.title.label = `Run ${shortId(this.model.runId)}`;
    this.title.caption = `flow run ${this.model.runId}`;
    this.title.closable = true;
    replaceChildren(
      this.node,
      this._header,
      this._banner,
      h('div', { class: 'jp-flows-section-title' }, 'Graph'),
      this._dag,
      h('div', { class: 'jp-flows-columns' },
        h('div', { class: 'jp-flows-column' },
          h('div', { class: 'jp-flows-section-title' }, 'Task runs'),
          this._tasks),
        h('div', { class: 'jp-flows-column' },
          h('div', { class: 'jp-flows-section-title' }, 'State timeline'),
          this._timeline)),
      this._config,
      h('div', { class: 'jp-flows-section-title' }, 'Logs'),
      this._logs
    );
    this.model.changed.connect(this._render, this);
    this._render();
  }

  readonly model: RunModel;

  get runId(): string {
    return this.model.runId;
  }

  /** Load the run, then follow its events stream while it is unfinished and shown. */
  async refresh(): Promise<void> {
    await this.model.refresh();
    if (this.isVisible && !this.model.isFinished) {
      this.model.follow();
    }
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.unfollow();
    this.model.changed.disconnect(this._render, this);
    super.dispose();
  }

  protected override onAfterAttach(_msg: Message): void {
    if (this.isVisible) {
      void this.refresh();
    }
  }

  protected override onAfterShow(_msg: Message): void {
    void this.refresh();
  }

  protected override onAfterHide(_msg: Message): void {
    this.model.unfollow();
  }

  protected override onBeforeDetach(_msg: Message): void {
    this.model.unfollow();
  }

  // ------------------------------------------------------------------ actions
  private async _runAgain(): Promise<void> {
    const flow = this.model.flow;
    const run = this.model.run;
    if (!flow || !run) {
      return;
    }
    const form = new ParametersForm(parameterFields(flow.spec), run.parameters);
    const result = await showDialog({
      title: `Run ${flow.name} v${flow.version} again`,
      body: form,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })],
      focusNodeSelector: 'input'
    });
    if (!result.button.accept || !result.value) {
      return;
    }
    if (result.value.errors.length) {
      this._options.notify(result.value.errors.join('; '), 'error');
      return;
    }
    try {
      const created = await this.model.runAgain(result.value.values);
      this._options.notify(`Flow run ${shortId(created.id)} of ${flow.name} created`, 'success');
      this._options.runsChanged();
      this._options.openRun(created.id);
    } catch (error) {
      this._options.notify(`Could not create the run: ${errorText(error)}`, 'error');
    }
  }

  private async _cancel(): Promise<void> {
    const result = await showDialog({
      title: 'Cancel this flow run?',
      body: `Flow run ${this.model.runId} will stop: its tasks are cancelled (Cancelling, then Cancelled).`,
      buttons: [Dialog.cancelButton({ label: 'Keep running' }), Dialog.warnButton({ label: 'Cancel run' })]
    });
    if (!result.button.accept) {
      return;
    }
    try {
      await this.model.cancel();
      this._options.runsChanged();
      await this.refresh();
    } catch (error) {
      this._options.notify(`Could not cancel the run: ${errorText(error)}`, 'error');
    }
  }

  private async _restart(): Promise<void> {
    const result = await showDialog({
      title: 'Restart this flow run from where it failed?',
      body: `Flow run ${this.model.runId} runs again under the same id: task runs that succeeded keep their checkpointed results; failed, cancelled and not-run ones run again.`,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Restart' })]
    });
    if (!result.button.accept) {
      return;
    }
    try {
      await this.model.restart();
      this._options.runsChanged();
    } catch (error) {
      this._options.notify(`Could not restart the run: ${errorText(error)}`, 'error');
    }
  }

  // ---------------------------------------------------------------- rendering
  private _render(): void {
    const model = this.model;
    const run = model.run;
    this.node.dataset.state = run?.state ?? '';
    if (model.flow) {
      this.title.label = `${model.flow.name} #${shortId(model.runId)}`;
    }
    this._renderHeader(run);
    replaceChildren(
      this._banner,
      model.error ? h('div', { class: 'jp-flows-error' }, model.error) : null,
      run && stateCategory(run.state) === 'waiting' && waitingReason(run)
        ? h('div', { class: 'jp-flows-warning jp-flows-run-unmatched' }, `⚠ ${waitingReason(run)}`)
        : null
    );
    if (model.layout) {
      replaceChildren(this._dag, renderDag(model.layout, model.nodeStates()));
    } else if (!model.error) {
      replaceChildren(this._dag, h('div', { class: 'jp-flows-muted' }, 'Loading…'));
    }
    this._renderTasks();
    this._renderTimeline();
    this._renderConfig(run);
    this._renderLogs();
  }

  private _renderHeader(run: FlowRun | null): void {
    const flow = this.model.flow;
    replaceChildren(
      this._header,
      h('div', { class: 'jp-flows-runview-title' },
        h('span', { class: 'jp-flows-runview-flow' }, flow ? `${flow.name} v${flow.version}` : (run?.flow_name ?? '')),
        h('span', { class: 'jp-flows-muted' }, ` run ${this.model.runId}`)),
      run
        ? h('div', { class: 'jp-flows-runview-state' },
            h('span', { class: `jp-flows-state jp-flows-runview-badge ${stateClass(run.state)}` }, run.state),
            h('span', { class: 'jp-flows-runview-message' }, run.state_message ?? ''),
            run.agent_name ? h('span', { class: 'jp-flows-muted' }, ` · agent ${run.agent_name}`) : null,
            run.labels.length ? h('span', {}, ' · ', labelChips(run.labels)) : null)
        : null,
      h('div', { class: 'jp-flows-actions' },
        h('button', {
          class: 'jp-flows-button jp-mod-accept jp-flows-run-again',
          disabled: !run || !flow,
          onclick: () => void this._runAgain()
        }, 'Run again'),
        h('button', {
          class: 'jp-flows-button jp-flows-restart',
          disabled: !this.model.canRestart,
          title: 'Run the failed, cancelled and not-run task runs again, keeping what succeeded',
          onclick: () => void this._restart()
        }, 'Restart from failure'),
        h('button', {
          class: 'jp-flows-button jp-mod-warn jp-flows-cancel',
          disabled: !this.model.canCancel,
          onclick: () => void this._cancel()
        }, 'Cancel'),
        h('button', { class: 'jp-flows-button', onclick: () => void this.refresh() }, 'Refresh'))
    );
  }

  private _renderTasks(): void {
    const rows = this.model.taskRows();
    replaceChildren(
      this._tasks,
      rows.length
        ? h('table', { class: 'jp-flows-table jp-flows-tasks' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Task'), h('th', {}, 'State'), h('th', {}, 'Mapped'),
                                   h('th', {}, 'Duration'), h('th', {}, 'At'))),
            h('tbody', {}, rows.map(row =>
              h('tr', { class: 'jp-flows-task', 'data-slug': row.slug, 'data-state': row.state, title: row.message ?? '' },
                h('td', {}, row.name, row.name !== row.slug ? h('span', { class: 'jp-flows-muted' }, ` ${row.slug}`) : null),
                h('td', {}, h('span', { class: `jp-flows-state ${stateClass(row.state)}` }, row.state)),
                h('td', {}, row.children
                  ? `${row.children.finished}/${row.children.total}` + (row.children.failed ? ` (${row.children.failed} failed)` : '')
                  : ''),
                h('td', {}, formatDuration(row.duration)),
                h('td', {}, row.offset !== null ? `+${formatDuration(row.offset)}` : '')))))
        : h('div', { class: 'jp-flows-muted' }, 'No task has run yet.')
    );
  }

  private _renderTimeline(): void {
    const states = this.model.states;
    replaceChildren(
      this._timeline,
      h('ol', { class: 'jp-flows-timeline' }, states.map((record, index) => {
        const next = states[index + 1];
        const start = parseTime(record.timestamp);
        const end = next ? parseTime(next.timestamp) : null;
        return h('li', { class: 'jp-flows-timeline-item', 'data-state': record.state },
          h('span', { class: `jp-flows-dot ${stateClass(record.state)}` }),
          h('span', { class: 'jp-flows-timeline-time' }, formatClock(record.timestamp)),
          h('span', { class: `jp-flows-state ${stateClass(record.state)}` }, record.state),
          end !== null && start !== null ? h('span', { class: 'jp-flows-muted' }, ` ${formatDuration(end - start)}`) : null,
          record.message ? h('div', { class: 'jp-flows-timeline-message' }, record.message) : null);
      }))
    );
  }

  private _renderConfig(run: FlowRun | null): void {
    if (!run) {
      replaceChildren(this._config);
      return;
    }
    const table = (title: string, cls: string, value: JSONValue, type?: string): HTMLElement => {
      const rows = configRows(value);
      return h('div', { class: `jp-flows-column ${cls}` },
        h('div', { class: 'jp-flows-section-title' }, type ? `${title}: ${type}` : title),
        rows.length
          ? h('table', { class: 'jp-flows-table jp-flows-kv' }, h('tbody', {}, rows.map(([key, text]) =>
              h('tr', {}, h('th', {}, key), h('td', {}, text)))))
          : h('div', { class: 'jp-flows-muted' }, '(defaults)'));
    };
    replaceChildren(
      this._config,
      table('Run config', 'jp-flows-runconfig', run.run_config, configType(run.run_config, 'none')),
      table('Executor', 'jp-flows-executor', run.executor, configType(run.executor)),
      table('Parameters', 'jp-flows-parameters', run.parameters)
    );
  }

  private _renderLogs(): void {
    const logs = this.model.logs;
    const first = logs[0]?.id ?? 0;
    if (first > this._firstLogId || !logs.length) {
      // older lines were dropped: start over
      replaceChildren(this._logs);
      this._lastLogId = 0;
    }
    this._firstLogId = first;
    const fresh = logs.filter(record => record.id > this._lastLogId);
    if (!fresh.length) {
      if (!logs.length) {
        replaceChildren(this._logs, h('span', { class: 'jp-flows-muted' }, 'No logs yet.'));
      }
      return;
    }
    this._logs.querySelector(':scope > .jp-flows-muted')?.remove();
    const atBottom = this._logs.scrollTop + this._logs.clientHeight >= this._logs.scrollHeight - 4;
    this._logs.append(...fresh.map(logLine));
    this._lastLogId = fresh[fresh.length - 1]!.id;
    if (atBottom) {
      this._logs.scrollTop = this._logs.scrollHeight;
    }
  }

  private _options: RunViewOptions;
  private _header = h('div', { class: 'jp-flows-runview-header' });
  private _banner = h('div', { class: 'jp-flows-banner' });
  private _dag = h('div', { class: 'jp-flows-dag-container' });
  private _tasks = h('div', { class: 'jp-flows-task-runs' });
  private _timeline = h('div', { class: 'jp-flows-states' });
  private _config = h('div', { class: 'jp-flows-columns jp-flows-config' });
  private _logs = h('pre', { class: 'jp-flows-logs' });
  private _lastLogId = 0;
  private _firstLogId = 0;
}

function logLine(record: LogRecord): HTMLElement {
  const task = record.task_slug
    ? ` [${record.task_slug}${record.map_index !== null ? `[${record.map_index}]` : ''}]`
    : '';
  return h('div', { class: `jp-flows-log jp-flows-log-${record.level.toLowerCase()}` },
    `${formatClock(record.timestamp)} ${record.level.padEnd(7)}${task} ${record.message}`);
}
