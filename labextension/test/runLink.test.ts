import { describe, expect, it } from 'vitest';

import { findRunIds, parseRunRef, runLink, splitRunLinks } from '../src/models/runLink';

describe('run links', () => {
  it('finds run ids in output text', () => {
    const text = 'flow run created: jupyter-flows://runs/abc123\nand jupyter-flows://runs/def-456.';
    expect(findRunIds(text)).toEqual(['abc123', 'def-456']);
    expect(findRunIds('nothing here')).toEqual([]);
  });

  it.each<[string | null, string | null]>([
    ['jupyter-flows://runs/abc123', 'abc123'],
    ['  abc123  ', 'abc123'],
    ['see jupyter-flows://runs/x_1 now', 'x_1'],
    ['not an id!', null],
    ['', null],
    [null, null]
  ])('parses %s', (input, id) => {
    expect(parseRunRef(input)).toBe(id);
  });

  it('splits text around links', () => {
    expect(splitRunLinks(`run ${runLink('r1')} ok`)).toEqual([
      'run ',
      { id: 'r1', text: 'jupyter-flows://runs/r1' },
      ' ok'
    ]);
    expect(splitRunLinks('plain')).toEqual(['plain']);
  });
});
