/**
 * From the packets every capture of a lab saw during one ping, the hops of that
 * echo. Pure.
 *
 * What a hop is: one sighting of the echo by `tcpdump -i any` in one namespace, on
 * one interface, in one direction, ordered by the kernel's timestamps (one clock
 * for every namespace, nanosecond stamps). So a hop is where a learner could have
 * run tcpdump and seen the packet. In particular:
 * - a frame switched by a bridge from port to port shows as "in" on one port and
 *   "out" on the other; the bridge device itself appears only when the packet goes
 *   up to (or comes down from) the namespace's own IP stack through it: routed,
 *   NATed or delivered locally. That is what the kernel does; no br0 hop is invented.
 * - under VXLAN the same echo is seen twice per namespace: inside the vxlan device,
 *   and encapsulated on the underlay device (then `encapsulation` says how).
 */
import {
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  pingKey,
  type NodePacketEvent,
  type PacketDirection,
  type PingKey,
  type PingHop,
  type Rewrite,
  type TracedEcho,
} from '@nslab/model';

/**
 * The echo a ping sent: the first echo request the source node sent to the
 * destination. Ping's identifier cannot be predicted (with ICMP datagram sockets
 * the kernel picks it), so it is read off the wire rather than assumed.
 */
export function findEcho(events: readonly NodePacketEvent[], source: string, destination: string): TracedEcho | null {
  let fallback: TracedEcho | null = null;
  for (const e of byTime(events)) {
    if (e.node !== source) continue;
    const key = pingKey(e);
    if (key === null || key.type !== 'request' || e.direction === 'in') continue;
    if (key.dst === destination) return { id: key.id, seq: key.seq, family: key.family };
    fallback ??= { id: key.id, seq: key.seq, family: key.family };
  }
  return fallback;
}

/** Every sighting of one echo (request and reply), in time order, with NAT rewrites marked. */
export function traceHops(events: readonly NodePacketEvent[], echo: TracedEcho): PingHop[] {
  const hops: PingHop[] = [];
  const previous: { request?: PingHop; reply?: PingHop } = {};
  for (const e of byTime(events)) {
    const key = pingKey(e);
    if (key === null || !sameEcho(key, echo)) continue;
    const hop: PingHop = { node: e.node, interface: e.interface, direction: e.direction, time: e.time, type: key.type, src: key.src, dst: key.dst };
    const outer = outerOf(e);
    if (outer !== undefined) hop.encapsulation = outer;
    const before = previous[key.type];
    if (before !== undefined) {
      const rewritten: Rewrite = {};
      if (before.src !== hop.src) rewritten.src = [before.src, hop.src];
      if (before.dst !== hop.dst) rewritten.dst = [before.dst, hop.dst];
      if (rewritten.src !== undefined || rewritten.dst !== undefined) hop.rewritten = rewritten;
    }
    previous[key.type] = hop;
    hops.push(hop);
  }
  return hops;
}

function sameEcho(key: PingKey, echo: TracedEcho): boolean {
  return key.id === echo.id && key.seq === echo.seq && key.family === echo.family;
}

/** The VNI and outer addresses when the echo travels inside VXLAN. */
function outerOf(e: NodePacketEvent): PingHop['encapsulation'] {
  const at = e.layers.findIndex((l) => l.kind === 'vxlan');
  if (at < 0) return undefined;
  const vx = e.layers[at];
  const outerIp = e.layers.slice(0, at).reverse().find((l) => l.kind === 'ipv4' || l.kind === 'ipv6');
  if (vx?.kind !== 'vxlan' || outerIp === undefined || (outerIp.kind !== 'ipv4' && outerIp.kind !== 'ipv6')) return undefined;
  return { vni: vx.vni, src: outerIp.src, dst: outerIp.dst };
}

/**
 * Events in time order. Captures deliver each namespace's packets in order but
 * namespaces interleave arbitrarily; ties (rare at nanosecond resolution) keep an
 * "out" before an "in", which is how a packet crosses a veth.
 */
function byTime(events: readonly NodePacketEvent[]): NodePacketEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.time - b.e.time || rank(a.e.direction) - rank(b.e.direction) || a.i - b.i)
    .map((x) => x.e);
}

function rank(d: PacketDirection | null): number {
  return d === 'out' ? 0 : 1;
}

/** Neighbour lookups (ARP, or IPv6 neighbour solicitation) a node sent and never saw answered, by node. */
export function unansweredNeighbours(events: readonly NodePacketEvent[]): Map<string, string[]> {
  const asked = new Map<string, Set<string>>();
  const answered = new Set<string>();
  for (const e of events) {
    let ipSrc: string | null = null;
    for (const layer of e.layers) {
      if (layer.kind === 'ipv4' || layer.kind === 'ipv6') ipSrc = layer.src;
      if (layer.kind === 'arp') {
        if (layer.operation === 'request' && e.direction === 'out' && layer.senderIp !== layer.targetIp) add(asked, e.node, layer.targetIp);
        if (layer.operation === 'reply' && e.direction === 'in') answered.add(`${e.node} ${layer.senderIp}`);
      } else if (layer.kind === 'icmpv6' && layer.target !== undefined) {
        // A solicitation from :: is duplicate address detection, which expects no answer.
        if (layer.type === ICMPV6_NEIGHBOR_SOLICITATION && e.direction === 'out' && ipSrc !== '::') add(asked, e.node, layer.target);
        if (layer.type === ICMPV6_NEIGHBOR_ADVERTISEMENT && e.direction === 'in') answered.add(`${e.node} ${layer.target}`);
      }
    }
  }
  const out = new Map<string, string[]>();
  for (const [node, targets] of asked) {
    const open = [...targets].filter((t) => !answered.has(`${node} ${t}`));
    if (open.length > 0) out.set(node, open);
  }
  return out;
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}
