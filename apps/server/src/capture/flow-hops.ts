/**
 * From the packets every capture of a lab saw during one TCP connection attempt or
 * UDP datagram, the hops of that packet and its answer. Pure. A hop is what
 * ping-hops.ts says it is (one sighting by `tcpdump -i any`).
 *
 * How the packet is recognised across NAT, which rewrites addresses and ports:
 * - TCP: the SYN carries an initial sequence number that no NAT here changes; the
 *   answer (SYN-ACK, or RST) acknowledges it plus one.
 * - UDP: the probe sends from a port it chose; the reply comes back to it. An ICMP
 *   "destination unreachable" seen during the trace is taken as the answer (the
 *   decoder does not read the packet an ICMP error quotes).
 * A retransmission is not a new hop: only the first sighting per interface and
 * direction is kept.
 */
import type { NodePacketEvent, PingHop, Rewrite } from '@nslab/model';

/** The traced TCP or UDP flow, as the probe sent it. */
export interface TracedFlow {
  proto: 'tcp' | 'udp';
  /** The probe's source port. */
  sport: number;
}

interface Seen {
  type: 'request' | 'reply';
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  what: string;
}

/** Hops of the flow's first packet and its answer, in time order, with address and port rewrites marked. */
export function flowHops(events: readonly NodePacketEvent[], flow: TracedFlow, source: string): PingHop[] {
  const ordered = byTime(events);
  let isn: number | undefined;
  if (flow.proto === 'tcp') {
    for (const e of ordered) {
      const t = tcpOf(e);
      if (e.node === source && e.direction !== 'in' && t !== undefined && t.tcp.srcPort === flow.sport && isSyn(t.tcp.flags)) {
        isn = t.tcp.seq;
        break;
      }
    }
    if (isn === undefined) return [];
  }
  const hops: PingHop[] = [];
  const keys = new Set<string>();
  const previous: { request?: PingHop; reply?: PingHop } = {};
  for (const e of ordered) {
    const seen = flow.proto === 'tcp' ? tcpSeen(e, isn as number) : udpSeen(e, flow.sport, hops.length > 0);
    if (seen === undefined) continue;
    const key = `${seen.type} ${e.node} ${e.interface} ${e.direction ?? ''}`;
    if (keys.has(key)) continue;
    keys.add(key);
    const hop: PingHop = { node: e.node, interface: e.interface, direction: e.direction, time: e.time, type: seen.type, src: seen.src, dst: seen.dst, what: seen.what };
    if (seen.sport !== undefined) hop.sport = seen.sport;
    if (seen.dport !== undefined) hop.dport = seen.dport;
    const before = previous[seen.type];
    if (before !== undefined && before.what === hop.what) {
      const rw = rewriteBetween(before, hop);
      if (rw !== undefined) hop.rewritten = rw;
    }
    previous[seen.type] = hop;
    hops.push(hop);
  }
  return hops;
}

/** What NAT changed between two sightings of one packet. */
export function rewriteBetween(before: PingHop, hop: PingHop): Rewrite | undefined {
  const rw: Rewrite = {};
  if (before.src !== hop.src) rw.src = [before.src, hop.src];
  if (before.dst !== hop.dst) rw.dst = [before.dst, hop.dst];
  if (before.sport !== undefined && hop.sport !== undefined && before.sport !== hop.sport) rw.sport = [before.sport, hop.sport];
  if (before.dport !== undefined && hop.dport !== undefined && before.dport !== hop.dport) rw.dport = [before.dport, hop.dport];
  return Object.keys(rw).length > 0 ? rw : undefined;
}

function isSyn(flags: readonly string[]): boolean {
  return flags.includes('SYN') && !flags.includes('ACK');
}

function tcpOf(e: NodePacketEvent) {
  for (let i = e.layers.length - 1; i > 0; i -= 1) {
    const tcp = e.layers[i];
    const ip = e.layers[i - 1];
    if (tcp?.kind === 'tcp' && (ip?.kind === 'ipv4' || ip?.kind === 'ipv6')) return { tcp, ip };
  }
  return undefined;
}

function tcpSeen(e: NodePacketEvent, isn: number): Seen | undefined {
  const t = tcpOf(e);
  if (t === undefined) return undefined;
  const { tcp, ip } = t;
  const ports = { src: ip.src, dst: ip.dst, sport: tcp.srcPort, dport: tcp.dstPort };
  if (isSyn(tcp.flags) && tcp.seq === isn) return { type: 'request', ...ports, what: 'SYN' };
  const answer = (tcp.flags.includes('SYN') || tcp.flags.includes('RST')) && tcp.flags.includes('ACK') && tcp.ack === ((isn + 1) >>> 0);
  if (answer) return { type: 'reply', ...ports, what: tcp.flags.includes('RST') ? 'RST-ACK' : 'SYN-ACK' };
  return undefined;
}

function udpSeen(e: NodePacketEvent, sport: number, started: boolean): Seen | undefined {
  for (let i = e.layers.length - 1; i > 0; i -= 1) {
    const l = e.layers[i];
    const ip = e.layers[i - 1];
    if (l === undefined || ip === undefined || (ip.kind !== 'ipv4' && ip.kind !== 'ipv6')) continue;
    if (l.kind === 'udp') {
      if (l.srcPort === sport) return { type: 'request', src: ip.src, dst: ip.dst, sport: l.srcPort, dport: l.dstPort, what: 'UDP' };
      if (l.dstPort === sport) return { type: 'reply', src: ip.src, dst: ip.dst, sport: l.srcPort, dport: l.dstPort, what: 'UDP' };
      return undefined;
    }
    // ICMP type 3, ICMPv6 type 1: destination unreachable.
    if (started && ((l.kind === 'icmp' && l.type === 3) || (l.kind === 'icmpv6' && l.type === 1))) {
      return { type: 'reply', src: ip.src, dst: ip.dst, what: `ICMP ${l.name}` };
    }
  }
  return undefined;
}

function byTime(events: readonly NodePacketEvent[]): NodePacketEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.time - b.e.time || (a.e.direction === 'out' ? 0 : 1) - (b.e.direction === 'out' ? 0 : 1) || a.i - b.i)
    .map((x) => x.e);
}
