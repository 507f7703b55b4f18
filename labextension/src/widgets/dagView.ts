/**
 * The flow's DAG as SVG, each task coloured by its state (layout in models/dag.ts).
 */
import { DagLayout, DEFAULT_LAYOUT, NodeState } from '../models/dag';
import { stateClass } from '../models/states';
import { s } from './dom';

const MAX_LABEL = 20;

function clip(text: string): string {
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

/** An `<svg>` of the layout; nodes without a task run yet are drawn as Pending. */
export function renderDag(layout: DagLayout, states: Map<string, NodeState>): SVGSVGElement {
  const { nodeWidth, nodeHeight } = DEFAULT_LAYOUT;
  const svg = s('svg', {
    class: 'jp-flows-dag',
    width: layout.width,
    height: layout.height,
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    role: 'img',
    'aria-label': 'flow graph'
  });
  svg.append(
    s('defs', {},
      s('marker', { id: 'jp-flows-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5,
                    markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'jp-flows-dag-arrow' })))
  );
  for (const edge of layout.edges) {
    svg.append(
      s('path', {
        class: `jp-flows-dag-edge${edge.mapped ? ' jp-flows-dag-edge-mapped' : ''}`,
        d: edge.path,
        'marker-end': 'url(#jp-flows-arrow)'
      },
      s('title', {}, `${edge.from} → ${edge.to}${edge.key ? ` (${edge.key})` : ''}${edge.mapped ? ', mapped' : ''}`))
    );
  }
  for (const node of layout.nodes) {
    const state = states.get(node.slug);
    const name = state?.state || 'Pending';
    const children = state?.children.total
      ? ` ${state.children.finished}/${state.children.total}`
      : '';
    const tooltip = `${node.slug}: ${name}${children}${state?.message ? ` — ${state.message}` : ''}`;
    svg.append(
      s('g', {
        class: `jp-flows-dag-node ${stateClass(name)}`,
        'data-slug': node.slug,
        'data-state': name,
        transform: `translate(${node.x},${node.y})`
      },
      s('title', {}, tooltip),
      node.mapped
        ? s('rect', { class: 'jp-flows-dag-shadow', x: 4, y: 4, rx: 6, width: nodeWidth, height: nodeHeight })
        : null,
      s('rect', {
        class: `jp-flows-dag-box${node.isParameter ? ' jp-flows-dag-parameter' : ''}`,
        rx: 6, width: nodeWidth, height: nodeHeight
      }),
      s('text', { class: 'jp-flows-dag-label', x: 10, y: 14 }, clip(node.name)),
      s('text', { class: 'jp-flows-dag-sublabel', x: 10, y: 27 }, `${name}${children}`))
    );
  }
  return svg;
}
