/**
 * Laying out a flow's DAG for an SVG, and the state each node shows.
 *
 * Layers by topological depth (a node sits one column right of its deepest upstream),
 * then, column by column, nodes are ordered by the mean row of their upstream nodes
 * (one barycentre pass keeps most edges short and straight). No graphviz in the browser.
 */
import type { FlowSpec, TaskRun } from '../types';
import { isFinished, stateCategory } from './states';

export interface DagNode {
  slug: string;
  name: string;
  layer: number;
  row: number;
  x: number;
  y: number;
  mapped: boolean;
  isParameter: boolean;
}

export interface DagEdge {
  from: string;
  to: string;
  key: string | null;
  mapped: boolean;
  /** An SVG path from the right side of `from` to the left side of `to`. */
  path: string;
}

export interface DagLayout {
  nodes: DagNode[];
  edges: DagEdge[];
  width: number;
  height: number;
}

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  columnGap: number;
  rowGap: number;
  margin: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = {
  nodeWidth: 150,
  nodeHeight: 34,
  columnGap: 56,
  rowGap: 14,
  margin: 8
};

/** The depth of each task: 0 for tasks with no upstream, else 1 + the deepest upstream. */
export function topologicalDepths(spec: FlowSpec): Map<string, number> {
  const slugs = spec.tasks.map(task => task.slug);
  const known = new Set(slugs);
  const upstream = new Map<string, string[]>(slugs.map(slug => [slug, []]));
  const downstream = new Map<string, string[]>(slugs.map(slug => [slug, []]));
  for (const edge of spec.edges) {
    if (known.has(edge.upstream) && known.has(edge.downstream)) {
      upstream.get(edge.downstream)!.push(edge.upstream);
      downstream.get(edge.upstream)!.push(edge.downstream);
    }
  }
  // Kahn's algorithm; the spec is acyclic, but a node left over would still get a column
  const waiting = new Map(slugs.map(slug => [slug, new Set(upstream.get(slug)).size]));
  const depth = new Map<string, number>();
  const queue = slugs.filter(slug => waiting.get(slug) === 0);
  while (queue.length) {
    const slug = queue.shift()!;
    const ups = upstream.get(slug)!;
    depth.set(slug, ups.length ? Math.max(...ups.map(up => depth.get(up) ?? 0)) + 1 : 0);
    for (const down of new Set(downstream.get(slug))) {
      const left = waiting.get(down)! - 1;
      waiting.set(down, left);
      if (left === 0) {
        queue.push(down);
      }
    }
  }
  const deepest = Math.max(-1, ...depth.values());
  for (const slug of slugs) {
    if (!depth.has(slug)) {
      depth.set(slug, deepest + 1);
    }
  }
  return depth;
}

/** Positions for every task and a path for every edge of `spec`. */
export function layoutDag(spec: FlowSpec, options: Partial<LayoutOptions> = {}): DagLayout {
  const opt = { ...DEFAULT_LAYOUT, ...options };
  const depth = topologicalDepths(spec);
  const columns: string[][] = [];
  for (const task of spec.tasks) {
    const layer = depth.get(task.slug) ?? 0;
    (columns[layer] ??= []).push(task.slug);
  }
  const upstreamOf = new Map<string, string[]>();
  for (const edge of spec.edges) {
    append(upstreamOf, edge.downstream, edge.upstream);
  }
  const rowOf = new Map<string, number>();
  columns.forEach((column, layer) => {
    if (layer > 0) {
      const order = new Map(column.map((slug, index) => [slug, index]));
      const barycentre = (slug: string): number => {
        const rows = (upstreamOf.get(slug) ?? [])
          .map(up => rowOf.get(up))
          .filter((row): row is number => row !== undefined);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : order.get(slug)!;
      };
      column.sort((a, b) => barycentre(a) - barycentre(b) || order.get(a)! - order.get(b)!);
    }
    column.forEach((slug, row) => rowOf.set(slug, row));
  });

  const tallest = Math.max(0, ...columns.map(column => column.length));
  const columnHeight = (count: number): number =>
    count * opt.nodeHeight + Math.max(0, count - 1) * opt.rowGap;
  const height = columnHeight(tallest) + 2 * opt.margin;
  const tasks = new Map(spec.tasks.map(task => [task.slug, task]));
  const nodes: DagNode[] = [];
  columns.forEach((column, layer) => {
    // centre each column vertically
    const top = opt.margin + (columnHeight(tallest) - columnHeight(column.length)) / 2;
    column.forEach((slug, row) => {
      const task = tasks.get(slug)!;
      nodes.push({
        slug,
        name: task.name,
        layer,
        row,
        x: opt.margin + layer * (opt.nodeWidth + opt.columnGap),
        y: top + row * (opt.nodeHeight + opt.rowGap),
        mapped: task.mapped,
        isParameter: task.is_parameter
      });
    });
  });
  const bySlug = new Map(nodes.map(node => [node.slug, node]));
  const edges: DagEdge[] = [];
  for (const edge of spec.edges) {
    const from = bySlug.get(edge.upstream);
    const to = bySlug.get(edge.downstream);
    if (!from || !to) {
      continue;
    }
    const x1 = from.x + opt.nodeWidth;
    const y1 = from.y + opt.nodeHeight / 2;
    const x2 = to.x;
    const y2 = to.y + opt.nodeHeight / 2;
    const bend = Math.max(opt.columnGap / 2, (x2 - x1) / 2);
    edges.push({
      from: edge.upstream,
      to: edge.downstream,
      key: edge.key,
      mapped: edge.mapped,
      path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`
    });
  }
  const width = columns.length
    ? 2 * opt.margin + columns.length * opt.nodeWidth + (columns.length - 1) * opt.columnGap
    : 2 * opt.margin;
  return { nodes, edges, width, height };
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) {
    list.push(value);
  } else {
    map.set(key, [value]);
  }
}

/** What one DAG node shows: its state, and for a mapped task how its children are doing. */
export interface NodeState {
  state: string;
  message: string | null;
  children: { total: number; finished: number; failed: number };
}

/**
 * One state per task slug from the task runs: the parent's (map_index null) state, else
 * one derived from the children (Running while any runs, Failed if any failed).
 */
export function nodeStates(taskRuns: TaskRun[]): Map<string, NodeState> {
  const result = new Map<string, NodeState>();
  const get = (slug: string): NodeState => {
    let entry = result.get(slug);
    if (!entry) {
      entry = { state: '', message: null, children: { total: 0, finished: 0, failed: 0 } };
      result.set(slug, entry);
    }
    return entry;
  };
  const childStates = new Map<string, string[]>();
  for (const run of taskRuns) {
    const entry = get(run.task_slug);
    if (run.map_index === null) {
      entry.state = run.state;
      entry.message = run.message;
    } else {
      entry.children.total += 1;
      if (isFinished(run.state)) {
        entry.children.finished += 1;
      }
      if (stateCategory(run.state) === 'failed') {
        entry.children.failed += 1;
      }
      append(childStates, run.task_slug, run.state);
    }
  }
  for (const [slug, states] of childStates) {
    const entry = result.get(slug)!;
    if (!entry.state || !isFinished(entry.state)) {
      if (states.some(state => stateCategory(state) === 'running')) {
        entry.state = 'Running';
      } else if (entry.children.failed > 0 && states.every(isFinished)) {
        entry.state = 'Failed';
      } else if (!entry.state) {
        entry.state = states.every(isFinished) ? 'Mapped' : 'Running';
      }
    }
  }
  return result;
}
