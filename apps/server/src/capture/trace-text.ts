/**
 * A trace for the command line: the text a learner reads (`nslab trace`), and the
 * JSON a script reads (`nslab trace --json`), each hop with its rule verdicts. Pure.
 */
import type { PingTraceResult } from '@nslab/model';
import { hopEndpoints, rewriteKind, rewriteText, rulesByHop } from '@nslab/model';

/** The JSON of `nslab trace --json`: {reached, hops: [...], cause} and what else the trace knows. */
export function traceJson(result: PingTraceResult): Record<string, unknown> {
  const rules = rulesByHop(result);
  const start = result.hops[0]?.time ?? 0;
  return {
    reached: result.ok,
    source: result.source,
    destination: result.destination,
    flow: result.flow ?? { proto: 'icmp' },
    hops: result.hops.map((h, i) => ({
      node: h.node,
      interface: h.interface,
      direction: h.direction,
      packet: h.type,
      what: h.what ?? (h.type === 'request' ? 'echo request' : 'echo reply'),
      src: h.src,
      dst: h.dst,
      ...(h.sport !== undefined ? { sport: h.sport } : {}),
      ...(h.dport !== undefined ? { dport: h.dport } : {}),
      ms: Math.round((h.time - start) * 1e6) / 1e3,
      rewrites: h.rewritten ?? null,
      ...(h.encapsulation !== undefined ? { encapsulation: h.encapsulation } : {}),
      rules: (rules[i] ?? []).map((r) => ({ table: r.table, chain: r.chain, rule: r.rule, verdict: r.verdict })),
    })),
    cause: result.cause,
    droppedBy: result.droppedBy ?? null,
    conntrack: result.conntrack ?? [],
    dropped: result.dropped,
  };
}

/** The trace as lines of text. */
export function traceText(result: PingTraceResult): string {
  const flow = result.flow ?? { proto: 'icmp' as const };
  const lines: string[] = [];
  const to = flow.port === undefined ? result.destination : `${result.destination} ${flow.proto} port ${flow.port}`;
  lines.push(`trace ${flow.proto} from ${result.source} to ${to}${flow.sport !== undefined ? ` (from port ${flow.sport})` : ''}`);
  const rules = rulesByHop(result);
  const start = result.hops[0]?.time ?? 0;
  result.hops.forEach((h, i) => {
    const ms = ((h.time - start) * 1000).toFixed(3).padStart(8);
    const what = (h.what ?? (h.type === 'request' ? 'echo' : 'reply')).padEnd(8);
    lines.push(`${ms} ms  ${what} ${h.node}:${h.interface} ${h.direction ?? '?'}  ${hopEndpoints(h)}`);
    if (h.rewritten !== undefined) lines.push(`             ${rewriteKind(h.rewritten, h.type)}: ${rewriteText(h.rewritten)}`);
    for (const r of rules[i] ?? []) {
      if (r.verdict === 'continue' && r.rule === 'policy') continue;
      lines.push(`             ${r.table} ${r.chain}: ${r.rule === 'policy' ? 'policy' : r.rule} -> ${r.verdict}`);
    }
  });
  if (result.hops.length === 0) lines.push('  (the packet was not seen on any interface of the lab)');
  for (const e of result.conntrack ?? []) {
    const t = (x: { src: string; dst: string; sport?: number; dport?: number }) => hopEndpoints(x);
    lines.push(`conntrack ${e.node}: ${e.proto}${e.state ? ` ${e.state}` : ''} ${t(e.original)}, reply ${t(e.reply)}${e.flags.length > 0 ? ` [${e.flags.join(', ')}]` : ''}`);
  }
  lines.push(result.ok ? 'reached' : `not reached: ${result.cause ?? 'no answer'}`);
  if (result.dropped > 0) lines.push(`(the captures lost ${result.dropped} packet${result.dropped === 1 ? '' : 's'}: hops may be missing)`);
  return `${lines.join('\n')}\n`;
}
