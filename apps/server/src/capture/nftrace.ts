/**
 * The kernel's own account of which netfilter rules a traced packet met: a
 * temporary table with `meta nftrace set 1` rules limited to the traced flow, in
 * every namespace of a lab, read back with `nft monitor trace` (iptables rules are
 * nftables rules underneath here, so both appear). The table is removed afterwards,
 * even when the trace fails.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { RuleVerdict, TraceProto } from '@nslab/model';
import { run, start } from '../kernel/runner';

/**
 * Priority of the tracing chains: before raw (-300) and conntrack (-200), so every
 * later chain of every table is traced. nft's own docs use -350 for this.
 */
const TRACE_PRIORITY = -350;
/**
 * How long the monitors get to show they are listening: well under 100 ms on an idle machine,
 * but over 5 s was seen on 2 cores shared by several end-to-end runs. Waiting longer costs only
 * a slower answer; a monitor that never answers leaves the trace without rule verdicts.
 */
const READY_TIMEOUT_MS = 15_000;
/**
 * nft gives no sign of when a monitor listens, so one that starts after the table was added
 * misses that event: until it reports something of the table, a chain is added to it and
 * removed again this often, and each such change is an event it reports once it listens.
 */
const PROBE_INTERVAL_MS = 500;
/** How long the monitors get to report the table's removal, i.e. to have read every trace event before it. */
const DRAIN_TIMEOUT_MS = 3_000;
/** Lines kept per namespace, so a flood of matching packets cannot grow a trace without bound. */
const MAX_LINES = 20_000;

/** What the tracing rules match: the flow's protocol and the port the probe sends from (its replies come back to it). */
export interface TraceMatch {
  proto: TraceProto;
  family: 4 | 6;
  /** TCP/UDP: the probe's own source port. */
  sport?: number;
}

/** The nft script of the temporary table. Built from numbers and fixed words only. */
export function traceTableScript(table: string, match: TraceMatch): string {
  const sets: string[] = [];
  if (match.proto === 'icmp') {
    sets.push(match.family === 4 ? 'icmp type { echo-request, echo-reply }' : 'icmpv6 type { echo-request, echo-reply }');
  } else {
    const port = String(match.sport ?? 0);
    sets.push(`meta l4proto ${match.proto} th sport ${port}`, `meta l4proto ${match.proto} th dport ${port}`);
    // A datagram nobody listens for is answered with an ICMP error.
    if (match.proto === 'udp') sets.push(match.family === 4 ? 'icmp type destination-unreachable' : 'icmpv6 type destination-unreachable');
  }
  const rules = (chain: string) => sets.map((s) => `add rule inet ${table} ${chain} ${s} meta nftrace set 1`);
  return [
    `add table inet ${table}`,
    `add chain inet ${table} pre { type filter hook prerouting priority ${TRACE_PRIORITY}; }`,
    `add chain inet ${table} out { type filter hook output priority ${TRACE_PRIORITY}; }`,
    ...rules('pre'),
    ...rules('out'),
    '',
  ].join('\n');
}

/** A fresh name for the temporary table; lowercase letters, digits and underscores as nft accepts. */
export function traceTableName(): string {
  return `nslab_trace_${randomBytes(4).toString('hex')}`;
}

/** One parsed line of `nft monitor trace`. */
export interface TraceLine {
  id: string;
  family: string;
  table: string;
  chain: string;
  kind: 'packet' | 'rule' | 'policy' | 'verdict';
  /** packet: the header fields as nft printed them; rule: the rule text; policy/verdict: the verdict. */
  text: string;
  verdict?: string;
  handle?: number;
}

const LINE = /^trace id (\S+) (\S+) (\S+) (\S+) (packet: |rule |policy |verdict |unknown rule handle )(.*)$/;

/** Parses one line of `nft -a monitor` output; null for lines that are not trace events. */
export function parseTraceLine(line: string): TraceLine | null {
  const m = LINE.exec(line.trimEnd());
  if (m === null) return null;
  const [, id = '', family = '', table = '', chain = '', word = '', rest = ''] = m;
  const base = { id, family, table, chain };
  switch (word) {
    case 'packet: ':
      return { ...base, kind: 'packet', text: rest };
    case 'policy ':
      return { ...base, kind: 'policy', text: rest.trim(), verdict: rest.trim() };
    case 'verdict ':
      return { ...base, kind: 'verdict', text: rest.trim(), verdict: rest.trim() };
    default: {
      // "<rule text> # handle N (verdict V)" or, for a rule nft has no cache of, "N (verdict V)".
      const v = /^(.*?)\s*\(verdict ([^)]*)\)$/.exec(rest);
      let text = v?.[1] ?? rest;
      const verdict = v?.[2];
      let handle: number | undefined;
      const h = /^(.*?)\s*# handle (\d+)$/.exec(text);
      if (h) {
        text = h[1] ?? '';
        handle = Number(h[2]);
      } else if (word === 'unknown rule handle ' && /^\d+$/.test(text)) {
        handle = Number(text);
        text = `rule with handle ${text}`;
      }
      return { ...base, kind: 'rule', text: text.replace(/\s+/g, ' ').trim(), ...(verdict !== undefined ? { verdict } : {}), ...(handle !== undefined ? { handle } : {}) };
    }
  }
}

