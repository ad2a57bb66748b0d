/**
 * What the canvas shows on top of the lab, in the flow's own coordinates (React
 * Flow's viewport portal, so it pans and zooms with the graph): marks on ports (the
 * selected interface and its bridge port, every sighting of the selected packet,
 * the hops of a ping trace, numbered), packets travelling along their veth edges,
 * and, under a flood, the packet count on each edge instead of single packets.
 *
 * Packets are drawn by a frame loop straight into the SVG (no React render per
 * frame); the loop runs only while something flies.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ViewportPortal, useStore } from '@xyflow/react';
import type { ReactFlowState } from '@xyflow/react';
import type { PortMark } from './highlight';
import { animator, onFlights, FLOOD_HOLD_MS } from '../packets/feed';
import { progressOf } from '../packets/animate';
import { edgeCounts, endpointIndex } from '../packets/edges';
import { useLab } from '../state/lab';
import { usePackets } from '../packets/store';
import { useHighlight } from './useHighlight';

/** A port mark's box in flow coordinates. */
interface MarkBox extends PortMark {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The row height of a port on a node (geometry.ts ROW_HEIGHT): a mark is that tall. */
const PORT_ROW = 26;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** The box of a port (or a bridge's title row) in flow coordinates, from the handles React Flow measured. */
function boxOf(s: ReactFlowState, mark: PortMark): Omit<MarkBox, keyof PortMark> | undefined {
  const node = s.nodeLookup.get(mark.node);
  const handles = node?.internals.handleBounds?.source;
  if (!node || !handles) return undefined;
  const pos = node.internals.positionAbsolute;
  const width = node.measured.width ?? 248;
  const left = handles.find((h) => h.id === `${mark.interface}:l`);
  const right = handles.find((h) => h.id === `${mark.interface}:r`);
  if (left && right) {
    const y = pos.y + left.y + left.height / 2;
    const x1 = Math.max(pos.x + 3, pos.x + left.x + left.width / 2 + 3);
    const x2 = Math.min(pos.x + width - 3, pos.x + right.x + right.width / 2 - 3);
    return { x: x1, y: y - PORT_ROW / 2 + 1, width: Math.max(20, x2 - x1), height: PORT_ROW - 2 };
  }
  const bridge = handles.find((h) => h.id === `connect:${mark.interface}`);
  if (bridge) {
    const y = pos.y + bridge.y + bridge.height / 2;
    return { x: pos.x + 8, y: y - PORT_ROW / 2 + 1, width: width - 16, height: PORT_ROW - 2 };
  }
  return undefined;
}

/** Port marks with their boxes; recomputed only when a marked port's box changes (a string compare per store update). */
function useMarkBoxes(marks: readonly PortMark[]): MarkBox[] {
  const key = useStore((s) => marks.map((m) => {
    const b = boxOf(s, m);
    return b ? `${b.x.toFixed(1)},${b.y.toFixed(1)},${b.width.toFixed(1)},${b.height.toFixed(1)}` : '-';
  }).join(';'));
  return useMemo(() => {
    const parts = key.split(';');
    return marks.flatMap((m, i) => {
      const [x, y, width, height] = (parts[i] ?? '-').split(',').map(Number);
      return x === undefined || y === undefined || width === undefined || height === undefined || Number.isNaN(x) ? [] : [{ ...m, x, y, width, height }];
    });
  }, [marks, key]);
}

/** The SVG path of an edge as the canvas drew it. */
function edgePath(root: HTMLElement | null, edge: string): SVGPathElement | null {
  if (!root) return null;
  return root.querySelector<SVGPathElement>(`.react-flow__edge[data-id="${CSS.escape(edge)}"] path.react-flow__edge-path`);
}

/** Points sampled along an edge's path: a flight's position is interpolated between them. */
const SAMPLES = 48;

/** An edge's path sampled once per shape (`d`), so a frame costs no getPointAtLength calls. */
interface Sampled { d: string; xy: Float32Array }

function sample(el: SVGPathElement): Float32Array {
  const length = el.getTotalLength();
  const xy = new Float32Array((SAMPLES + 1) * 2);
  for (let i = 0; i <= SAMPLES; i += 1) {
    const p = el.getPointAtLength((i / SAMPLES) * length);
    xy[i * 2] = p.x;
    xy[i * 2 + 1] = p.y;
  }
  return xy;
}

function pointAt(xy: Float32Array, t: number): { x: number; y: number } {
  const f = Math.min(SAMPLES, Math.max(0, t * SAMPLES));
  const i = Math.min(SAMPLES - 1, Math.floor(f));
  const k = f - i;
  return { x: xy[i * 2]! + (xy[i * 2 + 2]! - xy[i * 2]!) * k, y: xy[i * 2 + 1]! + (xy[i * 2 + 3]! - xy[i * 2 + 1]!) * k };
}

/** Packets in flight: a frame loop moving circles along the edge paths. */
function useFlights(group: React.RefObject<SVGGElement | null>, root: HTMLElement | null): void {
  useEffect(() => {
    let raf = 0;
    const pool: SVGCircleElement[] = [];
    const shapes = new Map<string, Sampled>();
    const frame = () => {
      raf = 0;
      const g = group.current;
      if (!g) return;
      const { now, flights, busy } = animator.frame(performance.now());
      const paths = new Map<string, Float32Array | null>();
      let used = 0;
      for (const f of flights) {
        let p = paths.get(f.edge);
        if (p === undefined) {
          const el = edgePath(root, f.edge);
          const d = el?.getAttribute('d') ?? '';
          let shape = shapes.get(f.edge);
          if (el && (!shape || shape.d !== d)) {
            shape = { d, xy: sample(el) };
            shapes.set(f.edge, shape);
          }
          p = el && shape ? shape.xy : null;
          paths.set(f.edge, p);
        }
        const t = progressOf(f, now);
        if (!p || t === undefined) continue;
        const point = pointAt(p, t);
        let c = pool[used];
        if (!c) {
          c = document.createElementNS(SVG_NS, 'circle');
          c.setAttribute('r', '5');
          g.appendChild(c);
          pool.push(c);
        }
        c.setAttribute('cx', point.x.toFixed(1));
        c.setAttribute('cy', point.y.toFixed(1));
        c.setAttribute('class', `pkt-dot proto-${f.protocol}`);
        c.style.display = '';
        used += 1;
      }
      for (let i = used; i < pool.length; i += 1) pool[i]!.style.display = 'none';
      if (busy && !animator.paused) raf = requestAnimationFrame(frame);
    };
    const start = () => {
      if (!raf) raf = requestAnimationFrame(frame);
    };
    const stop = onFlights(start);
    start();
    return () => {
      stop();
      if (raf) cancelAnimationFrame(raf);
      for (const c of pool) c.remove();
    };
  }, [group, root]);
}

/** Per-edge counts under a flood, placed at each edge's middle. */
function useFloodLabels(root: HTMLElement | null): { x: number; y: number; text: string; protocol: string; edge: string }[] {
  const flood = usePackets((s) => (s.watching ? s.flood : undefined));
  const links = useLab((s) => s.topology?.links);
  const positions = useStore((s) => s.nodeLookup);
  type Label = { x: number; y: number; text: string; protocol: string; edge: string };
  // The labels with the flood they count: labels of an earlier flood (or none) are not shown.
  const [labels, setLabels] = useState<{ flood: NonNullable<typeof flood>; out: Label[] } | undefined>(undefined);
  useLayoutEffect(() => {
    if (!flood || !links || Date.now() - flood.at > FLOOD_HOLD_MS) return undefined;
    const counts = edgeCounts(endpointIndex(links), flood.counts);
    const out: Label[] = [];
    for (const [edge, c] of counts) {
      const el = edgePath(root, edge);
      if (!el) continue;
      const p = el.getPointAtLength(el.getTotalLength() / 2);
      out.push({ x: p.x, y: p.y, text: `${Math.round(c.packets / flood.seconds).toLocaleString()}/s`, protocol: c.protocol, edge });
    }
    // Positions measured from the drawn edges, which exist only after render: a layout effect is where they can be read.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setLabels({ flood, out });
    // Clear the labels once the flood is over (no aggregate for a while).
    const timer = setTimeout(() => setLabels(undefined), FLOOD_HOLD_MS + 50);
    return () => clearTimeout(timer);
  }, [flood, links, positions, root]);
  return labels !== undefined && labels.flood === flood && links ? labels.out : [];
}

/** The overlay; render it inside the ReactFlowProvider. */
export function CanvasOverlay() {
  const highlight = useHighlight();
  const boxes = useMarkBoxes(highlight.ports);
  const root = useStore((s) => s.domNode);
  const group = useRef<SVGGElement>(null);
  useFlights(group, root);
  const labels = useFloodLabels(root);
  return (
    <ViewportPortal>
      <svg className="canvas-overlay" aria-hidden="true" width="1" height="1">
        {boxes.map((b, i) => (
          <g key={`${b.node}:${b.interface}:${b.tone}:${i}`} className={`port-mark tone-${b.tone}`} data-mark={`${b.node}:${b.interface}`}>
            <rect x={b.x} y={b.y} width={b.width} height={b.height} rx={6} />
            {b.label ? (
              <g className="mark-label" transform={`translate(${b.x + b.width + 4} ${b.y + b.height / 2})`}>
                <rect x={0} y={-9} width={Math.max(18, b.label.length * 7 + 8)} height={18} rx={9} />
                <text x={Math.max(18, b.label.length * 7 + 8) / 2} y={4}>{b.label}</text>
              </g>
            ) : null}
          </g>
        ))}
        {labels.map((l) => (
          <g key={l.edge} className={`flood-label proto-${l.protocol}`} transform={`translate(${l.x} ${l.y})`}>
            <rect x={-(l.text.length * 3.6 + 10)} y={-10} width={l.text.length * 7.2 + 20} height={20} rx={10} />
            <text y={4}>{l.text}</text>
          </g>
        ))}
        <g ref={group} className="pkt-dots" />
      </svg>
    </ViewportPortal>
  );
}
