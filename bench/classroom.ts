/**
 * bench/classroom: one classroom server under a class's load (DESIGN.md section 8). A real
 * `nslab serve --classroom` child process; 30 trainees, each with a subscribed lab socket:
 *  (a) time to ready: all 30 apply a 6-namespace bridge lab at once, from the first send to the
 *      last confirming result (goal <= 10 s); anchor: one trainee's lab applied alone first;
 *  (b) then each opens a terminal in their lab running `ping -i 0.2` (a busy shell), and all 30
 *      edit at the same time as people do (address.add): an edit, its confirming patch, a pause
 *      to think (THINK_MS), the next: send -> confirming patch, p95 per trainee and over all (the
 *      issue's figure, goal <= 100 ms); anchor: the same edit by one trainee with the class idle.
 *      Then, as an extra figure, the burst: every trainee sends their edits back to back with no
 *      pause (each still awaits its patch), 600 edits as fast as the server takes them;
 *  (c) the server's RSS (goal <= 600 MB) and its CPU over the edit phase (server process alone,
 *      and with its children: shells, pings, watchers).
 * Trainee names start with ins (insbNN), so their kernel labs are insbNN--b; all destroyed at the end.
 * Run: npm run bench -- classroom
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { TERMINAL_PROTOCOL_VERSION } from '@nslab/model';
import { destroyLab } from '../apps/server/src/kernel/lab';
import { TraineeUsers } from '../apps/server/src/classroom/contain';
import { freePort, startServerProcess, stopServerProcess } from '../apps/server/test-kit/child-server';
import type { Stat } from './sync';
import { Client, rssMiB, stat } from './sync';
import type { BenchRow } from './terminal';

/** The room. */
const TRAINEES = 30;
/** Namespaces per trainee lab: a host with a bridge and five nodes on it. */
const NODES = 5;
/** Timed edits per trainee (all trainees at once), after WARMUP untimed ones. */
const EDITS = 20;
const WARMUP = 2;
/**
 * A trainee's pause between seeing a patch and sending the next edit: 0.5-1.5 s, spread over the
 * class so trainees do not click in step (a person reads the canvas and types an address in about that).
 */
function thinkMs(trainee: number, i: number): number {
  return 500 + ((trainee * 389 + i * 211) % 1000);
}
/** The longest the class's applies may take before the run is called broken (generous: the machine is shared, and 30 labs queue in the kernel). */
const APPLY_WAIT_MS = 600_000;

/** The lab every trainee builds (each in their own namespaces, so they may share addresses). */
function classLab(): unknown {
  const nodes: Record<string, unknown> = {
    host: { interfaces: { br0: { kind: 'bridge', addresses: ['10.77.0.254/24'] }, ...Object.fromEntries(Array.from({ length: NODES }, (_, i) => [`v${i + 1}`, { master: 'br0' }])) } },
  };
  for (let i = 1; i <= NODES; i += 1) nodes[`n${i}`] = { interfaces: { eth0: { addresses: [`10.77.0.${i}/24`] } }, routes: ['default via 10.77.0.254'] };
  return { name: 'b', nodes, links: Array.from({ length: NODES }, (_, i) => [`n${i + 1}:eth0`, `host:v${i + 1}`]) };
}

/** CPU seconds a process has used (utime + stime), and of it and every descendant alive now. */
function cpuSeconds(root: number): { own: number; tree: number } {
  const ticks = 100; // USER_HZ on Linux
  const info = new Map<number, { ppid: number; cpu: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      // Fields after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
      info.set(Number(name), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticks });
    } catch { /* gone */ }
  }
  let tree = 0;
  const walk = (pid: number) => {
    tree += info.get(pid)?.cpu ?? 0;
    for (const [child, i] of info) if (i.ppid === pid) walk(child);
  };
  walk(root);
  return { own: info.get(root)?.cpu ?? 0, tree };
}

/** One trainee: their name, token and lab socket. */
interface Trainee { name: string; token: string; client: Client; term?: WebSocket }

