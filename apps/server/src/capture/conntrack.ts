/**
 * Connection tracking per namespace: what NAT remembers. `conntrack -L` prints one
 * entry a line; the first set of src/dst/ports is the original direction, the
 * second the reply the kernel expects, which NAT makes differ from the original.
 */
import type { ConntrackEntry, ConntrackTuple } from '@nslab/model';
import { run } from '../kernel/runner';

/** Entries read per namespace at most: a lab under a flood can track many thousands. */
export const MAX_CONNTRACK_ENTRIES = 2_000;

/** `conntrack -L` inside a namespace. */
export function conntrackArgv(netns: string): string[] {
  return ['ip', 'netns', 'exec', netns, 'conntrack', '-L'];
}

/** `conntrack -E` inside a namespace: one line per entry created, changed or destroyed, as it happens. */
export function conntrackEventsArgv(netns: string): string[] {
  return ['ip', 'netns', 'exec', netns, 'conntrack', '-E'];
}

/**
 * Parses one line of `conntrack -L`, for example
 * "tcp      6 118 SYN_SENT src=10.0.0.1 dst=203.0.113.1 sport=40000 dport=8080 [UNREPLIED] src=192.168.1.1 dst=10.0.0.1 sport=80 dport=40000 mark=0 use=1".
 */
export function parseConntrackLine(node: string, line: string): ConntrackEntry | null {
  const words = line.trim().split(/\s+/);
  const [proto, , timeout] = words;
  if (proto === undefined || timeout === undefined || !/^\d+$/.test(timeout)) return null;
  let state = '';
  const tuples: ConntrackTuple[] = [];
  const flags: string[] = [];
  let current: Partial<ConntrackTuple> | null = null;
  for (const word of words.slice(3)) {
    const eq = word.indexOf('=');
    if (word.startsWith('[') && word.endsWith(']')) {
      flags.push(word.slice(1, -1));
      continue;
    }
    if (eq < 0) {
      if (/^[A-Z_]+$/.test(word) && tuples.length === 0 && current === null) state = word;
      continue;
    }
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key === 'src') {
      if (current?.src !== undefined && current.dst !== undefined) tuples.push(current as ConntrackTuple);
      current = { src: value };
    } else if (current !== null && key === 'dst') current.dst = value;
    else if (current !== null && key === 'sport') current.sport = Number(value);
    else if (current !== null && key === 'dport') current.dport = Number(value);
  }
  if (current?.src !== undefined && current.dst !== undefined) tuples.push(current as ConntrackTuple);
  const [original, reply] = tuples;
  if (original === undefined || reply === undefined) return null;
  return { node, proto, state, original, reply, flags, timeout: Number(timeout) };
}

/** A namespace's table as read: up to `limit` entries of `total`, or why it could not be read. */
export interface ConntrackTable {
  entries: ConntrackEntry[];
  total: number;
  error?: string;
}

/** Reads the lines of `conntrack -L`: the first `limit` entries, and how many the table held. */
export function parseConntrackTable(node: string, text: string, limit: number): { entries: ConntrackEntry[]; total: number } {
  const entries: ConntrackEntry[] = [];
  let total = 0;
  for (const line of text.split('\n')) {
    const entry = parseConntrackLine(node, line);
    if (entry === null) continue;
    total += 1;
    if (entries.length < limit) entries.push(entry);
  }
  return { entries, total };
}

/** A namespace's conntrack table (up to `limit` entries); `error` in words when it cannot be read. */
export async function readConntrackTable(node: string, netns: string, limit = MAX_CONNTRACK_ENTRIES): Promise<ConntrackTable> {
  const r = await run(conntrackArgv(netns), { allowFailure: true, timeoutMs: 5_000 });
  if (r.code !== 0) {
    const said = r.stderr.trim().split('\n').pop() ?? '';
    return { entries: [], total: 0, error: `the conntrack table of ${node} could not be read${said ? `: ${said}` : ''}` };
  }
  return parseConntrackTable(node, r.stdout, limit);
}

/** Every entry of a namespace's conntrack table (up to MAX_CONNTRACK_ENTRIES); empty when conntrack cannot be read. */
export async function readConntrack(node: string, netns: string): Promise<ConntrackEntry[]> {
  return (await readConntrackTable(node, netns)).entries;
}

/** True when an entry is the traced flow: one of its tuples carries the probe's port (TCP/UDP) or its addresses (ICMP). */
export function isTracedFlow(entry: ConntrackEntry, flow: { proto: string; sport?: number; src: string; dst: string }): boolean {
  if (flow.proto === 'icmp') return (entry.proto === 'icmp' || entry.proto === 'ipv6-icmp') && entry.original.src === flow.src && entry.original.dst === flow.dst;
  if (entry.proto !== flow.proto) return false;
  return [entry.original, entry.reply].some((t) => t.sport === flow.sport || t.dport === flow.sport);
}
