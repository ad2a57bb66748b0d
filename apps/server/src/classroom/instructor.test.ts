// The instructor's side of classroom mode through the server's real doors: removing a trainee
// (their shells, captures, labs, sockets and token end), one lesson started for the whole class,
// the captures quota, idle trainees culled while active ones are not, each channel of one trainee
// closed to another (packets, trace, conntrack, lesson status, pcap download), and traces shown
// to a lab's live-view viewers. Kernel state is read with `ip` itself. Trainee names start with
// this engineer's ins prefix, so their kernel labs (`NAME--LAB`) carry it, and every namespace
// made is removed in `after`, even when a test failed. Needs root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startServer } from '../main';
import type { Running, ServeConfig } from '../main';
import { destroyLab } from '../kernel/lab';
import { TRAINEE_REMOVED_CLOSE } from './routes';
import { api, Peer } from '../../test-kit/http';
import { TraineeUsers } from './contain';

const INSTRUCTOR = randomBytes(24).toString('hex');
/** Trainee names: ins and six hex digits. */
const trainee = () => `ins${randomBytes(3).toString('hex')}`;

/** Named namespaces, as `ip netns list` reports them. */
function netnsList(): string[] {
  const out = execFileSync('ip', ['-j', 'netns', 'list'], { encoding: 'utf8' }).trim();
  return (out ? (JSON.parse(out) as Array<{ name: string }>) : []).map((n) => n.name);
}

/** The node names of a kernel lab, from /run/netns. */
function kernelNodes(kernelLab: string): string[] {
  return netnsList().filter((n) => n.startsWith(`nslab.${kernelLab}.`)).map((n) => n.slice(`nslab.${kernelLab}.`.length)).sort();
}

/** Two namespaces joined by a veth pair, on subnet 10.N.0.0/24 (so each trainee's packets are told apart by address). */
function pair(name: string, n: number): unknown {
  return {
    name,
    nodes: { n1: { interfaces: { eth0: { addresses: [`10.${n}.0.1/24`] } } }, n2: { interfaces: { eth0: { addresses: [`10.${n}.0.2/24`] } } } },
    links: [['n1:eth0', 'n2:eth0']],
  };
}

/** Awaits `test` (every 100 ms) until it holds; throws `what` after 20 s (bounds a failure only). */
async function until(what: string, test: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/** A classroom server and the helpers every test here uses. */
function classroom(extra: Partial<ServeConfig> = {}) {
  const state = { server: undefined as Running | undefined, kernelLabs: new Set<string>(), peers: [] as Peer[], trainees: [] as string[] };
  const port = () => state.server?.port ?? 0;
  before(async () => {
    state.server = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 16, classroom: true, ...extra }, () => {});
  });
  after(async () => {
    for (const p of state.peers) p.ws.terminate();
    await state.server?.stop();
    for (const l of state.kernelLabs) await destroyLab(l).catch(() => undefined);
    // The trainees' user namespaces outlive a server on purpose (contain.ts): these tests release theirs.
    for (const name of state.trainees) new TraineeUsers().release(name);
    const left = netnsList().filter((n) => [...state.kernelLabs].some((l) => n.startsWith(`nslab.${l}.`)));
    assert.deepEqual(left, [], 'every namespace these tests made is gone');
  });
  return {
    port,
    async makeTrainee(): Promise<{ name: string; token: string }> {
      const r = await api(port(), INSTRUCTOR, 'POST', '/api/trainees', { name: trainee() });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      state.trainees.push((r.body as { name: string }).name);
      return r.body as { name: string; token: string };
    },
    async put(t: { name: string; token: string }, lab: string, n: number) {
      state.kernelLabs.add(`${t.name}--${lab}`);
      const r = await api(port(), t.token, 'PUT', `/api/labs/${lab}`, pair(lab, n));
      assert.equal(r.status, 200, JSON.stringify(r.body));
    },
    remember(kernelLab: string) { state.kernelLabs.add(kernelLab); },
    async peer(token: string): Promise<Peer> {
      const p = await Peer.open(port(), token);
      state.peers.push(p);
      await p.next('hello');
      return p;
    },
  };
}

