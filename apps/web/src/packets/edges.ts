/**
 * Where a packet is on the canvas: the interface it was seen on is one end of a veth
 * edge (or of none: a bridge device, lo, a vxlan device), and its direction at that
 * interface says which way it travels along the edge.
 */
import type { Link } from '@nslab/model';
import type { PacketDirection, PacketProtocol } from '@nslab/model';
import { edgeId } from '../canvas/derive';

/** One end of a canvas edge: `a` is the edge's source (the link's first end). */
export interface EdgeEnd {
  edge: string;
  end: 'a' | 'b';
}

/** A packet crossing an edge: `forward` is from the edge's source to its target. */
export interface Traversal {
  edge: string;
  forward: boolean;
  /** The node it leaves and the node it reaches. */
  from: string;
  to: string;
}

/** "node:interface" -> the edge end it is, for every end of every link. */
export function endpointIndex(links: readonly Link[]): Map<string, EdgeEnd> {
  const index = new Map<string, EdgeEnd>();
  for (const link of links) {
    const edge = edgeId(link);
    index.set(`${link.a.node}:${link.a.interface}`, { edge, end: 'a' });
    index.set(`${link.b.node}:${link.b.interface}`, { edge, end: 'b' });
  }
  return index;
}

/** How a packet seen at node:iface going `direction` crosses its edge; undefined when the interface is no edge's end. */
export function traversalOf(index: ReadonlyMap<string, EdgeEnd>, links: readonly Link[], node: string, iface: string, direction: PacketDirection | null): Traversal | undefined {
  const at = index.get(`${node}:${iface}`);
  if (!at || direction === null) return undefined;
  const link = links.find((l) => edgeId(l) === at.edge);
  if (!link) return undefined;
  const here = at.end;
  const leaving = direction === 'out';
  // Leaving the source end, or arriving at the target end, goes source -> target.
  const forward = leaving === (here === 'a');
  const a = link.a.node;
  const b = link.b.node;
  return { edge: at.edge, forward, from: forward ? a : b, to: forward ? b : a };
}

/** Per-edge packet counts from an aggregate's per-interface counts: each crossing is counted at both ends, so the larger end is the edge's count. */
export function edgeCounts(index: ReadonlyMap<string, EdgeEnd>, counts: readonly { node: string; interface: string; protocol: PacketProtocol; packets: number }[]): Map<string, { packets: number; protocol: PacketProtocol }> {
  const perEnd = new Map<string, { edge: string; packets: number; top: PacketProtocol; topPackets: number }>();
  for (const c of counts) {
    const at = index.get(`${c.node}:${c.interface}`);
    if (!at) continue;
    const key = `${at.edge}|${at.end}`;
    const cur = perEnd.get(key) ?? { edge: at.edge, packets: 0, top: c.protocol, topPackets: 0 };
    cur.packets += c.packets;
    if (c.packets > cur.topPackets) {
      cur.top = c.protocol;
      cur.topPackets = c.packets;
    }
    perEnd.set(key, cur);
  }
  const out = new Map<string, { packets: number; protocol: PacketProtocol }>();
  for (const e of perEnd.values()) {
    const prev = out.get(e.edge);
    if (!prev || e.packets > prev.packets) out.set(e.edge, { packets: e.packets, protocol: e.top });
  }
  return out;
}
