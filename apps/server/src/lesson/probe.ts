/**
 * Active checks: probes run inside the lab's namespaces (ping, a TCP connection, a
 * packet seen by tcpdump, a command's output). Every command is an argv array; a
 * failing probe's hint comes from the model (`diagnoseReach`, `diagnoseTcp`) when it
 * sees the cause, else from what the probe itself saw.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Check, Topology } from '@nslab/model';
import { diagnoseReach, diagnoseTcp, describeNat, netnsName, parseDnatTarget, splitCommand } from '@nslab/model';
import { run } from '../kernel/runner';
import { inNetns } from '../kernel/nsread';
import { Pinger, pingAvailable } from '../kernel/pinger';
import { traceInLab } from '../capture/lab-trace';
import { ProbeProcess } from './process';

/** A probe's verdict. */
export interface ProbeVerdict { passed: boolean; hint?: string }

/** Seconds a ping waits for its answer: on a lab's veths an answer takes well under a millisecond, so 1 s only bounds a failure's cost. */
const PING_WAIT_S = '1';
/** How long tcpdump may take to start capturing (it starts in about 50 ms here; a busy 2-core machine is slower). */
const CAPTURE_START_MS = 3000;
/** How long after the traffic a packet may still arrive at tcpdump's line-buffered output. */
const CAPTURE_SETTLE_MS = 1500;
/** A TCP check's connection gives up after this many seconds (curl -m). */
const TCP_TIMEOUT_S = '2';

