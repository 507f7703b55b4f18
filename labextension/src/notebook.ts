/**
 * "Run notebook as flow": `%flow submit` in the notebook's own kernel, which registers the
 * notebook's task cells as a flow and creates a run; the run id comes back in its output
 * as `jupyter-flows://runs/<id>`.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { KernelMessage } from '@jupyterlab/services';

import { errorSummary, outputText } from './models/kernelOutput';
import { findRunIds } from './models/runLink';

/** What the button runs; loading the extension first makes the magic available. */
export const SUBMIT_CODE = '%load_ext jupyter_flows\n%flow submit';

export class SubmitError extends Error {
  constructor(
    message: string,
    readonly output: string
  ) {
    super(message);
    this.name = 'SubmitError';
  }
}

/**
 * Run `%flow submit` in the panel's kernel; resolves to the created run's id. `beforeSubmit`
 * runs just before the request goes out (it tells the kernel the cells as they are now).
 */
export async function submitNotebook(
  panel: NotebookPanel,
  code = SUBMIT_CODE,
  beforeSubmit?: () => void
): Promise<string> {
  const output = await runFlowMagic(panel, code, '%flow submit', beforeSubmit);
  const ids = findRunIds(output);
  if (!ids.length) {
    const said = output.trim() ? `; it printed: ${output.trim().slice(0, 300)}` : '';
    throw new SubmitError(`%flow submit printed no jupyter-flows://runs/<id> link${said}`, output);
  }
  return ids[ids.length - 1]!;
}

/**
 * Run a `%flow` magic's `code` in the panel's kernel and resolve to what it printed; a
 * failure (named `what`) rejects with a SubmitError carrying the kernel's message.
 */
export async function runFlowMagic(
  panel: NotebookPanel,
  code: string,
  what: string,
  beforeRun?: () => void
): Promise<string> {
  const sessionContext = panel.sessionContext;
  await sessionContext.ready;
  const kernel = sessionContext.session?.kernel;
  if (!kernel) {
    throw new SubmitError(`this notebook has no running kernel: start one, run the task cells, then ${what}`, '');
  }
  beforeRun?.();
  const future = kernel.requestExecute({
    code,
    silent: false,
    store_history: false,
    allow_stdin: false,
    stop_on_error: true
  });
  const chunks: string[] = [];
  let failure: string | null = null;
  future.onIOPub = (msg: KernelMessage.IIOPubMessage): void => {
    const type = msg.header.msg_type;
    const text = outputText(type, msg.content as never);
    if (type === 'error') {
      failure = text;
    }
    if (text) {
      chunks.push(text);
    }
  };
  const reply = await future.done;
  const output = chunks.join('');
  const content = reply.content;
  if (content.status !== 'ok') {
    const summary = content.status === 'error' ? errorSummary(content) : content.status;
    throw new SubmitError(`${what} failed: ${failure ?? summary}`, output);
  }
  return output;
}
