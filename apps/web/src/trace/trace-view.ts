/**
 * A ping trace as the UI shows it: the hop list (node:interface, direction, time
 * from the first hop, addresses, NAT rewrites), the path on the canvas (the edges
 * the echo crossed, in order, and the ports it was seen at), and the verdict in
 * words. Pure: a PingTraceResult and the lab's links in, a view model out.
 */
import type { Link, PacketDirection, PingHop, PingTraceResult, Rewrite, RuleVerdict } from '@nslab/model';
import { rewriteKind, rulesByHop } from '@nslab/model';
import { endpointIndex, traversalOf } from '../packets/edges';

/** One row of the hop list. */
export interface TraceRow {
  index: number;
  /** "ns1:eth0". */
  at: string;
  node: string;
  interface: string;
  direction: PacketDirection | null;
  type: 'request' | 'reply';
  /** Milliseconds since the first hop. */
  offsetMs: number;
  src: string;
  dst: string;
  rewritten?: Rewrite;
  /** "VXLAN 42: 10.0.0.1 → 10.0.0.2" when the echo was inside VXLAN here. */
  encapsulation?: string;
  /** True on the hop where a failed ping was last seen. */
  lastSeen: boolean;
  /** What the packet is when not an echo: "SYN", "SYN-ACK", "UDP". */
  what?: string;
  sport?: number;
  dport?: number;
  /** The NAT that rewrote it before this hop: "DNAT", "SNAT", "reverse DNAT"... */
  nat?: string;
  /** The netfilter rules the packet met at this hop (the kernel's trace). */
  rules: RuleVerdict[];
  /** True when a rule at this hop dropped the packet. */
  dropped: boolean;
}

/** An edge the echo crossed, the way it went. */
export interface TraceStep {
  edge: string;
  forward: boolean;
  type: 'request' | 'reply';
}

/** The trace, ready to show. */
export interface TraceView {
  ok: boolean;
  rows: TraceRow[];
  steps: TraceStep[];
  /** Every node the echo was seen in. */
  nodes: string[];
  /** The verdict, one sentence. */
  verdict: string;
  /** Why it failed (the server's sentence), or null. */
  cause: string | null;
  /** A warning when the captures dropped packets. */
  warning: string | null;
}

/** "ns1:eth0 out" words for a hop. */
export function hopText(hop: Pick<PingHop, 'node' | 'interface' | 'direction'>): string {
  return `${hop.node}:${hop.interface}${hop.direction ? ` ${hop.direction}` : ''}`;
}

/** Milliseconds with a precision that fits their size. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(1)} ms`;
}

const sameHop = (a: PingHop | null, b: PingHop) => a !== null && a.node === b.node && a.interface === b.interface && a.time === b.time && a.type === b.type;

/** The view model of a trace. */
export function traceView(result: PingTraceResult, links: readonly Link[]): TraceView {
  const t0 = result.hops[0]?.time ?? 0;
  const index = endpointIndex(links);
  const rules = rulesByHop(result);
  const rows: TraceRow[] = result.hops.map((hop, i) => {
    const row: TraceRow = {
      index: i + 1,
      at: `${hop.node}:${hop.interface}`,
      node: hop.node,
      interface: hop.interface,
      direction: hop.direction,
      type: hop.type,
      offsetMs: (hop.time - t0) * 1000,
      src: hop.src,
      dst: hop.dst,
      lastSeen: !result.ok && sameHop(result.lastSeen, hop),
      rules: rules[i] ?? [],
      dropped: (rules[i] ?? []).some((r) => r.verdict === 'drop'),
    };
    if (hop.what !== undefined) row.what = hop.what;
    if (hop.sport !== undefined) row.sport = hop.sport;
    if (hop.dport !== undefined) row.dport = hop.dport;
    if (hop.rewritten && (hop.rewritten.src || hop.rewritten.dst || hop.rewritten.sport || hop.rewritten.dport)) {
      row.rewritten = hop.rewritten;
      row.nat = rewriteKind(hop.rewritten, hop.type);
    }
    if (hop.encapsulation) row.encapsulation = `VXLAN ${hop.encapsulation.vni}: ${hop.encapsulation.src} → ${hop.encapsulation.dst}`;
    return row;
  });
  const steps: TraceStep[] = [];
  const seen = new Set<string>();
  for (const hop of result.hops) {
    const t = traversalOf(index, links, hop.node, hop.interface, hop.direction);
    if (!t) continue;
    const k = `${t.edge}|${t.forward}|${hop.type}`;
    if (seen.has(k)) continue;
    seen.add(k);
    steps.push({ edge: t.edge, forward: t.forward, type: hop.type });
  }
  const nodes = [...new Set(result.hops.map((h) => h.node))];
  const replies = result.hops.filter((h) => h.type === 'reply');
  const lastReply = replies[replies.length - 1];
  let verdict: string;
  if (result.ok) {
    const rtt = lastReply ? formatMs((lastReply.time - t0) * 1000) : undefined;
    verdict = `${result.source} reached ${result.destination}: the reply came back${rtt ? ` after ${rtt}` : ''}, ${result.hops.length} sightings on the way.`;
  } else if (result.lastSeen) {
    verdict = `No reply from ${result.destination}. The ${result.lastSeen.type} was last seen at ${hopText(result.lastSeen)}.`;
  } else if (result.hops.length === 0) {
    verdict = `No reply from ${result.destination}, and the echo was never seen on the wire.`;
  } else {
    verdict = `No reply from ${result.destination}.`;
  }
  const warning = result.dropped > 0 ? `The captures dropped ${result.dropped} packet${result.dropped === 1 ? '' : 's'}: some hops may be missing.` : null;
  return { ok: result.ok, rows, steps, nodes, verdict, cause: result.ok ? null : result.cause, warning };
}
