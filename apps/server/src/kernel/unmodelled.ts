/**
 * Reads the firewall state outside iptables' IPv4 tables (model nftables.ts): native
 * nftables tables, with the text of each, and ip6tables rules. Both readers (nsread.ts, the `ip` fallback in
 * observe.ts) call it after iptables-save, with their own way into the namespace.
 */
import type { Namespace } from '@nslab/model';
import { isIptablesTable, parseIp6tablesSave, parseNftTables } from '@nslab/model';
import { run } from './runner';

/** How long one read may take: `nft` and `ip6tables-save` answer in milliseconds unless the machine is stuck. */
const READ_TIMEOUT_MS = 10_000;

/**
 * Sets `nftables` and `ip6tables` of a namespace, running `nft -j list tables` (and
 * `ip6tables-save` when ip6tables has a table) through `enter` (an argv prefix that runs a
 * command inside the namespace). `knownTables`: how many nftables tables the namespace has
 * when the caller knows it; with `ipv4Tables` (the tables iptables-save printed) equal to it,
 * every table is iptables' own and nothing is read.
 */
export async function readUnmodelled(namespace: Namespace, enter: readonly string[], ipv4Tables: number, knownTables?: number): Promise<void> {
  if (knownTables !== undefined && knownTables <= ipv4Tables) return;
  const listed = await run([...enter, 'nft', '-j', 'list', 'tables'], { allowFailure: true, timeoutMs: READ_TIMEOUT_MS });
  if (listed.code !== 0) return; // no nft here: nothing more can be read
  const native = parseNftTables(listed.stdout);
  if (native.length > 0) {
    // Each table as `nft list table` prints it: the text a file's nftables: holds, and an apply loads back.
    const tables = Object.create(null) as Record<string, string>;
    const texts = await Promise.all(native.map((t) => run([...enter, 'nft', 'list', 'table', ...t.split(' ')], { allowFailure: true, timeoutMs: READ_TIMEOUT_MS })));
    native.forEach((t, i) => {
      const text = texts[i];
      if (text?.code === 0) tables[t] = `${text.stdout.trim()}\n`;
    });
    namespace.nftables = tables;
  }
  const ip6 = /"family":\s*"ip6",\s*"name":\s*"([a-z]+)"/g;
  const hasIp6 = [...listed.stdout.matchAll(ip6)].some((m) => isIptablesTable('ip6', m[1] ?? ''));
  if (!hasIp6) return;
  const saved = await run([...enter, 'ip6tables-save'], { allowFailure: true, timeoutMs: READ_TIMEOUT_MS });
  if (saved.code !== 0) return;
  const rules = parseIp6tablesSave(saved.stdout);
  if (rules.length > 0) namespace.ip6tables = rules;
}

/** How many tables an iptables-save output holds (its "*TABLE" lines). */
export function savedTables(text: string): number {
  return text.split('\n').filter((l) => l.startsWith('*')).length;
}
