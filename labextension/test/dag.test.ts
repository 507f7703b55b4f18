import { describe, expect, it } from 'vitest';

import { layoutDag, nodeStates, topologicalDepths } from '../src/models/dag';
import type { FlowSpec, TaskRun } from '../src/types';
import { edgeSpec, SPEC, taskSpec } from './fixtures';

function spec(slugs: string[], edges: [string, string][]): FlowSpec {
  return {
    name: 'f',
    tasks: slugs.map(slug => taskSpec({ slug })),
    edges: edges.map(([upstream, downstream]) => edgeSpec(upstream, downstream)),
    parameters: [],
    reference_tasks: [],
    schedule: null,
    code_location: null
  };
}

describe('topologicalDepths', () => {
  it.each<[string, FlowSpec, Record<string, number>]>([
    ['a chain', spec(['a', 'b', 'c'], [['a', 'b'], ['b', 'c']]), { a: 0, b: 1, c: 2 }],
    ['a diamond', spec(['a', 'b', 'c', 'd'], [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']]),
     { a: 0, b: 1, c: 1, d: 2 }],
    ['the deepest upstream wins', spec(['a', 'b', 'c'], [['a', 'b'], ['b', 'c'], ['a', 'c']]),
     { a: 0, b: 1, c: 2 }],
    ['unconnected tasks', spec(['a', 'b'], []), { a: 0, b: 0 }],
    ['two edges between one pair', spec(['a', 'b'], [['a', 'b'], ['a', 'b']]), { a: 0, b: 1 }],
    ['edges to unknown tasks are ignored', spec(['a'], [['ghost', 'a']]), { a: 0 }],
    ['a cycle still gets columns', spec(['a', 'b', 'c'], [['a', 'b'], ['b', 'c'], ['c', 'b']]),
     { a: 0, b: 1, c: 1 }]
  ])('%s', (_name, flowSpec, expected) => {
    expect(Object.fromEntries(topologicalDepths(flowSpec))).toEqual(expected);
  });
});

describe('layoutDag', () => {
  it('puts each layer in a column, left to right', () => {
    const layout = layoutDag(SPEC, { nodeWidth: 100, columnGap: 50, margin: 0 });
    const x = Object.fromEntries(layout.nodes.map(node => [node.slug, node.x]));
    expect(x).toEqual({ n: 0, 'extract-1': 150, 'double-1': 300, 'total-1': 450 });
    expect(layout.width).toBe(4 * 100 + 3 * 50);
    expect(layout.edges).toHaveLength(3);
    expect(layout.edges[1]).toMatchObject({ from: 'extract-1', to: 'double-1', mapped: true });
    expect(layout.edges[0]!.path).toMatch(/^M100,\d+(\.\d+)? C/);
  });

  it('orders a column by the rows of its upstream tasks', () => {
    // c2 hangs off b (row 1), c1 off a (row 0): c1 goes first although listed second
    const layout = layoutDag(spec(['a', 'b', 'c2', 'c1'], [['b', 'c2'], ['a', 'c1']]));
    const rows = Object.fromEntries(layout.nodes.map(node => [node.slug, node.row]));
    expect(rows).toEqual({ a: 0, b: 1, c1: 0, c2: 1 });
  });

  it('centres shorter columns and sizes the drawing to the tallest', () => {
    const layout = layoutDag(spec(['a', 'b', 'c', 'd'], [['a', 'd'], ['b', 'd'], ['c', 'd']]),
                             { nodeHeight: 20, rowGap: 10, margin: 0 });
    expect(layout.height).toBe(3 * 20 + 2 * 10);
    expect(layout.nodes.find(node => node.slug === 'd')!.y).toBe(30);
  });

  it('lays out an empty flow', () => {
    expect(layoutDag(spec([], []))).toMatchObject({ nodes: [], edges: [] });
  });
});

describe('nodeStates', () => {
  const run = (task_slug: string, map_index: number | null, state: string): TaskRun =>
    ({ task_slug, map_index, state, message: null, timestamp: '2026-01-01T00:00:00Z', started: null, location: null });

  it('uses the parent state and counts mapped children', () => {
    const states = nodeStates([
      run('a', null, 'Success'),
      run('m', null, 'Mapped'),
      run('m', 0, 'Success'),
      run('m', 1, 'Failed'),
      run('m', 2, 'Success')
    ]);
    expect(states.get('a')).toMatchObject({ state: 'Success', children: { total: 0 } });
    expect(states.get('m')).toMatchObject({ state: 'Mapped', children: { total: 3, finished: 3, failed: 1 } });
  });

  it('shows a mapped task as Running while a child runs, Failed once a child failed', () => {
    expect(nodeStates([run('m', 0, 'Success'), run('m', 1, 'Running')]).get('m')!.state).toBe('Running');
    expect(nodeStates([run('m', 0, 'Success'), run('m', 1, 'Failed')]).get('m')!.state).toBe('Failed');
    expect(nodeStates([run('m', 0, 'Success')]).get('m')!.state).toBe('Mapped');
    expect(nodeStates([run('m', null, 'Running'), run('m', 0, 'Success')]).get('m')!.state).toBe('Running');
  });
});
