/**
 * Firewall state outside iptables' IPv4 tables: native nftables tables (made with
 * `nft add table ...`), held as the text `nft list table` prints, and ip6tables rules,
 * as firewall lines. They are shown and kept; a file that lists them (`nftables:`,
 * `firewall6:`) has them made exactly so (plan.ts), and export writes them.
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

/** The families `nft` has tables in (nft(8), "ADDRESS FAMILIES"). */
const NFT_FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);

/**
 * Why a file's `nftables:` entry cannot be a native table, or undefined: the key is "FAMILY NAME"
 * of a table iptables does not own, and the text defines that table and no other.
 */
export function nftTableProblem(key: string, text: string): string | undefined {
  const [family = '', name = '', ...rest] = key.split(' ');
  if (!NFT_FAMILIES.has(family) || !/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name) || rest.length > 0) {
    return `"${key}" is not an nftables table: write "FAMILY NAME" with a family of ${[...NFT_FAMILIES].join(', ')}, e.g. "inet filter"`;
  }
  if (isIptablesTable(family, name)) return `${key} is iptables' own table: write its rules under firewall: (or firewall6:) instead`;
  const tables = [...text.matchAll(/^\s*table\s+(\S+)\s+(\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
  if (tables.length !== 1 || tables[0] !== key) {
    return `the text of ${key} must define that table and no other, as \`nft list table ${key}\` prints it: it begins "table ${key} {"`;
  }
  return undefined;
}

/** The temporary tables of nslab's own packet traces (capture/nftrace.ts), there only while a trace runs. */
const TRACE_TABLE = /^nslab_trace_[0-9a-f]+$/;

/** The native tables of `nft -j list tables` output (not iptables-nft's, not nslab's traces), as "FAMILY NAME" ("inet t1"), sorted. */
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
