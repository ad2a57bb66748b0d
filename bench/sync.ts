/**
 * bench/sync: how fast the kernel's state reaches a client (DESIGN.md sections 5 and 8).
 * A real `nslab serve` child process, a subscribed WebSocket client, and a 50-namespace lab:
 *  (a) a change made with `ip` (as from a terminal), from just before the spawn to the patch
 *      that shows it; the anchor is that same `ip` process's own run, spawn to exit;
 *  (b) an edit sent by the client (address.add), from the send to the patch that confirms it;
 *  (d) `ip netns add NAME` typed in a lab shell (a host terminal over the HTTP API), from the
 *      input frame's send to the patch that shows the new node on the client;
 *  (c) the server's RSS and its process count (monitor children) with 100 namespaces observed.
 * Run: node apps/server/bin/run-ts.mjs bench/sync.ts
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { ServerMessage, Topology } from '@nslab/model';
import { applyChanges, netnsName, TERMINAL_PROTOCOL_VERSION } from '@nslab/model';
import { applyTopology, destroyLab } from '../apps/server/src/kernel/lab';
import { bridgeLab } from './apply';
import type { Row } from './apply';
import { freePort, startServerProcess, stopServerProcess } from '../apps/server/test-kit/child-server';

/** Samples per timed figure (the brief: 100 changes, 100 edits). */
const SAMPLES = 100;
/** Untimed rounds first, so that the JIT, the page cache and the feed's first reads are warm. */
const WARMUP = 5;
/** `ip netns add` samples: each makes a namespace, removed with the lab. */
const NETNS_SAMPLES = 40;
/** Nodes besides the host: 49 + host = 50 namespaces per lab. */
const NODES = 49;
/** The longest one change may take to reach the client before the run is called broken (generous: the machine may be shared). */
const WAIT_MS = 60_000;

/** One timed figure: median and p95 in milliseconds. */
export interface Stat { median: number; p95: number; min: number; max: number }

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN; // nearest rank
  return { median: at(0.5), p95: at(0.95), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** Resident memory of a process in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Every descendant of a process, with its command line. */
function descendants(root: number): string[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: string[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== pid) continue;
      try {
        out.push(readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '));
      } catch {
        continue;
      }
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** A subscribed client that resolves waiters on the message that satisfies them. */
export class Client {
  private readonly waiters = new Set<{ test: (m: ServerMessage) => boolean; ok: (at: number) => void; fail: (e: Error) => void; timer: NodeJS.Timeout }>();

  /** Each subscribed lab as this client knows it: its snapshot with every patch since applied. */
  readonly views = new Map<string, Topology>();
  /** Patches that removed a whole node: nothing in this benchmark removes one, so each is a fault. */
  nodeRemovals = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const at = performance.now();
      const m = JSON.parse((data as Buffer).toString()) as ServerMessage;
      if (m.type === 'snapshot') this.views.set(m.lab, m.topology);
      if (m.type === 'patch') {
        const view = this.views.get(m.lab);
        if (view) this.views.set(m.lab, applyChanges(view, m.changes));
        this.nodeRemovals += m.changes.filter((c) => c.path.length === 2 && c.path[0] === 'nodes' && c.value === undefined).length;
      }
      for (const w of [...this.waiters]) {
        if (!w.test(m)) continue;
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.ok(at);
      }
    });
  }

  static open(port: number, token: string): Promise<Client> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${token}` } });
      const c = new Client(ws);
      ws.once('open', () => ok(c));
      ws.once('error', fail);
    });
  }

  /** Resolves with the arrival time (performance.now()) of the first message from now on that passes `test` (failing after `timeoutMs`). */
  wait(test: (m: ServerMessage) => boolean, what: string, timeoutMs = WAIT_MS): Promise<number> {
    return new Promise((ok, fail) => {
      const w = {
        test, ok, fail,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  async subscribe(lab: string): Promise<void> {
    const got = this.wait((m) => m.type === 'snapshot' && m.lab === lab, `the snapshot of ${lab}`);
    this.ws.send(JSON.stringify({ type: 'subscribe', lab }));
    await got;
  }

  /** Closes the socket and fails whatever is still awaited, so nothing keeps the process alive. */
  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.fail(new Error('the client closed'));
    }
    this.waiters.clear();
    this.ws.terminate();
  }
}

/** A message predicate: the patch after which this client's view of the lab shows the address on the interface. */
function shows(c: Client, lab: string, node: string, ifname: string, address: string) {
  return (m: ServerMessage) => m.type === 'patch' && m.lab === lab && c.views.get(lab)?.nodes[node]?.interfaces[ifname]?.addresses.includes(address) === true;
}

/** Spawns `ip` and resolves when it exits (the anchor's end), failing on a non-zero exit. */
function spawnIp(args: string[]): Promise<number> {
  return new Promise((ok, fail) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok(performance.now()) : fail(new Error(`ip ${args.join(' ')}: ${err.trim()}`))));
  });
}

/** Opens the lab's host terminal over HTTP and times `ip netns add sN` typed there until the client has node sN. */
async function netnsAddInShell(c: Client, port: number, token: string, lab: string, log: (line: string) => void): Promise<Stat> {
  const res = await fetch(`http://127.0.0.1:${port}/api/labs/${lab}/terminals`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ node: 'host' }),
  });
  if (!res.ok) throw new Error(`opening the host terminal: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  const term = new WebSocket(`ws://127.0.0.1:${port}/ws/term/${id}`, { headers: { authorization: `Bearer ${token}` } });
  let output = '';
  term.on('message', (data, isBinary) => { if (isBinary) output += (data as Buffer).toString(); });
  await new Promise<void>((ok, fail) => { term.once('open', () => ok()); term.once('error', fail); });
  term.send(JSON.stringify({ type: 'hello', v: TERMINAL_PROTOCOL_VERSION }));
  const prompt = `${lab}:host# `;
  const deadline = Date.now() + WAIT_MS;
  while (!output.includes(prompt) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 10));
  const times: number[] = [];
  try {
    for (let i = 0; i < 3 + NETNS_SAMPLES; i += 1) {
      const node = `s${i}`;
      const seen = c.wait((m) => (m.type === 'patch' || m.type === 'snapshot') && m.lab === lab && c.views.get(lab)?.nodes[node] !== undefined, `node ${node} on the client`);
      const t0 = performance.now();
      term.send(Buffer.from(`ip netns add ${node}\r`), { binary: true });
      const at = await seen;
      if (i >= 3) times.push(at - t0);
    }
  } finally {
    term.terminate();
  }
  log(`(d) done; the shell printed ${output.length} bytes`);
  return stat(times);
}

