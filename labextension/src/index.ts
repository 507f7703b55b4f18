/**
 * jupyter-flows for JupyterLab: the sidebar, run views, "Run notebook as flow" and run links.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  showDialog,
  ToolbarButton,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate } from '@lumino/disposable';

import { CellSync } from './cellSync';
import { CommandIDs } from './commands';
import { openEventSource, requestAPI } from './handler';
import { flowsIcon } from './icons';
import { handleRunLinks, watchOutputs } from './links';
import { BackendAPI } from './models/api';
import { errorText } from './models/errors';
import { shortId } from './models/format';
import { parseRunRef, runLink } from './models/runLink';
import { RunModel } from './models/runModel';
import { SidebarModel } from './models/sidebarModel';
import { scheduleCode } from './models/scheduleMagic';
import { runFlowMagic, submitNotebook } from './notebook';
import { RunView } from './widgets/runView';
import { ScheduleForm } from './widgets/scheduleForm';
import { FlowsSidebar } from './widgets/sidebar';

export { CommandIDs } from './commands';
export { requestAPI } from './handler';

const PLUGIN_ID = 'jupyter-flows:plugin';

function notify(message: string, kind: 'success' | 'error' | 'info' = 'info'): void {
  Notification.emit(message, kind, { autoClose: kind === 'error' ? false : 5000 });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Flows, live runs and agents of the jupyter-flows backend; run notebooks as flows.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null
  ) => {
    const api = new BackendAPI(requestAPI, openEventSource);
    const sidebar = new FlowsSidebar({
      model: new SidebarModel(api),
      openRun: id => void app.commands.execute(CommandIDs.openRun, { id })
    });
    sidebar.title.icon = flowsIcon;
    app.shell.add(sidebar, 'left', { rank: 850 });

    const runViews = new WidgetTracker<MainAreaWidget<RunView>>({ namespace: 'jupyter-flows-run' });
    // each notebook's task cells, told to its kernel (stale and deleted cells: issue 10)
    const syncs = new WeakMap<NotebookPanel, CellSync>();

    app.commands.addCommand(CommandIDs.openRun, {
      label: args => (args['id'] ? `Open Flow Run ${shortId(String(args['id']))}` : 'Open Flow Run…'),
      caption: 'Open the run view of a flow run (by id or jupyter-flows://runs/<id>)',
      icon: flowsIcon,
      execute: async args => {
        let id = parseRunRef(args['id'] as string | undefined);
        if (!id) {
          const answer = await InputDialog.getText({
            title: 'Open flow run',
            label: 'Run id or jupyter-flows://runs/<id>',
            placeholder: runLink('…')
          });
          if (!answer.button.accept) {
            return null;
          }
          id = parseRunRef(answer.value);
          if (!id) {
            notify(`Not a flow run id or link: ${answer.value ?? ''}`, 'error');
            return null;
          }
        }
        const open = runViews.find(widget => widget.content.runId === id);
        if (open) {
          app.shell.activateById(open.id);
          void open.content.refresh();
          return open;
        }
        const content = new RunView({
          model: new RunModel(api, id),
          openRun: next => void app.commands.execute(CommandIDs.openRun, { id: next }),
          runsChanged: () => void sidebar.refresh(),
          notify
        });
        const widget = new MainAreaWidget({ content });
        widget.id = `jupyter-flows-run-${id}`;
        widget.title.icon = flowsIcon;
        content.title.changed.connect(() => {
          widget.title.label = content.title.label;
          widget.title.caption = content.title.caption;
        });
        widget.title.label = content.title.label;
        void runViews.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    app.commands.addCommand(CommandIDs.showPanel, {
      label: 'Show Flows Panel',
      icon: flowsIcon,
      execute: () => app.shell.activateById(sidebar.id)
    });

    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Flows Panel',
      execute: () => sidebar.refresh()
    });

    /** The notebook a command acts on: args `{notebook: id}` (a toolbar button), else the current one. */
    const notebookFor = (args: { [key: string]: unknown }): NotebookPanel | null =>
      (args['notebook'] ? notebooks?.find(nb => nb.id === args['notebook']) : undefined) ??
      notebooks?.currentWidget ?? null;

    app.commands.addCommand(CommandIDs.runNotebook, {
      label: 'Run Notebook as Flow',
      caption: 'Submit this notebook\'s task cells as a flow run (%flow submit in its kernel)',
      icon: flowsIcon,
      isEnabled: () => !!notebooks?.currentWidget,
      execute: async args => {
        const panel = notebookFor(args);
        if (!panel) {
          notify('Open a notebook first: "Run Notebook as Flow" submits its task cells.', 'error');
          return null;
        }
        const pending = Notification.emit(`Submitting ${panel.title.label} as a flow…`, 'in-progress', {
          autoClose: false
        });
        try {
          const id = await submitNotebook(panel, undefined, () => syncs.get(panel)?.send());
          Notification.update({
            id: pending,
            message: `Flow run ${shortId(id)} submitted from ${panel.title.label}`,
            type: 'success',
            autoClose: 5000
          });
          void sidebar.refresh();
          await app.commands.execute(CommandIDs.openRun, { id });
          return id;
        } catch (error) {
          Notification.update({ id: pending, message: errorText(error), type: 'error', autoClose: false });
          return null;
        }
      }
    });

    app.commands.addCommand(CommandIDs.scheduleNotebook, {
      label: 'Schedule Notebook as Flow…',
      caption: 'Register this notebook\'s task cells as a flow the backend runs on a schedule',
      icon: flowsIcon,
      isEnabled: () => !!notebooks?.currentWidget,
      execute: async args => {
        const panel = notebookFor(args);
        if (!panel) {
          notify('Open a notebook first: "Schedule Notebook as Flow" schedules its task cells.', 'error');
          return null;
        }
        const form = new ScheduleForm();
        const result = await showDialog({
          title: `Schedule ${panel.title.label} as a flow`,
          body: form,
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Schedule' })],
          focusNodeSelector: '.jp-flows-schedule-when'
        });
        if (!result.button.accept || !result.value) {
          return null;
        }
        const { code, error } = scheduleCode(result.value);
        if (!code) {
          notify(error ?? 'not a schedule', 'error');
          return null;
        }
        try {
          const output = await runFlowMagic(panel, code, '%flow schedule', () => syncs.get(panel)?.send());
          notify(output.trim().split('\n').slice(0, 3).join(' · ') || 'scheduled', 'success');
          void sidebar.refresh();
          return output;
        } catch (error) {
          notify(errorText(error), 'error');
          return null;
        }
      }
    });

    if (notebooks) {
      app.docRegistry.addWidgetExtension('Notebook', {
        createNew: (panel: NotebookPanel) => {
          const button = new ToolbarButton({
            className: 'jp-flows-run-notebook',
            icon: flowsIcon,
            label: 'Run as flow',
            tooltip: 'Run notebook as flow: submit its task cells (%flow submit) and open the run',
            onClick: () => void app.commands.execute(CommandIDs.runNotebook, { notebook: panel.id })
          });
          panel.toolbar.insertItem(10, 'jupyter-flows-run', button);
          const scheduleButton = new ToolbarButton({
            className: 'jp-flows-schedule-notebook',
            label: 'Schedule…',
            tooltip: 'Schedule notebook as flow: the backend runs its task cells on a schedule',
            onClick: () => void app.commands.execute(CommandIDs.scheduleNotebook, { notebook: panel.id })
          });
          panel.toolbar.insertItem(11, 'jupyter-flows-schedule', scheduleButton);
          const stopWatching = watchOutputs(panel.content.node);
          const sync = new CellSync(panel);
          syncs.set(panel, sync);
          return new DisposableDelegate(() => {
            stopWatching();
            sync.dispose();
            button.dispose();
            scheduleButton.dispose();
          });
        }
      });
    }
    handleRunLinks(document.body, id => void app.commands.execute(CommandIDs.openRun, { id }));

    if (palette) {
      const category = 'jupyter-flows';
      for (const command of [CommandIDs.openRun, CommandIDs.runNotebook, CommandIDs.scheduleNotebook,
                             CommandIDs.showPanel, CommandIDs.refresh]) {
        palette.addItem({ command, category });
      }
    }
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
      void restorer.restore(runViews, {
        command: CommandIDs.openRun,
        args: widget => ({ id: widget.content.runId }),
        name: widget => widget.content.runId
      });
    }
  }
};

export default plugin;
