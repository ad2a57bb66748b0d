/**
 * What the canvas highlights, derived from view state: the selected interface's veth
 * pair and bridge port, the node of the focused terminal, every place the selected
 * packet was seen, and the path of the last ping trace. Pure: the canvas turns the
 * result into class names on nodes and edges, and the overlay into port marks.
 */
import type { PacketDirection, Topology } from '@nslab/model';
import type { Selection } from '../state/selection';
import { edgeId } from './derive';
import { endpointIndex, traversalOf } from '../packets/edges';
import type { TraceView } from '../trace/trace-view';

/** Why a port is marked. */
export type MarkTone = 'select' | 'packet' | 'trace' | 'trace-fail';

/** A port marked on the canvas, with an optional label (a hop number). */
export interface PortMark {
  node: string;
  interface: string;
  tone: MarkTone;
  label?: string;
}

/** Class names per node and per edge, and port marks. */
export interface Highlight {
  nodes: Record<string, string>;
  edges: Record<string, string>;
  ports: PortMark[];
}

/** A sighting of the selected packet. */
export interface Sighting {
  node: string;
  interface: string;
  direction: PacketDirection | null;
}

/** Inputs of `highlightOf`, each from its own store. */
export interface HighlightInput {
  topology: Topology | undefined;
  selection: Selection;
  /** The node of the terminal that has the keyboard. */
  terminalNode?: string | undefined;
  /** Where the selected packet was seen, in time order. */
  sightings?: readonly Sighting[];
  /** The trace being shown. */
  trace?: TraceView | undefined;
}

/** No highlight at all (shared, so an unchanged canvas stays equal by reference). */
export const NO_HIGHLIGHT: Highlight = { nodes: {}, edges: {}, ports: [] };

function add(map: Record<string, string>, key: string, cls: string): void {
  const cur = map[key];
  if (!cur) map[key] = cls;
  else if (!cur.split(' ').includes(cls)) map[key] = `${cur} ${cls}`;
}

/** The highlight of the canvas. */
export function highlightOf({ topology, selection, terminalNode, sightings = [], trace }: HighlightInput): Highlight {
  if (!topology) return NO_HIGHLIGHT;
  const nodes: Record<string, string> = {};
  const edges: Record<string, string> = {};
  const ports: PortMark[] = [];
  const links = topology.links;

  // The selected interface: its veth pair, the far end, and the bridge that far end is plugged into.
  if (selection?.kind === 'node' && selection.interface) {
    const { node, interface: iface } = selection;
    const link = links.find((l) => (l.a.node === node && l.a.interface === iface) || (l.b.node === node && l.b.interface === iface));
    if (link) {
      add(edges, edgeId(link), 'hl-select');
      ports.push({ node: link.a.node, interface: link.a.interface, tone: 'select' }, { node: link.b.node, interface: link.b.interface, tone: 'select' });
    } else if (topology.nodes[node]?.interfaces[iface]) {
      ports.push({ node, interface: iface, tone: 'select' });
    }
  }

  if (terminalNode && topology.nodes[terminalNode]) add(nodes, terminalNode, 'hl-terminal');

  if (sightings.length > 0) {
    const index = endpointIndex(links);
    sightings.forEach((s, i) => {
      if (topology.nodes[s.node]) add(nodes, s.node, 'hl-packet');
      const t = traversalOf(index, links, s.node, s.interface, s.direction);
      if (t) add(edges, t.edge, 'hl-packet');
      ports.push({ node: s.node, interface: s.interface, tone: 'packet', label: String(i + 1) });
    });
  }

  if (trace) {
    for (const n of trace.nodes) if (topology.nodes[n]) add(nodes, n, 'hl-trace');
    for (const step of trace.steps) add(edges, step.edge, step.type === 'reply' ? 'hl-trace-reply' : 'hl-trace');
    const seen = new Map<string, PortMark>();
    for (const row of trace.rows) {
      const k = `${row.node}:${row.interface}`;
      const prev = seen.get(k);
      if (prev) {
        prev.label = `${prev.label ?? ''},${row.index}`;
        if (row.lastSeen || row.dropped) prev.tone = 'trace-fail';
        if (row.nat) prev.label = `${prev.label ?? ''} ${row.nat}`;
        if (row.dropped && !(prev.label ?? '').endsWith(' DROP')) prev.label = `${prev.label ?? ''} DROP`;
        continue;
      }
      // The port's label carries the hop numbers, the NAT done there and a drop: the verdicts drawn on the canvas.
      const label = `${row.index}${row.nat ? ` ${row.nat}` : ''}${row.dropped ? ' DROP' : ''}`;
      const mark: PortMark = { node: row.node, interface: row.interface, tone: row.lastSeen || row.dropped ? 'trace-fail' : 'trace', label };
      seen.set(k, mark);
      ports.push(mark);
    }
  }

  if (ports.length === 0 && Object.keys(nodes).length === 0 && Object.keys(edges).length === 0) return NO_HIGHLIGHT;
  return { nodes, edges, ports };
}