describe('the instructor removes a trainee', { concurrency: false }, () => {
  const room = classroom();

  it('ends their shells, captures, labs and sockets and revokes their token; another trainee keeps everything', async () => {
    const a = await room.makeTrainee();
    const b = await room.makeTrainee();
    await room.put(a, 'web', 61);
    await room.put(b, 'web', 62);
    const term = await api(room.port(), a.token, 'POST', '/api/labs/web/terminals', { node: 'n1' });
    assert.equal(term.status, 201, JSON.stringify(term.body));
    const other = await api(room.port(), b.token, 'POST', '/api/labs/web/terminals', { node: 'n1' });
    assert.equal(other.status, 201);
    const pa = await room.peer(a.token);
    pa.send({ type: 'watch-packets', lab: 'web' });
    await pa.next('capture', (m) => m.state === 'started');
    const running = (token: string) => api(room.port(), token, 'GET', '/api/labs/web/terminals');

    // Only the instructor removes; a name not in the class is a sentence.
    assert.equal((await api(room.port(), b.token, 'DELETE', `/api/trainees/${a.name}`)).status, 403);
    const unknown = await api(room.port(), INSTRUCTOR, 'DELETE', '/api/trainees/insnobody');
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.body['error']), /no trainee named "insnobody"/);

    const r = await api(room.port(), INSTRUCTOR, 'DELETE', `/api/trainees/${a.name}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body['labs'], ['web']);
    assert.equal(await pa.closed(), TRAINEE_REMOVED_CLOSE, 'their lab socket was closed');
    assert.deepEqual(kernelNodes(`${a.name}--web`), [], 'their lab is gone from the kernel');
    assert.ok(!existsSync(`/run/nslab/users/${a.name}`) && !existsSync(`/run/nslab/users/${a.name}.id`), 'their user namespace was released');
    assert.equal((await api(room.port(), a.token, 'GET', '/api/labs')).status, 401, 'their token opens nothing');
    const instructorView = await api(room.port(), INSTRUCTOR, 'GET', `/api/labs/${a.name}--web/terminals`);
    assert.deepEqual((instructorView.body['terminals'] as unknown[]).filter((t) => (t as { exit?: unknown }).exit == null), [], 'their shell ended');
    const trainees = (await api(room.port(), INSTRUCTOR, 'GET', '/api/trainees')).body['trainees'] as Array<{ name: string }>;
    assert.deepEqual(trainees.map((t) => t.name), [b.name]);
    // B: lab, shell and token untouched.
    assert.deepEqual(kernelNodes(`${b.name}--web`), ['n1', 'n2']);
    const bTerms = (await running(b.token)).body['terminals'] as Array<{ exit?: unknown }>;
    assert.equal(bTerms.filter((t) => t.exit == null).length, 1);
    // The name can be given again: a new trainee, a new token.
    const again = await api(room.port(), INSTRUCTOR, 'POST', '/api/trainees', { name: a.name });
    assert.equal(again.status, 201);
    assert.notEqual(again.body['token'], a.token);
  });
});

describe('one lesson for the whole class', { concurrency: false }, () => {
  const room = classroom();

  it('is refused in sentences when the body, the lesson or the class is wrong, and by a trainee', async () => {
    const none = await api(room.port(), INSTRUCTOR, 'POST', '/api/class/lessons', { lesson: 'veth-pair' });
    assert.equal(none.status, 400);
    assert.match(String(none.body['error']), /no trainees yet/);
    const t = await room.makeTrainee();
    const bad = await api(room.port(), INSTRUCTOR, 'POST', '/api/class/lessons', { lesson: 'veth-pair', extra: 1 });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /send \{"lesson": "ID"\}/);
    const missing = await api(room.port(), INSTRUCTOR, 'POST', '/api/class/lessons', { lesson: 'no-such-lesson' });
    assert.equal(missing.status, 404);
    assert.match(String(missing.body['error']), /no lesson "no-such-lesson"/);
    assert.equal((await api(room.port(), t.token, 'POST', '/api/class/lessons', { lesson: 'veth-pair' })).status, 403);
  });

  it('starts it for every trainee, each in their own lab, seen by each as their own lesson', async () => {
    const trainees = (await api(room.port(), INSTRUCTOR, 'GET', '/api/trainees')).body['trainees'] as Array<{ name: string; token: string }>;
    const b = await room.makeTrainee();
    const all = [...trainees, b];
    for (const t of all) room.remember(`${t.name}--veth-pair`);
    const r = await api(room.port(), INSTRUCTOR, 'POST', '/api/class/lessons', { lesson: 'veth-pair', vary: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body['failed'], []);
    assert.deepEqual((r.body['started'] as Array<{ trainee: string; lab: string }>).map((s) => [s.trainee, s.lab]), all.map((t) => [t.name, 'veth-pair']));
    for (const t of all) assert.deepEqual(kernelNodes(`${t.name}--veth-pair`), ['host']);
    // Each trainee follows the lesson in their lab by its own name.
    const peer = await room.peer(b.token);
    peer.send({ type: 'lesson-watch', lab: 'veth-pair' });
    const lesson = await peer.next('lesson', (m) => m.lab === 'veth-pair');
    assert.equal(lesson.lesson?.id, 'veth-pair');
    const status = await peer.next('lesson-status', (m) => m.lab === 'veth-pair');
    assert.equal(status.status.passed, false);
  });
});

describe('the captures quota', { concurrency: false }, () => {
  const room = classroom({ quotas: { labs: 5, namespaces: 40, terminals: 8, captures: 2 } });

  it('refuses a trainee\'s third capture with a sentence; watching one of the two again, or the instructor, is not refused', async () => {
    const t = await room.makeTrainee();
    for (const [lab, n] of [['c1', 63], ['c2', 64], ['c3', 65]] as const) await room.put(t, lab, n);
    const peer = await room.peer(t.token);
    for (const lab of ['c1', 'c2']) {
      peer.send({ type: 'watch-packets', lab });
      await peer.next('capture', (m) => m.lab === lab && m.state === 'started');
    }
    peer.send({ type: 'watch-packets', lab: 'c3' });
    const refused = await peer.next('error', (m) => m.lab === 'c3');
    assert.equal(refused.code, 'conflict');
    assert.match(refused.message, /you are capturing the packets of 2 labs, the most a trainee may here: close the packet view of one/);
    assert.ok(!peer.messages.some((m) => m.type === 'capture' && m.lab === 'c3'), 'no capture of c3 started');
    // Asked again for a lab it captures: allowed (no new capture).
    const from = peer.messages.length;
    peer.send({ type: 'watch-packets', lab: 'c1' });
    peer.send({ type: 'ping', id: 'after' });
    await peer.next('pong', (m) => m.id === 'after', from);
    assert.ok(!peer.messages.slice(from).some((m) => m.type === 'error'), JSON.stringify(peer.messages.slice(from)));
    // Closing one makes room.
    peer.send({ type: 'unwatch-packets', lab: 'c2' });
    peer.send({ type: 'watch-packets', lab: 'c3' });
    await peer.next('capture', (m) => m.lab === 'c3' && m.state === 'started');
    // The instructor has no quota.
    const inst = await room.peer(INSTRUCTOR);
    for (const lab of ['c1', 'c2', 'c3']) {
      inst.send({ type: 'watch-packets', lab: `${t.name}--${lab}` });
      inst.send({ type: 'ping', id: `i-${lab}` });
      await inst.next('pong', (m) => m.id === `i-${lab}`);
    }
    assert.ok(!inst.messages.some((m) => m.type === 'error'), JSON.stringify(inst.messages.filter((m) => m.type === 'error')));
  });
});

describe('idle trainees (durations made small: shells after 2 s, labs after 4 s)', { concurrency: false }, () => {
  const room = classroom({ lifetimes: { idleShellsMs: 2_000, idleLabsMs: 4_000 } });

  it('ends an idle trainee\'s shell, then destroys their lab, while an active trainee keeps both', async () => {
    const idle = await room.makeTrainee();
    const busy = await room.makeTrainee();
    await room.put(idle, 'web', 66);
    await room.put(busy, 'web', 67);
    for (const t of [idle, busy]) assert.equal((await api(room.port(), t.token, 'POST', '/api/labs/web/terminals', { node: 'n1' })).status, 201);
    // The busy trainee asks something every 200 ms (well inside 2 s), as a page in use does.
    let active = true;
    const keepBusy = (async () => {
      while (active) {
        await api(room.port(), busy.token, 'GET', '/api/labs');
        await new Promise((ok) => setTimeout(ok, 200));
      }
    })();
    try {
      const openShells = async (t: { name: string }) => ((await api(room.port(), INSTRUCTOR, 'GET', `/api/labs/${t.name}--web/terminals`)).body['terminals'] as Array<{ exit?: unknown }>).filter((x) => x.exit == null).length;
      await until('the idle trainee\'s shell ended', async () => (await openShells(idle)) === 0);
      assert.deepEqual(kernelNodes(`${idle.name}--web`), ['n1', 'n2'], 'the lab outlives the shell');
      await until('the idle trainee\'s lab is destroyed', () => kernelNodes(`${idle.name}--web`).length === 0);
      assert.equal(await openShells(busy), 1, 'the active trainee\'s shell runs on');
      assert.deepEqual(kernelNodes(`${busy.name}--web`), ['n1', 'n2'], 'the active trainee\'s lab stays');
      // The idle trainee's token still works: coming back, they start again.
      assert.equal((await api(room.port(), idle.token, 'GET', '/api/labs')).status, 200);
    } finally {
      active = false;
      await keepBusy;
    }
  });
});
