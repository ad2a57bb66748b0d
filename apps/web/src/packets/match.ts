/**
 * Which packet is which, across hops: the same packet seen on several interfaces
 * (out of ns1's eth0, into the bridge port, out of the bridge's other port, into
 * ns3) gets one key, so selecting it in the list shows every place it was seen.
 *
 * A ping is its echo (family, id, seq, request or reply): NAT rewrites its
 * addresses but not its echo, so it matches across a masquerade. Anything else in
 * IP is its IP id, protocol and addresses (the innermost header under VXLAN, so the
 * encapsulated copy on the underlay matches the original). ARP is its operation and
 * addresses. Frames with none of these have no key.
 */
import { pingKey } from '@nslab/model';
import type { NodePacketEvent, PacketLayer } from '@nslab/model';

/** How far apart two sightings of one packet can be (s): a lab's hops take microseconds; ping ids repeat over minutes. */
export const SAME_PACKET_WINDOW_S = 1;

/** The same-packet key of a packet, or null when it has none. */
export function samePacketKey(event: Pick<NodePacketEvent, 'layers'>): string | null {
  const echo = pingKey(event);
  if (echo) return `echo/${echo.family}/${echo.id}/${echo.seq}/${echo.type}`;
  const layers = event.layers;
  const inner = innermost(layers);
  if (!inner) return null;
  switch (inner.kind) {
    case 'arp':
      return `arp/${inner.operation}/${inner.senderIp}/${inner.targetIp}/${inner.senderMac}`;
    case 'ipv4':
      return `ip4/${inner.id}/${inner.protocol}/${inner.src}/${inner.dst}`;
    case 'ipv6':
      // IPv6 has no id outside fragments: the flow label and payload length stand in for it.
      return `ip6/${inner.flowLabel}/${inner.payloadLength}/${inner.nextHeader}/${inner.src}/${inner.dst}`;
    default:
      return null;
  }
}

/** The innermost ARP or IP header (under VXLAN, the inner one). */
function innermost(layers: readonly PacketLayer[]): Extract<PacketLayer, { kind: 'arp' | 'ipv4' | 'ipv6' }> | undefined {
  let found: Extract<PacketLayer, { kind: 'arp' | 'ipv4' | 'ipv6' }> | undefined;
  for (const layer of layers) if (layer.kind === 'arp' || layer.kind === 'ipv4' || layer.kind === 'ipv6') found = layer;
  return found;
}

/** Something with a key and a time: a packet row. */
export interface Keyed {
  seq: number;
  key: string | null;
  event: Pick<NodePacketEvent, 'time'>;
}

/** Every row that is the same packet as `selected` (itself included), in time order. */
export function sightingsOf<T extends Keyed>(rows: readonly T[], selected: T | undefined, window = SAME_PACKET_WINDOW_S): T[] {
  if (!selected) return [];
  if (selected.key === null) return [selected];
  const t = selected.event.time;
  return rows
    .filter((r) => r.key === selected.key && Math.abs(r.event.time - t) <= window)
    .sort((a, b) => a.event.time - b.event.time || a.seq - b.seq);
}

/**
 * A key that NAT leaves alone: what the kernel does not rewrite when it changes a
 * packet's addresses and ports. An echo keeps its echo; an IPv4 packet keeps its IP
 * id, and TCP its sequence and acknowledgement numbers, flags and length, UDP its
 * length. IPv6 (not NATed in a lab) and frames without IP have none.
 */
export function natFreeKey(event: Pick<NodePacketEvent, 'layers'>): string | null {
  const echo = pingKey(event);
  if (echo) return `echo/${echo.family}/${echo.id}/${echo.seq}/${echo.type}`;
  const layers = event.layers;
  const i = layers.findIndex((l) => l.kind === 'ipv4');
  const ip = layers[i];
  if (ip?.kind !== 'ipv4' || layers.slice(i + 1).some((l) => l.kind === 'ipv4' || l.kind === 'ipv6')) return null;
  const next = layers[i + 1];
  if (next?.kind === 'tcp') return `nat4/${ip.id}/tcp/${next.seq}/${next.ack}/${next.flags.join('')}/${next.payloadLength}`;
  if (next?.kind === 'udp') return `nat4/${ip.id}/udp/${next.length}`;
  return null;
}