/** The addresses, ports and ICMP identity in a trace's "packet:" line. */
export interface TracedHeader {
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  icmpType?: string;
  icmpId?: number;
}

/** Reads the header fields nft printed for a packet. */
export function parseTracedHeader(text: string): TracedHeader {
  const out: TracedHeader = {};
  const word = (re: RegExp) => re.exec(text)?.[1];
  const src = word(/\bip6? saddr (\S+)/);
  const dst = word(/\bip6? daddr (\S+)/);
  const sport = word(/\b(?:tcp|udp) sport (\d+)/);
  const dport = word(/\b(?:tcp|udp) dport (\d+)/);
  const icmpType = word(/\bicmp(?:v6)? type (\S+)/);
  const icmpId = word(/\bicmp(?:v6)? id (\d+)/);
  if (src !== undefined) out.src = src;
  if (dst !== undefined) out.dst = dst;
  if (sport !== undefined) out.sport = Number(sport);
  if (dport !== undefined) out.dport = Number(dport);
  if (icmpType !== undefined) out.icmpType = icmpType;
  if (icmpId !== undefined) out.icmpId = Number(icmpId);
  return out;
}

/** A namespace's trace lines, as read. */
export interface NamespaceTrace {
  node: string;
  netns: string;
  lines: TraceLine[];
}

/**
 * Rule verdicts from every namespace's trace lines, limited to the traced flow:
 * `direction` says whether a packet header is the request, the reply, or not part
 * of the flow (undefined). The tracing table's own rules are left out.
 */
export function verdictsOf(traces: readonly NamespaceTrace[], table: string, direction: (h: TracedHeader) => 'request' | 'reply' | undefined): RuleVerdict[] {
  const out: RuleVerdict[] = [];
  for (const t of traces) {
    const header = new Map<string, TracedHeader>();
    for (const line of t.lines) {
      if (line.kind === 'packet') {
        header.set(line.id, parseTracedHeader(line.text));
        continue;
      }
      if (line.table === table) continue;
      const h = header.get(line.id);
      const type = h === undefined ? undefined : direction(h);
      if (h === undefined || type === undefined) continue;
      const verdict: RuleVerdict = {
        node: t.node, table: `${line.family} ${line.table}`, chain: line.chain,
        rule: line.kind === 'rule' ? line.text : 'policy', verdict: line.verdict ?? 'continue',
        type, src: h.src ?? '', dst: h.dst ?? '', index: out.length,
      };
      if (h.sport !== undefined) verdict.sport = h.sport;
      if (h.dport !== undefined) verdict.dport = h.dport;
      if (line.handle !== undefined) handles.set(verdict, line.handle);
      out.push(verdict);
    }
  }
  return out;
}

/** The nft handle of each verdict's rule, kept off the wire (it only serves to find the iptables spelling). */
const handles = new WeakMap<RuleVerdict, number>();

/** iptables' tables, whose rules are shown as iptables -S prints them. */
const IPTABLES_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);

/**
 * Rewrites rule texts of iptables' tables into iptables syntax ("-A FORWARD -d
 * 10.0.2.1/32 -j DROP"): the rule's position in its chain (by nft handle) picks the
 * line of `iptables -S CHAIN`.
 */
export async function spellAsIptables(verdicts: RuleVerdict[], netnsOf: (node: string) => string | undefined): Promise<void> {
  const chains = new Map<string, Promise<Map<number, string>>>();
  for (const v of verdicts) {
    const handle = handles.get(v);
    const [family = '', table = ''] = v.table.split(' ');
    const netns = netnsOf(v.node);
    if (handle === undefined || netns === undefined || !IPTABLES_TABLES.has(table) || (family !== 'ip' && family !== 'ip6')) continue;
    const key = `${v.node} ${v.table} ${v.chain}`;
    let lines = chains.get(key);
    if (lines === undefined) {
      lines = iptablesLines(netns, family, table, v.chain);
      chains.set(key, lines);
    }
    const spelled = (await lines).get(handle);
    if (spelled !== undefined) v.rule = spelled;
  }
}

async function iptablesLines(netns: string, family: string, table: string, chain: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  // `nft -j list chain` lists the chain's rules in order, each with its handle.
  const nft = await run(['ip', 'netns', 'exec', netns, 'nft', '-a', '-j', 'list', 'chain', family, table, chain], { allowFailure: true, timeoutMs: 5_000 });
  const ipt = await run(['ip', 'netns', 'exec', netns, family === 'ip6' ? 'ip6tables' : 'iptables', '-t', table, '-S', chain], { allowFailure: true, timeoutMs: 5_000 });
  if (nft.code !== 0 || ipt.code !== 0) return out;
  let order: number[];
  try {
    const parsed = JSON.parse(nft.stdout) as { nftables?: { rule?: { handle?: number } }[] };
    order = (parsed.nftables ?? []).flatMap((e) => (e.rule?.handle !== undefined ? [e.rule.handle] : []));
  } catch {
    return out;
  }
  const rules = ipt.stdout.split('\n').filter((l) => l.startsWith('-A '));
  if (rules.length !== order.length) return out;
  order.forEach((handle, i) => out.set(handle, rules[i] as string));
  return out;
}