/** The figures of one run. */
export interface SyncReport {
  ipChange: Stat;
  ipSpawn: Stat;
  edit: Stat;
  editResult: Stat;
  /** From the send to the plan: the server's fresh reading of the lab, and planning. */
  editPlan: Stat;
  /** `ip netns add NAME` typed in a lab shell -> the client's patch has the node. */
  shellNetnsAdd: Stat;
  /** From spawning `nslab serve` to its "running" line. */
  startMs: number;
  rssIdleMiB: number;
  rssMiB: number;
  processes: number;
  monitors: { ip: number; watch: number; nft: number };
  labNamespaces: number;
  machineLabNamespaces: number;
  /** Patches that removed a node during the run (should be 0: nothing removes one). */
  nodeRemovals: number;
}

/** Runs the sync benchmark once and returns its figures. */
export async function benchSync(log: (line: string) => void = () => {}): Promise<SyncReport> {
  const suffix = randomBytes(2).toString('hex');
  const labA = bridgeLab(`bench-sync-a-${suffix}`, NODES);
  const labB = bridgeLab(`bench-sync-b-${suffix}`, NODES);
  const token = randomBytes(24).toString('hex');
  let server: ChildProcess | undefined;
  let client: Client | undefined;
  try {
    log(`applying ${labA.name} and ${labB.name} (${NODES + 1} namespaces each)`);
    await applyTopology(labA);
    await applyTopology(labB);
    const port = await freePort();
    const spawnedAt = performance.now();
    server = await startServerProcess(port, token);
    const started = server;
    process.once('exit', () => started.kill('SIGTERM')); // should this process end uncleanly, the server ends too
    const startMs = performance.now() - spawnedAt;
    const pid = server.pid as number;
    const rssIdleMiB = rssMiB(pid);
    client = await Client.open(port, token);
    await client.subscribe(labA.name);
    const c = client;

    // (a) changes made with ip, one at a time.
    log(`(a) ${SAMPLES} changes with ip`);
    const change: number[] = [];
    const anchor: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i += 1) {
      const node = `n${(i % NODES) + 1}`;
      const address = `10.201.${i >> 8}.${i & 255}/32`;
      const seen = c.wait(shows(c, labA.name, node, 'lo', address), `the patch showing ${address} on ${node}:lo`);
      const t0 = performance.now();
      const exited = spawnIp(['-n', netnsName(labA.name, node), 'addr', 'add', address, 'dev', 'lo']);
      const [tExit, tPatch] = await Promise.all([exited, seen]);
      if (i < WARMUP) continue;
      anchor.push(tExit - t0);
      change.push(tPatch - t0);
    }

    // (b) edits sent by the client.
    log(`(b) ${SAMPLES} edits over the socket`);
    const edit: number[] = [];
    const editResult: number[] = [];
    const editPlan: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i += 1) {
      const node = `n${(i % NODES) + 1}`;
      const address = `10.202.${i >> 8}.${i & 255}/32`;
      const id = `b${i}`;
      const seen = c.wait(shows(c, labA.name, node, 'eth0', address), `the patch showing ${address} on ${node}:eth0`);
      let refused: string | undefined;
      const done = c.wait((m) => {
        if (m.type === 'error' && m.id === id) refused = `${m.code}: ${m.message}`;
        return (m.type === 'result' || m.type === 'error') && m.id === id;
      }, `the result of edit ${id}`).then((at) => {
        if (refused) throw new Error(`edit ${id} failed: ${refused}`);
        return at;
      });
      const planned = c.wait((m) => (m.type === 'plan' && m.id === id) || (m.type === 'error' && m.id === id), `the plan of edit ${id}`);
      const t0 = performance.now();
      c.ws.send(JSON.stringify({ type: 'edit', id, lab: labA.name, edits: [{ kind: 'address.add', node, interface: 'eth0', address }] }));
      const [tPlan, tResult, tPatch] = await Promise.all([planned, done, seen]);
      if (i < WARMUP) continue;
      editPlan.push(tPlan - t0);
      edit.push(tPatch - t0);
      editResult.push(tResult - t0);
    }

    // (d) ip netns add typed in the lab's host terminal.
    log(`(d) ${NETNS_SAMPLES} ip netns add in a lab shell`);
    const shellNetnsAdd = await netnsAddInShell(c, port, token, labA.name, log);

    // (c) 100 namespaces observed: both labs subscribed.
    await c.subscribe(labB.name);
    const children = descendants(pid);
    const machineLabNamespaces = readdirSync('/run/netns').filter((n) => n.startsWith('nslab.')).length;
    return {
      ipChange: stat(change),
      ipSpawn: stat(anchor),
      edit: stat(edit),
      editResult: stat(editResult),
      editPlan: stat(editPlan),
      shellNetnsAdd,
      startMs,
      rssIdleMiB,
      rssMiB: rssMiB(pid),
      processes: children.length,
      monitors: {
        ip: children.filter((x) => x.startsWith('ip monitor')).length,
        watch: children.filter((x) => x.endsWith('nslab-nsread watch')).length,
        nft: children.filter((x) => x.startsWith('nft monitor')).length,
      },
      labNamespaces: 2 * (NODES + 1),
      nodeRemovals: c.nodeRemovals,
      machineLabNamespaces,
    };
  } finally {
    client?.close();
    if (server) await stopServerProcess(server);
    await destroyLab(labA.name).catch(() => undefined);
    await destroyLab(labB.name).catch(() => undefined);
  }
}