/** The addresses and ports a NAT rule rewrites: "src:sport>dst:dport" of the IPv4 header and what it carries. */
export function natTuple(event: Pick<NodePacketEvent, 'layers'>): { src: string; dst: string } | null {
  const ip = event.layers.find((l) => l.kind === 'ipv4');
  if (ip?.kind !== 'ipv4') return null;
  const next = event.layers[event.layers.indexOf(ip) + 1];
  const port = (p: number | undefined) => (p === undefined ? '' : `:${p}`);
  const ports = next?.kind === 'tcp' || next?.kind === 'udp' ? { s: next.srcPort, d: next.dstPort } : { s: undefined, d: undefined };
  return { src: `${ip.src}${port(ports.s)}`, dst: `${ip.dst}${port(ports.d)}` };
}

/** A row's link to the copies of the same packet on the other side of a NAT rewrite. */
export interface NatLink {
  /** "↔ same packet after DNAT at host", from this row's point of view. */
  text: string;
  /** The rows of the other copies (before and after). */
  partners: number[];
}

/** Something the NAT linking reads: a row with its event. */
export interface NatRow extends Keyed {
  event: Pick<NodePacketEvent, 'time' | 'node' | 'layers'>;
}

/**
 * Links the copies of one packet seen before and after NAT. Sightings with the same
 * NAT-free key within `window` seconds are grouped by their addresses and ports, in
 * the order first seen; between two groups the packet was rewritten at the node where
 * the later one is first seen (tcpdump sees a packet coming in before PREROUTING and
 * going out after POSTROUTING). A changed destination is DNAT, a changed source SNAT
 * (as the kernel names the manipulation: the reply of a DNATed connection gets its
 * source rewritten back). Rows whose packet was never rewritten get no link.
 */
export function natLinks<T extends NatRow>(rows: readonly T[], window = SAME_PACKET_WINDOW_S): Map<number, NatLink> {
  const byKey = new Map<string, T[]>();
  for (const r of rows) {
    const k = natFreeKey(r.event);
    if (k === null) continue;
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  const out = new Map<number, NatLink>();
  for (const list of byKey.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.event.time - b.event.time || a.seq - b.seq);
    // One packet's sightings: split where the gap to the previous one exceeds the window (a reused IP id later).
    let start = 0;
    for (let i = 1; i <= list.length; i += 1) {
      const gap = i < list.length && (list[i] as T).event.time - (list[i - 1] as T).event.time > window;
      if (i === list.length || gap) {
        linkPacket(list.slice(start, i), out);
        start = i;
      }
    }
  }
  return out;
}

function linkPacket<T extends NatRow>(sightings: readonly T[], out: Map<number, NatLink>): void {
  const groups: { tuple: { src: string; dst: string }; rows: T[] }[] = [];
  for (const r of sightings) {
    const tuple = natTuple(r.event);
    if (!tuple) return;
    const g = groups.find((x) => x.tuple.src === tuple.src && x.tuple.dst === tuple.dst);
    if (g) g.rows.push(r);
    else groups.push({ tuple, rows: [r] });
  }
  if (groups.length < 2) return;
  const all = sightings.map((r) => r.seq);
  const rewrite = (a: { src: string; dst: string }, b: { src: string; dst: string }) =>
    [a.dst !== b.dst ? 'DNAT' : '', a.src !== b.src ? 'SNAT' : ''].filter(Boolean).join(' and ');
  groups.forEach((g, i) => {
    const later = groups[i + 1];
    const earlier = groups[i - 1];
    const parts: string[] = [];
    if (later) parts.push(`after ${rewrite(g.tuple, later.tuple)} at ${later.rows[0]?.event.node}`);
    if (earlier) parts.push(`before ${rewrite(earlier.tuple, g.tuple)} at ${g.rows[0]?.event.node}`);
    const text = `↔ same packet ${parts.join('; ')}`;
    const partners = all.filter((s) => !g.rows.some((r) => r.seq === s));
    for (const r of g.rows) out.set(r.seq, { text, partners });
  });
}
