import { describe, expect, it } from 'vitest';

import { isTaskCell, notebookSnapshot } from '../src/models/cellSnapshot';

describe('isTaskCell', () => {
  it('reads the first line as IPython does', () => {
    expect(isTaskCell('%%task load\nrows = 1')).toBe(true);
    expect(isTaskCell('\n\n%%task\nrows = 1')).toBe(true);
    expect(isTaskCell('%%taskx\nrows = 1')).toBe(false);
    expect(isTaskCell('# %%task\nrows = 1')).toBe(false);
    expect(isTaskCell('rows = 1\n%%task')).toBe(false);
  });
});

describe('notebookSnapshot', () => {
  it('lists every code cell, with the source of task cells only', () => {
    const snapshot = notebookSnapshot('work/sales.ipynb', [
      { id: 'a', type: 'code', source: '%load_ext jupyter_flows' },
      { id: 'b', type: 'markdown', source: '%%task not code' },
      { id: 'c', type: 'code', source: '%%task load\nrows = [1]' }
    ]);
    expect(snapshot).toEqual({
      path: 'work/sales.ipynb',
      cells: [
        { id: 'a', source: null },
        { id: 'c', source: '%%task load\nrows = [1]' }
      ]
    });
  });
});
