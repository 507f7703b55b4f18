/**
 * Keeping the kernel told what the notebook's task cells say now (issue 10): a comm to the
 * kernel's `jupyter_flows.notebook` target carries a snapshot (models/cellSnapshot.ts)
 * whenever a cell of this notebook is scheduled to run, just before its execute request, and
 * before "Run as flow" submits. Shell messages keep their order, so the kernel always has the
 * notebook as it was when the command was run.
 *
 * Why a comm and not a silent execute: JSON, not code run in the user's namespace; nothing in
 * the history, the execution count or the outputs; a kernel without jupyter_flows loaded just
 * never sees it.
 *
 * The comm: the kernel opens one when `%load_ext jupyter_flows` runs (the target registered
 * here answers it). After a page reload that comm is gone from this side, so when a kernel
 * connects, a comm_info request asks whether the kernel has such a comm; if so this side
 * opens its own.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { NotebookActions } from '@jupyterlab/notebook';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';

import { COMM_TARGET, notebookSnapshot, NotebookSnapshot } from './models/cellSnapshot';

export class CellSync implements IDisposable {
  constructor(panel: NotebookPanel) {
    this._panel = panel;
    panel.sessionContext.kernelChanged.connect(this._onKernel, this);
    NotebookActions.executionScheduled.connect(this._onScheduled, this);
    void panel.sessionContext.ready.then(() => this._onKernel());
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Whether a comm to the kernel is open (the kernel has jupyter_flows loaded). */
  get connected(): boolean {
    return !!this._comm && !this._comm.isDisposed;
  }

  /** The notebook as it is now, for the kernel. */
  snapshot(): NotebookSnapshot {
    const cells = this._panel.content.model?.cells;
    const list = [];
    for (let i = 0; cells && i < cells.length; i++) {
      const cell = cells.get(i);
      list.push({ id: cell.id, type: cell.type, source: cell.sharedModel.getSource() });
    }
    return notebookSnapshot(this._panel.context.path, list);
  }

  /** Send the snapshot now, if the kernel listens; returns whether it was sent. */
  send(): boolean {
    const comm = this._comm;
    if (!comm || comm.isDisposed) {
      return false;
    }
    try {
      comm.send(this.snapshot() as never);
      return true;
    } catch (error) {
      console.warn('jupyter-flows: could not send the notebook to its kernel', error);
      return false;
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._panel.sessionContext.kernelChanged.disconnect(this._onKernel, this);
    NotebookActions.executionScheduled.disconnect(this._onScheduled, this);
    this._comm = null;
  }

  private _onScheduled(_sender: unknown, args: { notebook: unknown }): void {
    if (args.notebook === this._panel.content) {
      this.send();
    }
  }

  private _onKernel(): void {
    const kernel = this._panel.sessionContext.session?.kernel ?? null;
    if (this._disposed || kernel === this._kernel) {
      return;
    }
    this._kernel = kernel;
    this._comm = null;
    if (!kernel) {
      return;
    }
    kernel.registerCommTarget(COMM_TARGET, comm => this._use(comm));
    void this._reconnect(kernel);
  }

  /** A kernel that loaded jupyter_flows before this page connected: open a comm of our own. */
  private async _reconnect(kernel: Kernel.IKernelConnection): Promise<void> {
    let reply: KernelMessage.ICommInfoReplyMsg;
    try {
      reply = await kernel.requestCommInfo({ target_name: COMM_TARGET });
    } catch {
      return;
    }
    const content = reply.content;
    if (this._disposed || this.connected || kernel !== this._kernel || content.status !== 'ok') {
      return;
    }
    if (Object.keys(content.comms).length) {
      const comm = kernel.createComm(COMM_TARGET);
      comm.open(this.snapshot() as never);
      this._use(comm, false);
    }
  }

  private _use(comm: Kernel.IComm, greet = true): void {
    this._comm = comm;
    comm.onClose = () => {
      if (this._comm === comm) {
        this._comm = null;
      }
    };
    if (greet) {
      this.send();
    }
  }

  private readonly _panel: NotebookPanel;
  private _kernel: Kernel.IKernelConnection | null = null;
  private _comm: Kernel.IComm | null = null;
  private _disposed = false;
}
