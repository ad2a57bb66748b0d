/**
 * The check of a file's raw firewall rules before anything runs: iptables itself reads
 * them (`iptables-restore --test`; ip6tables-restore and `nft -c` the file's firewall6:
 * and nftables:), in a network namespace made for the check alone
 * (`unshare --net`, gone when the check ends), so a rule iptables would refuse is a
 * problem of the file with its path, and no lab namespace is touched by the check.
 */
import type { Namespace, OtherRule, Problem, Topology } from '@nslab/model';
import { BUILTIN_CHAINS, parseFirewallLine, pathOf } from '@nslab/model';
import { run } from './runner';

/** One line of iptables-restore input: words quoted the way iptables-save quotes them. */
function restoreLine(rule: OtherRule): string {
  const quote = (w: string) => (w === '' || /[\s"\\]/.test(w) ? `"${w.replace(/(["\\])/g, '\\$1')}"` : w);
  return ['-A', rule.chain, ...rule.args].map(quote).join(' ');
}

/** The iptables-restore input of a node's raw rules, and which firewall entry each line is. */
export function restoreInput(rules: OtherRule[]): { text: string; entryOfLine: Map<number, number> } {
  const lines: string[] = [];
  const entryOfLine = new Map<number, number>();
  const tables = [...new Set(rules.map((r) => r.table))];
  for (const table of tables) {
    lines.push(`*${table}`);
    const builtin = BUILTIN_CHAINS.get(table) ?? new Set<string>();
    const own = [...new Set(rules.filter((r) => r.table === table && !builtin.has(r.chain)).map((r) => r.chain))];
    for (const chain of own) lines.push(`:${chain} - [0:0]`);
    rules.forEach((r, i) => {
      if (r.table !== table) return;
      lines.push(restoreLine(r));
      entryOfLine.set(lines.length, i);
    });
    lines.push('COMMIT');
  }
  return { text: lines.join('\n') + '\n', entryOfLine };
}

/** The first line of what a tool said that is not a usage hint, without the tool's name. */
function said(stderr: string, tool: string): string {
  return stderr.split('\n').find((l) => l.trim() && !/^Error occurred|^Try /.test(l))?.replace(new RegExp(`^${tool}[^:]*:\\s*`), '').trim() ?? 'it refused them';
}

/**
 * A node's `nftables:` tables, each read by `nft -c -f -` (check only), and its `firewall6:`
 * lines by `ip6tables-restore --test`, both in a network namespace made for the check.
 */
async function checkNative(node: string, ns: Namespace): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [table, text] of Object.entries(ns.nftables ?? {})) {
    const result = await run(['unshare', '--net', 'nft', '-c', '-f', '-'], { input: text, allowFailure: true });
    if (result.code !== 0) {
      const message = result.stderr.split('\n').find((l) => /Error:/.test(l))?.replace(/^.*?Error:\s*/, '').trim() ?? 'it refused the table';
      const line = /^\/dev\/stdin:(\d+):/m.exec(result.stderr)?.[1];
      problems.push({ path: pathOf('nodes', node, 'nftables', table), message: `nft refuses table ${table} of ${node}${line ? ` at line ${line}` : ''}: ${message}: fix it` });
    }
  }
  const lines = ns.ip6tables ?? [];
  const rules = lines.flatMap((l) => { const r = parseFirewallLine(l); return r.ok ? [r.rule] : []; });
  if (rules.length > 0) {
    const { text, entryOfLine } = restoreInput(rules);
    const result = await run(['unshare', '--net', 'ip6tables-restore', '--test'], { input: text, allowFailure: true });
    if (result.code !== 0) {
      const entry = entryOfLine.get(Number(/line:? (\d+)/.exec(result.stderr)?.[1] ?? 0));
      problems.push({
        path: entry === undefined ? pathOf('nodes', node, 'firewall6') : pathOf('nodes', node, 'firewall6', entry),
        message: `ip6tables refuses ${entry === undefined ? `the ip6tables rules of ${node}` : `this rule of ${node}`}: ${said(result.stderr, 'ip6tables-restore')}: fix or remove it`,
      });
    }
  }
  return problems;
}

/** Problems with the raw firewall rules of every node that lists `firewall:`; empty when iptables accepts them all. */
export async function checkFirewall(topology: Topology): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [node, ns] of Object.entries(topology.nodes)) {
    problems.push(...(await checkNative(node, ns)));
    if (!ns.firewall) continue;
    // A file's `nat:` entries are never `other`: these are its `firewall:` lines, in order.
    const rules = ns.nat.filter((r): r is OtherRule => r.type === 'other');
    if (rules.length === 0) continue;
    const { text, entryOfLine } = restoreInput(rules);
    const result = await run(['unshare', '--net', 'iptables-restore', '--test'], { input: text, allowFailure: true });
    if (result.code === 0) continue;
    const line = Number(/line:? (\d+)/.exec(result.stderr)?.[1] ?? 0);
    const entry = entryOfLine.get(line);
    const said = result.stderr.split('\n').find((l) => l.trim() && !/^Error occurred|^Try /.test(l))?.replace(/^iptables-restore[^:]*:\s*/, '').trim() ?? 'it refused the rules';
    problems.push({
      path: entry === undefined ? pathOf('nodes', node, 'firewall') : pathOf('nodes', node, 'firewall', entry),
      message: `iptables refuses ${entry === undefined ? `the firewall rules of ${node}` : `this rule of ${node}`}: ${said}: fix or remove it`,
    });
  }
  return problems;
}
