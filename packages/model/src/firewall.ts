/**
 * Raw firewall rules: a node's `firewall:` list in the topology file, one iptables rule
 * per line as `iptables` itself takes it ("-t filter -A INPUT -p icmp -j DROP"). They
 * become `other` rules of the node, the same shape `iptables-save` is read into, so a
 * rule typed in a shell, exported, and applied again is the same rule.
 */
import { canonicalPrefix } from './address';
import type { OtherRule } from './nat';
import { splitRuleLine } from './nat';

/** The tables `iptables -t` accepts. */
export const FIREWALL_TABLES: ReadonlySet<string> = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);

/** The chains every table starts with (iptables-extensions(8), "TABLES"); others must be made with -N first. */
export const BUILTIN_CHAINS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['filter', new Set(['INPUT', 'FORWARD', 'OUTPUT'])],
  ['nat', new Set(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'])],
  ['mangle', new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'])],
  ['raw', new Set(['PREROUTING', 'OUTPUT'])],
  ['security', new Set(['INPUT', 'FORWARD', 'OUTPUT'])],
]);

/** A chain name as iptables allows it: up to 28 characters, no whitespace, not an option. */
const CHAIN = /^[A-Za-z0-9_.:@+-]{1,28}$/;

/**
 * Reads one `firewall:` line into a rule. Only appends (`-A`) are rules: the line says
 * what the node has, not a command to run, so -I, -D, -F, -P and the like are refused.
 */
export function parseFirewallLine(text: string): { ok: true; rule: OtherRule } | { ok: false; message: string } {
  if (/[\0\n\r]/.test(text)) return { ok: false, message: 'a firewall rule is one line: remove the line break' };
  const words = splitRuleLine(text.trim());
  if (words[0] === 'iptables') words.shift();
  let table = 'filter';
  if (words[0] === '-t' || words[0] === '--table') {
    table = words[1] ?? '';
    words.splice(0, 2);
    if (!FIREWALL_TABLES.has(table)) return { ok: false, message: `"${table}" is not an iptables table: use filter, nat, mangle, raw or security` };
  }
  if (words[0] === '-P' || words[0] === '--policy') {
    return { ok: false, message: `"${text}" sets a chain's policy, which the node's policies: key holds: write policies: { ${table}/${words[1] ?? 'FORWARD'}: ${words[2] ?? 'DROP'} }` };
  }
  if (words[0] !== '-A' && words[0] !== '--append') {
    return { ok: false, message: `"${text}" is not a rule nslab can keep: write it as iptables would append it, e.g. "-t filter -A INPUT -p icmp -j DROP"` };
  }
  const chain = words[1] ?? '';
  if (!CHAIN.test(chain)) return { ok: false, message: `"${chain}" is not a chain name: e.g. INPUT, FORWARD or OUTPUT` };
  const args = canonicalArgs(words.slice(2));
  if (args.length === 0) return { ok: false, message: `the rule for ${table}/${chain} has no match or target: add e.g. "-j DROP"` };
  if (args.includes('-t') || args.includes('-A') || args.includes('-I') || args.includes('-D')) {
    return { ok: false, message: `"${text}": the table and chain come first, once ("-t TABLE -A CHAIN ...")` };
  }
  return { ok: true, rule: { type: 'other', table, chain, args } };
}

/** The rule as a `firewall:` line ("-t filter -A INPUT -p icmp -j DROP"), quoting words as iptables-save does. */
export function formatFirewallLine(rule: OtherRule): string {
  const quote = (w: string) => (w === '' || /[\s"\\]/.test(w) ? `"${w.replace(/(["\\])/g, '\\$1')}"` : w);
  return ['-t', rule.table, '-A', rule.chain, ...rule.args].map(quote).join(' ');
}

/**
 * The spelling `iptables-save` prints for what a user may write shorter, so that a rule
 * written by hand matches the rule read back: "-s 10.0.0.1" is "-s 10.0.0.1/32", and a
 * port match after "-p tcp" names its module ("-p tcp -m tcp --dport 80").
 */
function canonicalArgs(args: string[]): string[] {
  const out: string[] = [];
  let proto: string | undefined;
  let protoModule = false;
  for (let i = 0; i < args.length; i += 1) {
    const w = args[i] as string;
    const next = args[i + 1];
    if ((w === '-s' || w === '-d' || w === '--source' || w === '--destination') && next !== undefined) {
      out.push(w.length === 2 ? w : w === '--source' ? '-s' : '-d', canonicalPrefix(next) ?? next);
      i += 1;
      continue;
    }
    if ((w === '-p' || w === '--protocol') && next !== undefined) {
      proto = next;
      out.push('-p', next);
      i += 1;
      continue;
    }
    if (w === '-m' && next !== undefined && next === proto) protoModule = true;
    if ((w === '--dport' || w === '--sport' || w === '--destination-port' || w === '--source-port') && (proto === 'tcp' || proto === 'udp') && !protoModule) {
      out.push('-m', proto);
      protoModule = true;
    }
    out.push(w === '--destination-port' ? '--dport' : w === '--source-port' ? '--sport' : w);
  }
  return out;
}
