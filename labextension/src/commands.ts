/**
 * The extension's command ids.
 */
export namespace CommandIDs {
  /** Open a run view: args `{id}` (a run id or a jupyter-flows://runs/<id> link); asks when missing. */
  export const openRun = 'jupyter-flows:open-run';
  /** Submit the current notebook's task cells with `%flow submit` and open the run. */
  export const runNotebook = 'jupyter-flows:run-notebook';
  /** Schedule the current notebook's task cells (`%flow schedule`) from a dialog. */
  export const scheduleNotebook = 'jupyter-flows:schedule-notebook';
  /** Show the flows sidebar. */
  export const showPanel = 'jupyter-flows:show-panel';
  /** Refresh the sidebar now. */
  export const refresh = 'jupyter-flows:refresh';
}
