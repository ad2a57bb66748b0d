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
