/**
 * A trainee lab as a small graph: its namespaces on a circle, its links as lines. Read-only
 * and compact (a class of thirty shows thirty of them); the canvas is for one lab at a time.
 */
import { memo } from 'react';
import type { Topology } from '@nslab/model';

/** The drawing's size in SVG units (it scales with its box). */
const SIZE = 160;
const RADIUS = 58;

/** Where each node sits: on a circle, in name order, so a node keeps its place as others come and go. */
export function miniLayout(names: readonly string[]): Map<string, { x: number; y: number }> {
  const sorted = [...names].sort();
  const out = new Map<string, { x: number; y: number }>();
  sorted.forEach((name, i) => {
    if (sorted.length === 1) { out.set(name, { x: SIZE / 2, y: SIZE / 2 }); return; }
    const angle = (2 * Math.PI * i) / sorted.length - Math.PI / 2;
    out.set(name, { x: SIZE / 2 + RADIUS * Math.cos(angle), y: SIZE / 2 + RADIUS * Math.sin(angle) });
  });
  return out;
}

/** The small graph of one lab; its accessible name says what it holds. */
export const MiniGraph = memo(function MiniGraph({ lab, topology }: { lab: string; topology: Topology | undefined }) {
  if (!topology) return <div className="mini-graph loading" role="img" aria-label={`${lab}: loading`}>…</div>;
  const names = Object.keys(topology.nodes);
  const at = miniLayout(names);
  const label = `${lab}: ${names.length} namespace${names.length === 1 ? '' : 's'} (${[...names].sort().join(', ')}), ${topology.links.length} link${topology.links.length === 1 ? '' : 's'}`;
  return (
    <svg className="mini-graph" viewBox={`0 0 ${SIZE} ${SIZE}`} role="img" aria-label={label} data-nodes={[...names].sort().join(' ')}>
      {topology.links.map((l) => {
        const a = at.get(l.a.node);
        const b = at.get(l.b.node);
        if (!a || !b) return null;
        return <line key={`${l.a.node}:${l.a.interface}-${l.b.node}:${l.b.interface}`} x1={a.x} y1={a.y} x2={b.x} y2={b.y} className="mini-link" />;
      })}
      {[...at].map(([name, p]) => (
        <g key={name} transform={`translate(${p.x} ${p.y})`}>
          <circle r={9} className="mini-node" />
          <text y={21} textAnchor="middle" className="mini-label">{name.length > 10 ? `${name.slice(0, 9)}…` : name}</text>
        </g>
      ))}
    </svg>
  );
});
