/**
 * What the extension tells the kernel about its notebook (the kernel side is
 * jupyter_flows/notebook/frontend.py): the notebook's path and every code cell by id, with
 * its source when it is a `%%task` cell. The kernel marks registered cells whose source
 * differs as stale and drops those whose cell is gone or no longer a `%%task` cell.
 */

/** The comm target the kernel registers when `%load_ext jupyter_flows` runs. */
export const COMM_TARGET = 'jupyter_flows.notebook';

export interface CellSource {
  id: string;
  source: string | null;
}

export interface NotebookSnapshot {
  path: string;
  cells: CellSource[];
}

/** A code cell as the notebook model has it. */
export interface CodeCellLike {
  id: string;
  type: string;
  source: string;
}

/** Whether `source` is a `%%task` cell: its first non-blank line is `%%task` or `%%task …`. */
export function isTaskCell(source: string): boolean {
  const first = source.split('\n').find(line => line.trim() !== '') ?? '';
  return first === '%%task' || first.startsWith('%%task ');
}

/** The message for the kernel: code cells only, sources only for `%%task` cells. */
export function notebookSnapshot(path: string, cells: Iterable<CodeCellLike>): NotebookSnapshot {
  const code: CellSource[] = [];
  for (const cell of cells) {
    if (cell.type === 'code') {
      code.push({ id: cell.id, source: isTaskCell(cell.source) ? cell.source : null });
    }
  }
  return { path, cells: code };
}
