import * as React from 'react';

import type {
  CurrencyModel,
  IGraphEdge,
  IGraphNode,
  IGraphResponse,
  IOutdatedRow
} from '../currency';
import { Trans } from '../describe';

export interface IDependencyGraphProps {
  currency: CurrencyModel;
  trans: Trans;
  onOpen: (name: string) => void;
}

const ROW = 28;
const COLUMN = 150;

/**
 * The environment's dependency graph: what was asked for at the top, shared
 * dependencies drawn once with every edge into them, broken requirements and
 * outdated packages marked. A picture (SVG, hidden from screen readers) and the
 * same graph as a keyboard-navigable tree (role="tree").
 */
export function DependencyGraph(props: IDependencyGraphProps): JSX.Element {
  const { currency, trans } = props;
  const state = currency.graph;
  if (state.status !== 'ready' || !state.response) {
    return (
      <div
        className="jp-EnvHelper-message"
        role={state.status === 'error' ? 'alert' : 'status'}
      >
        {state.status === 'error'
          ? (state.error?.message ?? trans.__('Could not read the graph.'))
          : trans.__('Reading the dependency graph…')}
      </div>
    );
  }
  const graph = state.response;
  const rows = currency.rows;
  return (
    <div className="jp-EnvHelper-graph">
      <div className="jp-EnvHelper-graphLegend">
        {graph.focus && (
          <button
            className="jp-mod-styled"
            onClick={() => void currency.loadGraph()}
          >
            {trans.__('Whole environment')}
          </button>
        )}
        <span className="jp-EnvHelper-graphKey jp-mod-requested">
          {trans.__('asked for')}
        </span>
        <span className="jp-EnvHelper-graphKey jp-mod-outdated">
          {trans.__('outdated')}
        </span>
        <span className="jp-EnvHelper-graphKey jp-mod-broken">
          {trans.__('broken')}
        </span>
        <span className="jp-EnvHelper-graphKey jp-mod-orphan">
          {trans.__('orphan')}
        </span>
      </div>
      <GraphPicture graph={graph} rows={rows} />
      <GraphTree
        graph={graph}
        rows={rows}
        trans={trans}
        onFocus={name => void currency.loadGraph(name)}
        onOpen={props.onOpen}
      />
    </div>
  );
}

function nodeClass(node: IGraphNode, row: IOutdatedRow | undefined): string {
  const classes = ['jp-EnvHelper-graphNode'];
  if (node.requested) {
    classes.push('jp-mod-requested');
  }
  if (node.orphan) {
    classes.push('jp-mod-orphan');
  }
  if (row && (row.status === 'update' || row.status === 'held-back')) {
    classes.push('jp-mod-outdated');
  }
  return classes.join(' ');
}

/**
 * Layers by depth (roots on top); one box per package, so a shared
 * dependency has several edges in.
 */