/** The report as rows for bench/run.ts's table (medians; the ip change against the bare ip spawn). */
export function syncRows(r: SyncReport): Row[] {
  return [
    { figure: 'bare ip spawn (anchor)', ms: r.ipSpawn.median },
    { figure: 'ip change -> client patch', ms: r.ipChange.median, anchor: 'bare ip spawn', ratio: r.ipChange.median / r.ipSpawn.median },
    { figure: 'client edit -> confirming patch', ms: r.edit.median, anchor: 'bare ip spawn', ratio: r.edit.median / r.ipSpawn.median },
  ];
}

/** Runs the benchmark and prints its table. */
export async function main(): Promise<void> {
  const r = await benchSync((line) => console.log(`bench/sync: ${line}`));
  const ms = (x: number) => x.toFixed(1).padStart(9);
  const rows: Array<[string, Stat, string]> = [
    ['bare ip spawn, spawn -> exit (anchor)', r.ipSpawn, ''],
    ['ip change, spawn -> client has patch', r.ipChange, `${(r.ipChange.median / r.ipSpawn.median).toFixed(2)}x`],
    ['client edit, send -> confirming patch', r.edit, `${(r.edit.median / r.ipSpawn.median).toFixed(2)}x`],
    ['client edit, send -> plan', r.editPlan, `${(r.editPlan.median / r.ipSpawn.median).toFixed(2)}x`],
    ['client edit, send -> result', r.editResult, `${(r.editResult.median / r.ipSpawn.median).toFixed(2)}x`],
    ['ip netns add in a lab shell -> node on the client', r.shellNetnsAdd, `${(r.shellNetnsAdd.median / r.ipSpawn.median).toFixed(2)}x`],
  ];
  const w = Math.max(...rows.map(([f]) => f.length));
  console.log(`\n== sync (${SAMPLES} samples each, lab of ${NODES + 1} namespaces)`);
  console.log(`${'figure'.padEnd(w)}  ${'median ms'.padStart(9)}  ${'p95 ms'.padStart(9)}  ${'max ms'.padStart(9)}  vs anchor`);
  for (const [f, s, ratio] of rows) console.log(`${f.padEnd(w)}  ${ms(s.median)}  ${ms(s.p95)}  ${ms(s.max)}  ${ratio}`);
  console.log(`\nserver with ${r.labNamespaces} lab namespaces observed (${r.machineLabNamespaces} nslab namespaces on this machine):`);
  console.log(`  RSS ${r.rssMiB.toFixed(1)} MiB (${r.rssIdleMiB.toFixed(1)} MiB before any subscription); started in ${r.startMs.toFixed(0)} ms`);
  console.log(`  child processes ${r.processes}: ${r.monitors.ip} ip monitor, ${r.monitors.watch} nslab-nsread watch, ${r.monitors.nft} nft monitor`);
  console.log(`patches that removed a node although none was removed: ${r.nodeRemovals}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 1;
  });
}
