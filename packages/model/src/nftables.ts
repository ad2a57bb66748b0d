/**
 * Firewall state nslab reads but does not model: native nftables tables (made with
 * `nft add table ...`) and ip6tables rules. They are shown and kept; no plan touches
 * them, since every firewall op is an `iptables` command on iptables' own tables.
 */
import { FIREWALL_TABLES, formatFirewallLine } from './firewall';
import { splitRuleLine } from './nat';

/**
 * True for a table iptables-nft made (its `iptables`/`ip6tables` tables): family ip or ip6 and
 * one of iptables' table names. nft 1.0.6 here marks them no other way (`nft -j list tables`
 * prints family, name and handle only).
 */
export function isIptablesTable(family: string, name: string): boolean {
  return (family === 'ip' || family === 'ip6') && FIREWALL_TABLES.has(name);
}

/** The temporary tables of nslab's own packet traces (capture/nftrace.ts), there only while a trace runs. */
const TRACE_TABLE = /^nslab_trace_[0-9a-f]+$/;

/** The tables of `nft -j list tables` output that nslab does not model, as "FAMILY NAME" ("inet t1"), sorted. */
export function parseNftTables(json: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const list = (parsed as { nftables?: unknown[] } | null)?.nftables;
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const entry of list) {
    const table = (entry as { table?: { family?: unknown; name?: unknown } } | null)?.table;
    if (typeof table?.family !== 'string' || typeof table.name !== 'string') continue;
    if (isIptablesTable(table.family, table.name) || TRACE_TABLE.test(table.name)) continue;
    out.push(`${table.family} ${table.name}`);
  }
  return out.sort();
}

/** The rules of `ip6tables-save` output, each as a firewall line ("-t filter -A INPUT -p ipv6-icmp -j ACCEPT"), in order. */
export function parseIp6tablesSave(text: string): string[] {
  const out: string[] = [];
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) { table = line.slice(1); continue; }
    if (!line.startsWith('-A ')) continue;
    const words = splitRuleLine(line);
    out.push(formatFirewallLine({ type: 'other', table, chain: words[1] ?? '', args: words.slice(2) }));
  }
  return out;
}