function GraphPicture(props: {
  graph: IGraphResponse;
  rows: Map<string, IOutdatedRow>;
}): JSX.Element {
  const { graph, rows } = props;
  const layers = new Map<number, IGraphNode[]>();
  for (const node of graph.nodes) {
    const layer = layers.get(node.depth) ?? [];
    layer.push(node);
    layers.set(node.depth, layer);
  }
  const place = new Map<string, { x: number; y: number }>();
  let width = 0;
  const depths = [...layers.keys()].sort((a, b) => a - b);
  depths.forEach((depth, level) => {
    layers.get(depth)!.forEach((node, index) => {
      place.set(node.canonical_name, {
        x: index * COLUMN + 4,
        y: level * ROW * 2 + 4
      });
      width = Math.max(width, (index + 1) * COLUMN + 8);
    });
  });
  const height = depths.length * ROW * 2 + 8;
  const broken = new Set(graph.broken.map(e => `${e.parent}>${e.child}`));
  return (
    <div className="jp-EnvHelper-graphScroll">
      <svg
        className="jp-EnvHelper-graphSvg"
        width={width}
        height={height}
        aria-hidden="true"
        focusable="false"
      >
        {graph.edges.map((edge: IGraphEdge) => {
          const from = place.get(edge.parent);
          const to = place.get(edge.child);
          if (!from || !to) {
            return null;
          }
          const bad = broken.has(`${edge.parent}>${edge.child}`);
          return (
            <line
              key={`${edge.parent}>${edge.child}`}
              className={`jp-EnvHelper-graphEdge${bad ? ' jp-mod-broken' : ''}`}
              x1={from.x + (COLUMN - 12) / 2}
              y1={from.y + ROW - 6}
              x2={to.x + (COLUMN - 12) / 2}
              y2={to.y}
            />
          );
        })}
        {graph.nodes.map(node => {
          const at = place.get(node.canonical_name)!;
          return (
            <g
              key={node.canonical_name}
              className={nodeClass(node, rows.get(node.canonical_name))}
              transform={`translate(${at.x},${at.y})`}
            >
              <rect width={COLUMN - 12} height={ROW - 6} rx={4} />
              <text x={6} y={ROW / 2}>
                {`${node.name} ${node.version}`.slice(0, 20)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/**
 * The graph as a tree: roots first, each package's requirements under it.
 * Arrow keys move (up/down) and open or close (right/left), Enter focuses the
 * graph on a package.
 */
function GraphTree(props: {
  graph: IGraphResponse;
  rows: Map<string, IOutdatedRow>;
  trans: Trans;
  onFocus: (name: string) => void;
  onOpen: (name: string) => void;
}): JSX.Element {
  const { graph, rows, trans } = props;
  const nodes = new Map(graph.nodes.map(n => [n.canonical_name, n]));
  const children = new Map<string, IGraphEdge[]>();
  for (const edge of [...graph.edges, ...graph.broken]) {
    const list = children.get(edge.parent) ?? [];
    if (!list.some(e => e.child === edge.child)) {
      list.push(edge);
    }
    children.set(edge.parent, list);
  }
  const tops = graph.nodes
    .filter(n => n.depth === 0)
    .map(n => n.canonical_name);
  const [open, setOpen] = React.useState<Set<string>>(new Set());
  const toggle = (key: string, value?: boolean) => {
    const next = new Set(open);
    if (value ?? !next.has(key)) {
      next.add(key);
    } else {
      next.delete(key);
    }
    setOpen(next);
  };
  const onKeyDown = (event: React.KeyboardEvent<HTMLUListElement>) => {
    const items = Array.from(
      event.currentTarget.querySelectorAll<HTMLElement>('[role="treeitem"]')
    );
    const current = items.indexOf(document.activeElement as HTMLElement);
    if (current < 0) {
      return;
    }
    const item = items[current];
    const key = item.dataset.path ?? '';
    if (event.key === 'ArrowDown') {
      items[Math.min(items.length - 1, current + 1)].focus();
    } else if (event.key === 'ArrowUp') {
      items[Math.max(0, current - 1)].focus();
    } else if (event.key === 'ArrowRight') {
      toggle(key, true);
    } else if (event.key === 'ArrowLeft') {
      toggle(key, false);
    } else if (event.key === 'Enter') {
      props.onFocus(item.dataset.name ?? '');
    } else {
      return;
    }
    event.preventDefault();
  };
  const render = (
    key: string,
    path: string,
    edge: IGraphEdge | null,
    seen: Set<string>,
    level: number
  ): JSX.Element => {
    const node = nodes.get(key);
    const kids = children.get(key) ?? [];
    const expandable = kids.length > 0 && !seen.has(key);
    const expanded = expandable && open.has(path);
    const row = rows.get(key);
    const broken = edge !== null && !edge.satisfied;
    const words = [
      node ? `${node.name} ${node.version}` : key,
      edge ? trans.__('(needs %1)', edge.requirement) : '',
      node?.requested ? trans.__('asked for') : '',
      broken
        ? edge!.installed
          ? trans.__('broken: the installed version does not fit')
          : trans.__('broken: not installed')
        : '',
      row && (row.status === 'update' || row.status === 'held-back')
        ? trans.__('newer: %1', row.fit ?? row.latest ?? '')
        : '',
      node?.orphan ? trans.__('orphan: nothing needs it') : '',
      seen.has(key) ? trans.__('shown above') : ''
    ].filter(Boolean);
    return (
      <li
        key={path}
        role="treeitem"
        tabIndex={level === 1 && path === tops[0] ? 0 : -1}
        aria-level={level}
        aria-expanded={expandable ? expanded : undefined}
        aria-label={words.join(', ')}
        data-path={path}
        data-name={node?.name ?? key}
        className={
          (node ? nodeClass(node, row) : 'jp-EnvHelper-graphNode') +
          (broken ? ' jp-mod-broken' : '')
        }
        onClick={event => {
          event.stopPropagation();
          toggle(path);
        }}
        onDoubleClick={event => {
          event.stopPropagation();
          props.onOpen(node?.name ?? key);
        }}
      >
        <span className="jp-EnvHelper-graphLabel" aria-hidden="true">
          {expandable ? (expanded ? '▾ ' : '▸ ') : '  '}
          {words.join(' · ')}
        </span>
        {expanded && (
          <ul role="group">
            {kids.map(k =>
              render(
                k.child,
                `${path}/${k.child}`,
                k,
                new Set([...seen, key]),
                level + 1
              )
            )}
          </ul>
        )}
      </li>
    );
  };
  return (
    <ul
      className="jp-EnvHelper-graphTree"
      role="tree"
      aria-label={trans.__('Dependencies')}
      onKeyDown={onKeyDown}
    >
      {tops.map(key => render(key, key, null, new Set(), 1))}
    </ul>
  );
}