async function post(port: number, token: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Applies the class lab over the trainee's socket; resolves when the confirming result arrives. */
async function apply(t: Trainee, id: string): Promise<void> {
  let refused: string | undefined;
  const done = t.client.wait((m) => {
    if (m.type === 'error' && m.id === id) refused = m.message;
    return (m.type === 'result' || m.type === 'error') && m.id === id;
  }, `the result of ${t.name}'s apply`, APPLY_WAIT_MS);
  t.client.ws.send(JSON.stringify({ type: 'apply', id, topology: classLab() }));
  await done;
  if (refused) throw new Error(`${t.name}'s apply failed: ${refused}`);
}

/** One edit (an address on a node) by a trainee: send -> the patch that shows it, in ms. */
async function edit(t: Trainee, i: number): Promise<number> {
  const node = `n${(i % NODES) + 1}`;
  const address = `10.78.${i >> 8}.${i & 255}/32`;
  const id = `e${i}`;
  const seen = t.client.wait((m) => m.type === 'patch' && m.lab === 'b' && t.client.views.get('b')?.nodes[node]?.interfaces['eth0']?.addresses.includes(address) === true, `${t.name}'s patch with ${address}`);
  let refused: string | undefined;
  const done = t.client.wait((m) => {
    if (m.type === 'error' && m.id === id) refused = m.message;
    return (m.type === 'result' || m.type === 'error') && m.id === id;
  }, `${t.name}'s edit ${id}`);
  const t0 = performance.now();
  t.client.ws.send(JSON.stringify({ type: 'edit', id, lab: 'b', edits: [{ kind: 'address.add', node, interface: 'eth0', address }] }));
  const [at] = await Promise.all([seen, done]);
  if (refused) throw new Error(`${t.name}'s edit ${id} failed: ${refused}`);
  return at - t0;
}

/** Opens a terminal on n1 of the trainee's lab and starts `ping -i 0.2` to n2 in it. */
async function busyShell(port: number, t: Trainee): Promise<void> {
  const { id } = (await post(port, t.token, '/api/labs/b/terminals', { node: 'n1' })) as { id: string };
  const term = new WebSocket(`ws://127.0.0.1:${port}/ws/term/${id}`, { headers: { authorization: `Bearer ${t.token}` } });
  let output = '';
  term.on('message', (data, isBinary) => { if (isBinary) output = (output + (data as Buffer).toString()).slice(-4096); });
  await new Promise<void>((ok, fail) => { term.once('open', () => ok()); term.once('error', fail); });
  term.send(JSON.stringify({ type: 'hello', v: TERMINAL_PROTOCOL_VERSION }));
  const deadline = Date.now() + 60_000;
  while (!output.includes('#') && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
  term.send(Buffer.from('ping -i 0.2 10.77.0.2\r'), { binary: true });
  while (!/bytes from 10\.77\.0\.2/.test(output) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
  if (!/bytes from 10\.77\.0\.2/.test(output)) throw new Error(`${t.name}'s ping printed no reply: ${output.slice(-300)}`);
  t.term = term;
}

/** The figures of one run. */
interface ClassroomReport {
  aloneMs: number;
  readyMs: number;
  editAlone: Stat;
  editAll: Stat;
  worstTraineeP95: number;
  editBurst: Stat;
  worstTraineeBurstP95: number;
  rssMiB: number;
  rssIdleMiB: number;
  cpuOwnPct: number;
  cpuTreePct: number;
  editSeconds: number;
}

async function benchClassroom(log: (line: string) => void): Promise<ClassroomReport> {
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const server: ChildProcess = await startServerProcess(port, token, 60_000, ['--classroom']);
  const pid = server.pid as number;
  const trainees: Trainee[] = [];
  const names = Array.from({ length: TRAINEES }, (_, i) => `insb${String(i).padStart(2, '0')}`);
  try {
    const rssIdleMiB = rssMiB(pid);
    for (const name of names) {
      const { token: t } = (await post(port, token, '/api/trainees', { name })) as { token: string };
      trainees.push({ name, token: t, client: await Client.open(port, t) });
    }
    // Anchor: the first trainee's lab alone, destroyed again, then the whole class at once.
    const first = trainees[0] as Trainee;
    let t0 = performance.now();
    await apply(first, 'alone');
    const aloneMs = performance.now() - t0;
    await destroyLab(`${first.name}--b`);
    log(`(a) one lab alone: ${aloneMs.toFixed(0)} ms; now ${TRAINEES} at once`);
    t0 = performance.now();
    await Promise.all(trainees.map((t) => apply(t, 'ready')));
    const readyMs = performance.now() - t0;
    log(`(a) ${TRAINEES} labs ready in ${readyMs.toFixed(0)} ms`);
    for (const t of trainees) await t.client.subscribe('b');

    // Anchor: one trainee's edits with the class idle.
    const alone: number[] = [];
    for (let i = 0; i < WARMUP + EDITS; i += 1) { const ms = await edit(first, 1000 + i); if (i >= WARMUP) alone.push(ms); }

    log(`(b) ${TRAINEES} busy shells (ping -i 0.2)`);
    for (const t of trainees) await busyShell(port, t);
    log(`(b) ${EDITS} edits per trainee, all trainees at once, each pausing ${thinkMs(0, 0)}-${thinkMs(0, 0) + 999} ms between a patch and the next edit`);
    const cpu0 = cpuSeconds(pid);
    const w0 = performance.now();
    const perTrainee = await Promise.all(trainees.map(async (t, k) => {
      const times: number[] = [];
      // The class does not start in step either: each trainee's first edit comes after a pause of its own.
      await new Promise((ok) => setTimeout(ok, thinkMs(k, 0)));
      for (let i = 0; i < WARMUP + EDITS; i += 1) {
        const ms = await edit(t, i);
        if (i >= WARMUP) times.push(ms);
        await new Promise((ok) => setTimeout(ok, thinkMs(k, i + 1)));
      }
      return times;
    }));
    const editSeconds = (performance.now() - w0) / 1000;
    const cpu1 = cpuSeconds(pid);
    const rss = rssMiB(pid);
    log(`(b) burst: ${EDITS} edits per trainee back to back, all trainees at once`);
    const perTraineeBurst = await Promise.all(trainees.map(async (t) => {
      const times: number[] = [];
      for (let i = 0; i < EDITS; i += 1) times.push(await edit(t, 2000 + i));
      return times;
    }));
    return {
      aloneMs, readyMs,
      editAlone: stat(alone),
      editAll: stat(perTrainee.flat()),
      worstTraineeP95: Math.max(...perTrainee.map((x) => stat(x).p95)),
      editBurst: stat(perTraineeBurst.flat()),
      worstTraineeBurstP95: Math.max(...perTraineeBurst.map((x) => stat(x).p95)),
      rssMiB: rss, rssIdleMiB,
      cpuOwnPct: ((cpu1.own - cpu0.own) / editSeconds) * 100,
      cpuTreePct: ((cpu1.tree - cpu0.tree) / editSeconds) * 100,
      editSeconds,
    };
  } finally {
    for (const t of trainees) { t.term?.terminate(); t.client.close(); }
    await stopServerProcess(server);
    for (const name of names) await destroyLab(`${name}--b`).catch(() => undefined);
    // A lab whose apply was cut short by the stop may lack its ownership mark: its namespaces (this run's names) go by name.
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '')
      .filter((n) => names.some((name) => n.startsWith(`nslab.${name}--b.`)));
    for (const ns of left) execFileSync('ip', ['netns', 'delete', ns]);
    // Each trainee's user namespace outlives the server on purpose (classroom/contain.ts): the bench releases its own.
    const users = new TraineeUsers();
    for (const name of names) users.release(name);
  }
}

/** The classroom group of `npm run bench`. */
export async function runClassroomBench(): Promise<BenchRow[]> {
  const r = await benchClassroom((line) => console.error(`classroom: ${line}`));
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  return [
    { figure: 'one 6-namespace trainee lab applied alone (anchor)', value: ms(r.aloneMs), anchor: '', ratio: '' },
    { figure: `${TRAINEES} trainees' 6-namespace labs, all at once -> last ready`, value: ms(r.readyMs), anchor: 'one lab alone', ratio: `${(r.readyMs / r.aloneMs).toFixed(2)}x, goal <= 10 s` },
    { figure: 'edit -> confirming patch, one trainee, class idle (anchor), p95', value: ms(r.editAlone.p95), anchor: '', ratio: `median ${ms(r.editAlone.median)}` },
    { figure: `edit -> confirming patch, ${TRAINEES} trainees editing at a person's pace with busy shells, p95`, value: ms(r.editAll.p95), anchor: 'class idle', ratio: `${(r.editAll.p95 / r.editAlone.p95).toFixed(2)}x, goal <= 100 ms` },
    { figure: 'the same, median', value: ms(r.editAll.median), anchor: '', ratio: '' },
    { figure: 'the same, worst trainee\'s p95', value: ms(r.worstTraineeP95), anchor: '', ratio: 'goal <= 100 ms' },
    { figure: `burst: ${TRAINEES} trainees' edits back to back (no pause), p95`, value: ms(r.editBurst.p95), anchor: 'class idle', ratio: `${(r.editBurst.p95 / r.editAlone.p95).toFixed(2)}x, median ${ms(r.editBurst.median)}` },
    { figure: 'the burst, worst trainee\'s p95', value: ms(r.worstTraineeBurstP95), anchor: '', ratio: '' },
    { figure: `server RSS, ${TRAINEES} trainees, ${TRAINEES * (NODES + 1)} namespaces, ${TRAINEES} shells`, value: `${r.rssMiB.toFixed(0)} MiB`, anchor: 'idle', ratio: `${r.rssIdleMiB.toFixed(0)} MiB idle, goal <= 600 MB` },
    { figure: `server CPU during the paced edits (${r.editSeconds.toFixed(1)} s)`, value: `${r.cpuOwnPct.toFixed(0)}% of a core`, anchor: '', ratio: `${r.cpuTreePct.toFixed(0)}% with its children` },
  ];
}
