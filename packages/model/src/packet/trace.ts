/**
 * The wire shapes of a trace: the hops of one traced packet (an ICMP echo, a TCP
 * SYN, a UDP datagram) and its answer across a lab, the netfilter rules that
 * decided on the way, the conntrack entries that linked them, and the verdict.
 */
import type { PacketDirection } from './sll';

/** Addresses (and ports) changed between two consecutive hops of the same packet: [before, after]. */
export interface Rewrite {
  src?: [string, string];
  dst?: [string, string];
  sport?: [number, number];
  dport?: [number, number];
}

/** The protocols a trace follows. */
export type TraceProto = 'icmp' | 'tcp' | 'udp';

/** One sighting of the traced echo. */
export interface PingHop {
  node: string;
  interface: string;
  direction: PacketDirection | null;
  /** Seconds since the epoch (float). */
  time: number;
  type: 'request' | 'reply';
  /** The echo's own IP addresses here (inside VXLAN, the inner ones). */
  src: string;
  dst: string;
  /** TCP and UDP: the ports here. */
  sport?: number;
  dport?: number;
  /** What the packet is, when not an echo: "SYN", "SYN-ACK", "RST-ACK", "UDP", "ICMP port unreachable". */
  what?: string;
  /** Set when NAT changed an address since the previous hop of the same type. */
  rewritten?: Rewrite;
  /** Set when the echo was seen inside VXLAN here: the VNI and the outer addresses. */
  encapsulation?: { vni: number; src: string; dst: string };
}

/** The echo a trace follows. */
export interface TracedEcho {
  id: number;
  seq: number;
  family: 4 | 6;
}

/** What ping itself printed. */
export interface PingOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** One netfilter rule (or a chain's policy) that a traced packet met, from the kernel's own trace (`nft monitor trace`). */
export interface RuleVerdict {
  node: string;
  /** The nftables family and table: "ip filter", "ip nat", "inet mytable". */
  table: string;
  chain: string;
  /** The rule as the user would write it (iptables -S for iptables' tables, nft syntax otherwise); "policy" for a chain's policy. */
  rule: string;
  /** accept, drop, continue, jump X, return, queue... as the kernel said it. */
  verdict: string;
  /** Request or reply: which packet of the exchange. */
  type: 'request' | 'reply';
  /** The addresses (and ports) the packet had when it met the rule. */
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** Order of the kernel's report (one counter for the whole trace). */
  index: number;
}

/** One connection-tracking entry in a namespace: the original direction and the expected reply, which NAT makes differ. */
export interface ConntrackEntry {
  node: string;
  proto: string;
  /** TCP state (SYN_SENT, ESTABLISHED, ...); empty for other protocols. */
  state: string;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** [UNREPLIED], [ASSURED] and the like, without brackets. */
  flags: string[];
  /** Seconds until the kernel forgets it. */
  timeout: number;
}

/** One direction of a conntrack entry. */
export interface ConntrackTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

/** The trace of one echo (or TCP connection attempt, or UDP datagram). */
export interface PingTraceResult {
  /** True when the reply came back to the source. */
  ok: boolean;
  source: string;
  destination: string;
  /** The echo followed (read off the wire), or null when the source sent none. */
  echo: TracedEcho | null;
  /** Every sighting of the echo request and reply, in time order. */
  hops: PingHop[];
  /** The last hop, for a failed ping: where the packet was last seen. */
  lastSeen: PingHop | null;
  /** Why the ping failed, in words; null when it worked. */
  cause: string | null;
  /** Packets the captures' kernels dropped ("packets dropped by kernel"): when not 0, hops may be missing. */
  dropped: number;
  /** What the probe (ping, or the TCP/UDP probe) printed. */
  ping: PingOutput;
  /** What was traced; absent on results of older servers (an echo). */
  flow?: { proto: TraceProto; port?: number; sport?: number };
  /** Every netfilter rule and policy the traced packets met, in the kernel's order; empty when the kernel's tracing was unavailable. */
  rules?: RuleVerdict[];
  /** The conntrack entries of the traced flow in every namespace that tracked it. */
  conntrack?: ConntrackEntry[];
  /** The rule that dropped the packet, when one did. */
  droppedBy?: RuleVerdict | null;
}

/** Chains that run before a packet leaves a namespace: their verdicts belong to the hop out. */
const OUTBOUND_CHAINS = new Set(['OUTPUT', 'POSTROUTING', 'output', 'postrouting']);

/**
 * The rule verdicts at each hop of a trace, index for index: a namespace's
 * prerouting, input and forward chains run after the packet came in (the "in" hop),
 * its output and postrouting chains before it leaves (the "out" hop). Verdicts with
 * no such hop (a packet dropped before any capture saw it leave) go to the node's
 * nearest hop of the same packet. Pure.
 */
export function rulesByHop(result: Pick<PingTraceResult, 'hops' | 'rules'>): RuleVerdict[][] {
  const out = result.hops.map((): RuleVerdict[] => []);
  for (const rule of result.rules ?? []) {
    const outbound = OUTBOUND_CHAINS.has(rule.chain);
    const candidates = result.hops.map((h, i) => ({ h, i })).filter(({ h }) => h.node === rule.node && h.type === rule.type);
    const wanted = outbound ? candidates.find(({ h }) => h.direction === 'out') : candidates.find(({ h }) => h.direction !== 'out');
    const at = wanted ?? candidates[outbound ? candidates.length - 1 : 0];
    if (at !== undefined) out[at.i]?.push(rule);
  }
  return out;
}

/** A hop's addresses as "10.0.0.1:40000 -> 10.0.0.2:80" (ports when it has them; IPv6 in brackets then). */
export function hopEndpoints(hop: Pick<PingHop, 'src' | 'dst' | 'sport' | 'dport'>): string {
  const at = (address: string, port?: number) => (port === undefined ? address : address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
  return `${at(hop.src, hop.sport)} -> ${at(hop.dst, hop.dport)}`;
}

/** A rewrite in words: "dst 203.0.113.1 -> 192.168.1.1, dport 8080 -> 80". */
export function rewriteText(rewrite: Rewrite): string {
  const parts: string[] = [];
  for (const key of ['src', 'sport', 'dst', 'dport'] as const) {
    const pair = rewrite[key];
    if (pair !== undefined) parts.push(`${key} ${pair[0]} -> ${pair[1]}`);
  }
  return parts.join(', ');
}

/** The NAT that made a rewrite, by which end of the packet changed. */
export function rewriteKind(rewrite: Rewrite, type: 'request' | 'reply'): string {
  const source = rewrite.src !== undefined || rewrite.sport !== undefined;
  const destination = rewrite.dst !== undefined || rewrite.dport !== undefined;
  if (type === 'reply') return source && !destination ? 'reverse DNAT' : destination && !source ? 'reverse SNAT' : 'NAT';
  return source && !destination ? 'SNAT' : destination && !source ? 'DNAT' : 'NAT';
}