/** A running trace: one `nft -a monitor` per namespace and the temporary table in each. */
export class NfTrace {
  readonly table = traceTableName();
  private readonly monitors: { ns: { node: string; netns: string }; child: ChildProcess; lines: string[]; tail: string; waiters: (() => void)[] }[] = [];
  private installed: string[] = [];

  constructor(
    private readonly namespaces: readonly { node: string; netns: string }[],
    private readonly match: TraceMatch,
    /** monitorsLate: the monitors start only once the tables are there (what a loaded machine does to a slow monitor), for tests. */
    private readonly options: { monitorsLate?: boolean } = {},
  ) {}

  /**
   * Starts the monitors, then adds the tables, and resolves once every monitor has
   * reported its table being added (so it was listening before the first traced
   * packet). False when tracing is unavailable (nft missing, a monitor that never
   * answered): the trace goes on without rule verdicts.
   */
  async start(): Promise<boolean> {
    if (!this.options.monitorsLate) this.startMonitors();
    const script = traceTableScript(this.table, this.match);
    const added = await Promise.all(
      this.namespaces.map(async (ns) => {
        const r = await run(['ip', 'netns', 'exec', ns.netns, 'nft', '-f', '-'], { input: script, allowFailure: true, timeoutMs: 5_000 });
        if (r.code === 0) this.installed.push(ns.netns);
        return r.code === 0;
      }),
    );
    if (this.options.monitorsLate) this.startMonitors();
    if (!added.every(Boolean)) return false;
    const ready = await Promise.all(this.monitors.map((m) => this.listening(m)));
    return ready.every(Boolean);
  }

  private startMonitors(): void {
    for (const ns of this.namespaces) {
      // A long-running reader: started, not run (run waits for an exit).
      const { child } = start(['ip', 'netns', 'exec', ns.netns, 'nft', '-a', 'monitor']);
      const m = { ns, child, lines: [] as string[], tail: '', waiters: [] as (() => void)[] };
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        const parts = (m.tail + chunk).split('\n');
        m.tail = parts.pop() ?? '';
        for (const p of parts) if (m.lines.length < MAX_LINES) m.lines.push(p);
        for (const w of m.waiters.splice(0)) w();
      });
      this.monitors.push(m);
    }
  }

  /** True once the monitor reports a change of the trace table (the table's addition, or a probe chain's). */
  private async listening(m: NfTrace['monitors'][number]): Promise<boolean> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const mark = ` inet ${this.table}`;
    for (let probe = 0; ; probe += 1) {
      if (await this.seen(m, (l) => /^(add|delete) (table|chain)/.test(l) && l.includes(mark), Math.min(PROBE_INTERVAL_MS, deadline - Date.now()))) return true;
      if (Date.now() >= deadline || m.child.exitCode !== null || m.child.signalCode !== null) return false;
      const chain = `nslab_ready_${probe}`;
      await run(['ip', 'netns', 'exec', m.ns.netns, 'nft', '-f', '-'], { input: `add chain inet ${this.table} ${chain}\ndelete chain inet ${this.table} ${chain}\n`, allowFailure: true, timeoutMs: 5_000 });
    }
  }

  /** Removes the tables, waits until each monitor has read up to their removal, stops the monitors, and returns what they read. */
  async stop(): Promise<NamespaceTrace[]> {
    const installed = this.installed;
    this.installed = [];
    await Promise.all(installed.map((netns) => run(['ip', 'netns', 'exec', netns, 'nft', 'delete', 'table', 'inet', this.table], { allowFailure: true, timeoutMs: 5_000 })));
    await Promise.all(this.monitors.filter((m) => installed.includes(m.ns.netns)).map((m) => this.seen(m, (l) => l.startsWith(`delete table inet ${this.table}`), DRAIN_TIMEOUT_MS)));
    const out: NamespaceTrace[] = [];
    for (const m of this.monitors) {
      await new Promise<void>((resolve) => {
        if (m.child.exitCode !== null || m.child.signalCode !== null) return resolve();
        m.child.once('close', () => resolve());
        m.child.kill('SIGTERM');
      });
      const lines = m.lines.map(parseTraceLine).filter((l): l is TraceLine => l !== null);
      out.push({ node: m.ns.node, netns: m.ns.netns, lines });
    }
    this.monitors.length = 0;
    return out;
  }

  private seen(m: NfTrace['monitors'][number], wanted: (line: string) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let finished = false;
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (ok: boolean) => {
        finished = true;
        clearTimeout(timer);
        resolve(ok);
      };
      const check = () => {
        if (finished) return;
        if (m.lines.some(wanted)) return done(true);
        if (m.child.exitCode !== null || m.child.signalCode !== null) return done(false);
        m.waiters.push(check);
      };
      m.child.once('close', () => done(m.lines.some(wanted)));
      check();
    });
  }
}