/** The Python the listener uses: the system's, not a version manager's shim (which starts a shell first). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
let emptyDir: string | undefined;

type ActiveCheck = Extract<Check, { kind: 'reach' | 'no-reach' | 'tcp' | 'packet' | 'output' | 'sysctl' }>;

/** Runs one active check in a lab. */
export async function probe(check: ActiveCheck, lab: string, topology: Topology, signal?: AbortSignal): Promise<ProbeVerdict> {
  const ns = (node: string) => netnsName(lab, node);
  const missing = (node: string): ProbeVerdict | undefined => (topology.nodes[node] ? undefined : { passed: false, hint: `there is no namespace ${node} in this lab (ip netns list)` });
  switch (check.kind) {
    case 'reach':
    case 'no-reach': {
      const gone = missing(check.from);
      if (gone) return check.kind === 'reach' ? gone : { passed: true };
      const answered = await ping(ns(check.from), check.to, signal);
      if (check.kind === 'no-reach') return answered ? { passed: false, hint: `${check.from} still gets an answer from ${check.to}: nothing on the way drops it` } : { passed: true };
      if (answered) return { passed: true };
      return { passed: false, hint: diagnoseReach(topology, check.from, check.to) ?? dropHint(topology) ?? `${check.from} sent a ping to ${check.to} and got no answer` };
    }
    case 'tcp': {
      const gone = missing(check.from) ?? listenNodes(check).map(missing).find((m) => m !== undefined);
      if (gone) return gone;
      const target = parseDnatTarget(check.to);
      if (!target || target.port === undefined) return { passed: false, hint: `${check.to} is not ADDRESS:PORT` };
      const connect = async (): Promise<ProbeVerdict> => {
        const r = await run([...inNetns(ns(check.from)), 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', TCP_TIMEOUT_S, `http://${target.address}:${target.port}/`], { allowFailure: true, timeoutMs: 10_000, signal });
        if (r.code === 0) return { passed: true };
        const said = r.code === 7 ? 'the connection was refused' : r.code === 28 ? 'the connection timed out' : `curl exited with ${r.code}`;
        const why = diagnoseTcp(topology, check.from, check.to, listenNodes(check)[0]) ?? dropHint(topology);
        return { passed: false, hint: why ? `${why} (${said})` : `${check.from} → ${check.to}: ${said}` };
      };
      const requests = check.requests ?? 1;
      return withListeners(lab, check, target.port, async (listeners) => {
        for (let i = 0; i < requests; i += 1) {
          const v = await connect();
          if (!v.passed) return requests > 1 ? { passed: false, hint: `connection ${i + 1} of ${requests}: ${v.hint ?? ''}` } : v;
        }
        if (requests === 1 || listeners.length < 2) return { passed: true };
        // Every listener must have answered one of the connections: the service balances over all of them.
        const answered = listeners.map((l) => (l?.output.match(/"GET \/ HTTP/g) ?? []).length);
        const idle = listenNodes(check).filter((_, i) => answered[i] === 0);
        if (idle.length === 0) return { passed: true };
        const counts = listenNodes(check).map((n, i) => `${n} ${answered[i] ?? 0}`).join(', ');
        return { passed: false, hint: `${requests} connections to ${check.to} all went to ${listenNodes(check).filter((_, i) => (answered[i] ?? 0) > 0).join(', ') || 'no listener'} (${counts}): nothing sends any to ${idle.join(', ')}; a service with several endpoints picks one per connection (-m statistic --mode random --probability)` };
      });
    }
    case 'packet':
      return (missing(check.node) ?? missing(check.ping.from)) ?? packetSeen(check, lab, topology);
    case 'output': {
      const gone = missing(check.node);
      if (gone) return gone;
      const split = splitCommand(check.command);
      if (!split.ok) return { passed: false, hint: split.message };
      const r = await run(['ip', 'netns', 'exec', ns(check.node), ...split.argv], { allowFailure: true, timeoutMs: 5000, signal }).catch((e: Error) => ({ stdout: '', stderr: e.message, code: 127 }));
      const text = `${r.stdout}${r.stderr}`;
      const matched = new RegExp(check.pattern, 'm').test(text);
      if (matched !== (check.absent ?? false)) return { passed: true };
      const first = text.trim().split('\n').slice(0, 3).join(' | ') || '(nothing)';
      return { passed: false, hint: check.absent ? `\`${check.command}\` in ${check.node} still prints a line matching /${check.pattern}/` : `\`${check.command}\` in ${check.node} printed: ${first}` };
    }
    case 'sysctl': {
      const gone = missing(check.node);
      if (gone) return gone;
      const r = await run([...inNetns(ns(check.node)), 'sysctl', '-n', check.key], { allowFailure: true, timeoutMs: 5000, signal });
      const value = r.stdout.trim();
      if (r.code !== 0) return { passed: false, hint: `${check.node} has no sysctl ${check.key}` };
      return value === check.value ? { passed: true } : { passed: false, hint: `${check.key} = ${value} in ${check.node}, not ${check.value}` };
    }
    default: {
      const never: never = check;
      throw new Error(`not a probe: ${JSON.stringify(never)}`);
    }
  }
}

/** Seconds a hint's trace waits for its answer: the probe has just seen none, so this only bounds the trace's cost. */
const TRACE_WAIT_S = 1;

/**
 * Why a failing reach or tcp check's packet does not make it, in the words of a trace
 * of that packet (the one `nslab trace` and the page's trace give: the hop where it
 * was last seen and the kernel's reason there: forwarding off, no route, an ARP
 * nobody answered, rp_filter, a rule that dropped it). A tcp check's listeners answer
 * while it runs. Undefined when the trace saw the packet through after all.
 */
export async function traceHint(check: Extract<Check, { kind: 'reach' | 'tcp' }>, lab: string, topology: Topology): Promise<string | undefined> {
  const nodes = Object.keys(topology.nodes);
  if (check.kind === 'reach') {
    const result = await traceInLab({ lab, nodes, source: check.from, destination: check.to, waitSeconds: TRACE_WAIT_S });
    return result.ok ? undefined : (result.cause ?? undefined);
  }
  const target = parseDnatTarget(check.to);
  if (!target || target.port === undefined) return undefined;
  const trace = async () => {
    const result = await traceInLab({ lab, nodes, source: check.from, destination: target.address, proto: 'tcp', port: target.port, waitSeconds: TRACE_WAIT_S });
    return result.ok ? undefined : (result.cause ?? undefined);
  };
  return withListeners(lab, check, target.port, trace);
}

/** The echo requests of every lab's ping checks: one helper process, started at the first. */
const pinger = new Pinger();

/** One ping; a lost one is tried once more (the first packet over a path just made can wait on ARP or a port coming up). */
async function ping(netns: string, to: string, signal?: AbortSignal, tries = 2): Promise<boolean> {
  for (let i = 0; i < tries; i += 1) {
    if (pingAvailable(to)) {
      const r = await pinger.ping(netns, to, Number(PING_WAIT_S) * 1000, signal);
      if (r.kind === 'reply') return true;
      // Not sent ("Network is unreachable"): a second try will not change that.
      if (r.kind === 'error') return false;
      continue;
    }
    const r = await run([...inNetns(netns), 'ping', '-n', '-q', '-c', '1', '-W', PING_WAIT_S, to], { allowFailure: true, timeoutMs: 10_000, signal });
    if (r.code === 0) return true;
    // "Network is unreachable" (exit 2) will not change on a second try.
    if (r.code !== 1) return false;
  }
  return false;
}

/** The nodes a tcp check runs listeners in. */
function listenNodes(check: Extract<Check, { kind: 'tcp' }>): string[] {
  return check.listen === undefined ? [] : Array.isArray(check.listen) ? check.listen : [check.listen];
}

/** Listeners by namespace and port: two checks that need the same one take turns. */
const listening = new Map<string, Promise<void>>();

/** Runs `task` while a listener answers on netns:port; the task gets the listener (undefined when something else held the port). */
async function withListener<T>(netns: string, port: number, task: (listener: ProbeProcess | undefined) => Promise<T>): Promise<T> {
  const key = `${netns} ${port}`;
  const before = listening.get(key) ?? Promise.resolve();
  let release = () => {};
  const mine = new Promise<void>((ok) => { release = ok; });
  const chained = before.then(() => mine);
  listening.set(key, chained);
  await before;
  const listener = await listen(netns, port);
  try {
    return await task(listener);
  } finally {
    await listener?.stop();
    release();
    if (listening.get(key) === chained) listening.delete(key);
  }
}

/**
 * Runs `task` while a listener answers in every listen node of a tcp check (on its
 * listen-port, else the target's port), taken in name order so that two checks never
 * wait on each other; the task gets them in the check's order.
 */
async function withListeners<T>(lab: string, check: Extract<Check, { kind: 'tcp' }>, targetPort: number, task: (listeners: (ProbeProcess | undefined)[]) => Promise<T>): Promise<T> {
  const nodes = listenNodes(check);
  const order = [...nodes].sort();
  const port = check['listen-port'] ?? targetPort;
  const held = new Map<string, ProbeProcess | undefined>();
  const hold = async (i: number): Promise<T> => {
    const node = order[i];
    if (node === undefined) return task(nodes.map((n) => held.get(n)));
    return withListener(netnsName(lab, node), port, async (listener) => {
      held.set(node, listener);
      return hold(i + 1);
    });
  };
  return hold(0);
}

/** A firewall rule somewhere in the lab that drops traffic: the likely culprit when routes look right. */
function dropHint(topology: Topology): string | undefined {
  for (const [name, node] of Object.entries(topology.nodes)) {
    const rule = node.nat.find((r) => (r.type === 'forward' && r.action === 'drop') || (r.type === 'other' && r.table === 'filter' && (r.args.includes('DROP') || r.args.includes('REJECT'))));
    if (rule) return `${name} has a rule that drops traffic: ${describeNat(rule)}`;
  }
  return undefined;
}

/** A listener that answers HTTP on a port until stopped; undefined if the port is taken (then whatever holds it answers). */
async function listen(netns: string, port: number): Promise<ProbeProcess | undefined> {
  emptyDir ??= mkdtempSync(join(tmpdir(), 'nslab-probe-'));
  const p = new ProbeProcess(['ip', 'netns', 'exec', netns, PYTHON, '-u', '-m', 'http.server', String(port), '--bind', '0.0.0.0', '--directory', emptyDir]);
  if (await p.waitFor(/Serving HTTP/, 5000)) return p;
  await p.stop();
  return undefined;
}

/** Captures on node:interface while one node pings another; passes when tcpdump saw a packet matching the filter. */
async function packetSeen(check: Extract<Check, { kind: 'packet' }>, lab: string, topology: Topology): Promise<ProbeVerdict> {
  const netns = netnsName(lab, check.node);
  if (!topology.nodes[check.node]?.interfaces[check.interface]) return { passed: false, hint: `${check.node} has no device ${check.interface}` };
  const filter = check.filter.split(/\s+/).filter((w) => w.length > 0);
  const matching = new ProbeProcess(['ip', 'netns', 'exec', netns, 'tcpdump', '-n', '-l', '-i', check.interface, '-c', '1', ...filter]);
  const anything = new ProbeProcess(['ip', 'netns', 'exec', netns, 'tcpdump', '-n', '-l', '-i', check.interface, '-c', '4', 'ip']);
  try {
    const started = await Promise.all([matching.waitFor(/listening on/, CAPTURE_START_MS), anything.waitFor(/listening on/, CAPTURE_START_MS)]);
    if (!started[0]) return { passed: false, hint: `tcpdump could not capture on ${check.node}:${check.interface}: ${matching.output.trim().split('\n')[0] ?? ''}` };
    const answered = await ping(netnsName(lab, check.ping.from), check.ping.to);
    const seen = await matching.waitFor(/^\d\d:\d\d.*\bIP6? /m, CAPTURE_SETTLE_MS);
    if (seen) return { passed: true };
    const other = anything.output.split('\n').filter((l) => /\bIP6? /.test(l)).map((l) => l.replace(/^\S+\s+/, '').replace(/, id \d+.*$/, '')).slice(0, 2);
    const why = answered ? undefined : diagnoseReach(topology, check.ping.from, check.ping.to);
    const base = `no packet matching "${check.filter}" on ${check.node}:${check.interface} while ${check.ping.from} pinged ${check.ping.to}`;
    return { passed: false, hint: `${why ? `${why}; ` : ''}${base}${other.length > 0 ? `; seen instead: ${other.join('; ')}` : ''}` };
  } finally {
    await Promise.all([matching.stop(), anything.stop()]);
  }
}
