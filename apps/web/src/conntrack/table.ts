/**
 * A conntrack table as the page shows it: one row per entry, its two directions, what
 * NAT changed (read from the difference between the original tuple and the reply the
 * kernel expects) and the seconds left, counted down from the moment it was read.
 */
import type { ConntrackEntry, ConntrackTuple } from '@nslab/model';

/** An endpoint as "address:port" (IPv6 in brackets), or the bare address for ICMP. */
export function endpoint(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** What NAT rewrote in one entry: the destination (DNAT), the source (SNAT, MASQUERADE), both or neither. */
export interface NatRewrite {
  dnat?: { from: string; to: string };
  snat?: { from: string; to: string };
}

/**
 * The rewrites an entry records. Without NAT the reply is the original turned around
 * (reply.src = original.dst, reply.dst = original.src, ports swapped); where the reply
 * comes from another address or port, the destination was rewritten; where it goes to
 * another, the source was.
 */
export function natOf(entry: Pick<ConntrackEntry, 'original' | 'reply'>): NatRewrite {
  const { original: o, reply: r } = entry;
  const out: NatRewrite = {};
  if (r.src !== o.dst || r.sport !== o.dport) out.dnat = { from: endpoint(o.dst, o.dport), to: endpoint(r.src, r.sport) };
  if (r.dst !== o.src || r.dport !== o.sport) out.snat = { from: endpoint(o.src, o.sport), to: endpoint(r.dst, r.dport) };
  return out;
}

/** One row of the table. */
export interface ConntrackRow {
  /** Stable across reads of the same connection: protocol and original tuple. */
  key: string;
  proto: string;
  state: string;
  original: string;
  reply: string;
  nat: NatRewrite;
  /** The rewrite in words ("DNAT 203.0.113.2:8080 → 192.168.1.1:80"), empty without NAT. */
  natText: string;
  flags: string[];
  /** Seconds the kernel still keeps it, at `now`. */
  left: number;
}

const tuple = (t: ConntrackTuple) => `${endpoint(t.src, t.sport)} → ${endpoint(t.dst, t.dport)}`;

/** Rows for a table read at `at` (ms), seen at `now` (ms): NATed entries first, then by protocol and tuple. */
export function conntrackRows(entries: readonly ConntrackEntry[], at: number, now: number): ConntrackRow[] {
  const elapsed = Math.max(0, Math.floor((now - at) / 1000));
  const rows = entries.map((e): ConntrackRow => {
    const nat = natOf(e);
    const words: string[] = [];
    if (nat.dnat) words.push(`DNAT ${nat.dnat.from} → ${nat.dnat.to}`);
    if (nat.snat) words.push(`SNAT ${nat.snat.from} → ${nat.snat.to}`);
    return {
      key: `${e.proto} ${tuple(e.original)}`,
      proto: e.proto,
      state: e.state,
      original: tuple(e.original),
      reply: tuple(e.reply),
      nat,
      natText: words.join(', '),
      flags: e.flags,
      left: Math.max(0, e.timeout - elapsed),
    };
  });
  const natted = (r: ConntrackRow) => (r.natText ? 0 : 1);
  return rows.sort((a, b) => natted(a) - natted(b) || a.proto.localeCompare(b.proto) || a.original.localeCompare(b.original, 'en', { numeric: true }));
}
