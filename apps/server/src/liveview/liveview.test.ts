// Live-view links through the server's real doors: made by the instructor (any lab) or a trainee
// (their own), a viewer that sees its lab's snapshot and patches and nothing else, every change
// refused with one sentence and the kernel unchanged (read with `ip`), terminals only watched,
// and a link that stops working the moment it is revoked or ends. Lab names start with lv-, and
// every namespace these tests made is removed in `after`, even when a test failed. Needs root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import type { ClientMessage, ServerMessage } from '@nslab/model';
import { startServer } from '../main';
import type { Running } from '../main';
import { destroyLab } from '../kernel/lab';
import { TestClient } from '../../test-kit/terminal';
import { readOnlySentence } from './policy';
import { VIEW_ENDED_CLOSE } from './links';
import { api, upgrade } from '../../test-kit/http';
import { TraineeUsers } from '../classroom/contain';

const INSTRUCTOR = randomBytes(24).toString('hex');
/** How long one awaited message may take; bounds a failure only (the machine is shared). */
const EVENT_TIMEOUT_MS = 15_000;
/** A lab name of these tests. */
const labName = () => `lv-${randomBytes(3).toString('hex')}`;

/** Named namespaces, as `ip netns list` reports them. */
function netnsList(): string[] {
  const out = execFileSync('ip', ['-j', 'netns', 'list'], { encoding: 'utf8' }).trim();
  return (out ? (JSON.parse(out) as Array<{ name: string }>) : []).map((n) => n.name);
}

/** The node names of a kernel lab, from /run/netns. */
function kernelNodes(kernelLab: string): string[] {
  return netnsList().filter((n) => n.startsWith(`nslab.${kernelLab}.`)).map((n) => n.slice(`nslab.${kernelLab}.`.length)).sort();
}

/**
 * The interfaces of one node, with their addresses, as `ip -j addr` reports them; not the IPv6
 * link-local addresses, which the kernel adds by itself a moment after a device comes up.
 */
function kernelAddrs(kernelLab: string, node: string): string[] {
  const out = execFileSync('ip', ['-n', `nslab.${kernelLab}.${node}`, '-j', 'addr', 'show'], { encoding: 'utf8' });
  return (JSON.parse(out) as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number; scope?: string }> }>)
    .flatMap((l) => [l.ifname, ...l.addr_info.filter((a) => a.scope !== 'link').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`)]).sort();
}


/** A lab of two nodes joined by a veth pair, addressed. */
function pair(name: string): unknown {
  return {
    name,
    nodes: {
      a: { interfaces: { eth0: { addresses: ['10.77.0.1/24'] } } },
      b: { interfaces: { eth0: { addresses: ['10.77.0.2/24'] } } },
    },
    links: [['a:eth0', 'b:eth0']],
  };
}

/** A lab socket of `token`, with every message it received and how it closed. */
class Peer {
  readonly messages: ServerMessage[] = [];
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      this.wake();
    });
    ws.on('close', (code) => { this.closeCode = code; this.wake(); });
  }

  static open(port: number, token: string): Promise<Peer> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['nslab', `nslab.token.${token}`]);
      const peer = new Peer(ws);
      ws.once('open', () => ok(peer));
      ws.once('error', fail);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `check` holds; fails after EVENT_TIMEOUT_MS saying what was awaited. */
  async until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`no ${what}; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise<void>((ok) => { this.waiters.push(ok); setTimeout(ok, 200); });
    }
  }

  /** The first message (from `from` on) that passes `test`. */
  async next<T extends ServerMessage['type']>(type: T, test: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true, from = 0): Promise<Extract<ServerMessage, { type: T }>> {
    const find = () => this.messages.slice(from).find((m): m is Extract<ServerMessage, { type: T }> => m.type === type && test(m as Extract<ServerMessage, { type: T }>));
    await this.until(() => find() !== undefined, `${type} message`);
    return find() as Extract<ServerMessage, { type: T }>;
  }

  send(message: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }
}


describe('live-view links (kernel, real sockets)', { concurrency: false }, () => {
  let server: Running;
  let port: number;
  const kernelLabs = new Set<string>();
  const peers: Peer[] = [];
  const terms: TestClient[] = [];
  const build = async (token: string, name: string, kernel = name) => {
    kernelLabs.add(kernel);
    const r = await api(port, token, 'PUT', `/api/labs/${name}`, pair(name));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  const makeView = async (token: string, lab: string, body: unknown = {}) => {
    const r = await api(port, token, 'POST', `/api/labs/${lab}/views`, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string; token: string; url: string; lab: string; expires: number };
  };
  const open = async (token: string) => {
    const p = await Peer.open(port, token);
    peers.push(p);
    return p;
  };

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 8, classroom: true }, () => {});
    port = server.port;
  });

  after(async () => {
    for (const p of peers) p.ws.terminate();
    for (const t of terms) t.ws.terminate();
    await server?.stop();
    for (const l of kernelLabs) await destroyLab(l).catch(() => undefined);
    // Trainees' labs were made in their user namespaces (classroom/contain.ts): unbind those too.
    for (const l of kernelLabs) if (l.includes('--')) new TraineeUsers().release(l.slice(0, l.indexOf('--')));
    const left = netnsList().filter((n) => [...kernelLabs].some((l) => n.startsWith(`nslab.${l}.`)));
    assert.deepEqual(left, [], 'every namespace these tests made is gone');
  });

  it('the instructor makes a link (201 with token, url, lab, expires; 12 h unless asked, at most 72); it is listed; wrong lifetimes and unknown labs are refused', async () => {
    const lab = labName();
    await build(INSTRUCTOR, lab);
    const before = Date.now();
    const view = await makeView(INSTRUCTOR, lab);
    assert.match(view.token, /^[0-9a-f]{64}$/, '32 random bytes');
    assert.equal(view.url, `http://127.0.0.1:${port}/?view=${view.token}`);
    assert.equal(view.lab, lab);
    assert.ok(view.expires >= before + 12 * 3_600_000 && view.expires <= Date.now() + 12 * 3_600_000, 'twelve hours by default');
    const long = await makeView(INSTRUCTOR, lab, { hours: 72 });
    assert.ok(long.expires > Date.now() + 71 * 3_600_000);
    for (const hours of [0, -1, 73, '2', null]) {
      const r = await api(port, INSTRUCTOR, 'POST', `/api/labs/${lab}/views`, { hours });
      assert.equal(r.status, 400, `hours ${JSON.stringify(hours)}`);
      assert.match(String(r.body['error']), /hours/);
    }
    const extra = await api(port, INSTRUCTOR, 'POST', `/api/labs/${lab}/views`, { hours: 1, lab: 'x' });
    assert.equal(extra.status, 400);
    const none = await api(port, INSTRUCTOR, 'POST', `/api/labs/lv-nothing/views`, {});
    assert.equal(none.status, 404);
    assert.match(String(none.body['error']), /no lab named "lv-nothing"/);
    const listed = (await api(port, INSTRUCTOR, 'GET', `/api/labs/${lab}/views`)).body['views'] as Array<{ id: string }>;
    assert.deepEqual(listed.map((v) => v.id).sort(), [view.id, long.id].sort());
  });

  it('over HTTP a viewer reads its lab (session, lab, export, terminals) and nothing else: changes are 403 with the sentence, other labs 404', async () => {
    const lab = labName();
    const other = labName();
    await build(INSTRUCTOR, lab);
    await build(INSTRUCTOR, other);
    const view = await makeView(INSTRUCTOR, lab);
    const v = view.token;
    assert.deepEqual((await api(port, v, 'GET', '/api/session')).body, { role: 'viewer', lab, expires: view.expires });
    assert.deepEqual((await api(port, INSTRUCTOR, 'GET', '/api/session')).body, { role: 'instructor', classroom: true }, 'this server is a classroom: the instructor\'s page may show the class');
    assert.deepEqual((await api(port, v, 'GET', '/api/labs')).body['labs'], [{ name: lab, nodes: 2 }]);
    const read = await api(port, v, 'GET', `/api/labs/${lab}`);
    assert.equal(read.status, 200);
    assert.deepEqual(Object.keys(read.body['nodes'] as object).sort(), ['a', 'b']);
    assert.equal((await api(port, v, 'GET', `/api/labs/${lab}/export`)).status, 200);
    assert.equal((await api(port, v, 'GET', `/api/labs/${lab}/terminals`)).status, 200);
    const sentence = readOnlySentence(lab);
    const changes: Array<[string, string, unknown?]> = [
      ['PUT', `/api/labs/${lab}`, pair(lab)],
      ['DELETE', `/api/labs/${lab}`],
      ['POST', `/api/labs/${lab}/terminals`, { node: 'a' }],
      ['POST', `/api/labs/${lab}/views`, {}],
      ['GET', `/api/labs/${lab}/views`],
      ['PUT', `/api/labs/${lab}/history`, { entries: [] }],
      ['DELETE', '/api/terminals/x'],
      ['GET', '/api/examples'],
      ['GET', '/api/trainees'],
    ];
    for (const [method, path, body] of changes) {
      const r = await api(port, v, method, path, body);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body['error'], sentence, `${method} ${path}`);
    }
    for (const path of [`/api/labs/${other}`, `/api/labs/${other}/export`, `/api/labs/${other}/terminals`]) {
      const r = await api(port, v, 'GET', path);
      assert.equal(r.status, 404, path);
    }
    const signed = await api(port, v, 'POST', '/api/signed-url', { path: `/api/labs/${other}/export` });
    assert.equal(signed.status, 404, 'no signature opens another lab');
    assert.deepEqual(kernelNodes(lab), ['a', 'b'], 'the lab is still there');
  });

  it('over the lab socket a viewer gets its lab\'s snapshot and patches, every change is refused with the sentence and the kernel is unchanged, another lab is not found', async () => {
    const lab = labName();
    const other = labName();
    await build(INSTRUCTOR, lab);
    await build(INSTRUCTOR, other);
    const view = await makeView(INSTRUCTOR, lab);
    const viewer = await open(view.token);
    const hello = await viewer.next('hello');
    assert.deepEqual(hello.labs, [{ name: lab, nodes: 2 }], 'the viewer\'s list holds its lab only');
    viewer.send({ type: 'subscribe', lab });
    const snap = await viewer.next('snapshot', (m) => m.lab === lab);
    assert.deepEqual(Object.keys(snap.topology.nodes).sort(), ['a', 'b']);
    // A change made in the kernel reaches the viewer as a patch.
    const from = viewer.messages.length;
    execFileSync('ip', ['-n', `nslab.${lab}.a`, 'addr', 'add', '10.77.9.1/24', 'dev', 'eth0']);
    await viewer.next('patch', (m) => m.lab === lab && JSON.stringify(m.changes).includes('10.77.9.1'), from);

    const beforeNodes = kernelNodes(lab);
    const beforeAddrs = [kernelAddrs(lab, 'a'), kernelAddrs(lab, 'b')];
    const refused: Array<Record<string, unknown>> = [
      { type: 'edit', id: 'e1', lab, edits: [{ kind: 'node.add', node: 'c' }] },
      { type: 'edit', id: 'e2', lab, edits: [{ kind: 'node.remove', node: 'a' }], dryRun: true },
      { type: 'apply', id: 'e3', topology: { name: lab, nodes: { z: {} } } },
      { type: 'destroy', id: 'e4', lab },
      { type: 'trace', id: 'e5', lab, node: 'a', destination: '10.77.0.2' },
      { type: 'lesson-start', id: 'e6', lesson: 'veth-pair', lab },
      { type: 'lesson-solve', id: 'e7', lab, step: 0 },
      { type: 'lesson-reset', id: 'e8', lab, step: 0 },
      // A change of another lab is refused the same way: the viewer learns nothing of it.
      { type: 'destroy', id: 'e9', lab: other },
    ];
    for (const m of refused) viewer.send(m);
    for (const m of refused) {
      const error = await viewer.next('error', (e) => e.id === m['id']);
      assert.equal(error.code, 'read-only', String(m['type']));
      assert.equal(error.message, readOnlySentence(lab), String(m['type']));
    }
    assert.deepEqual(kernelNodes(lab), beforeNodes);
    assert.deepEqual([kernelAddrs(lab, 'a'), kernelAddrs(lab, 'b')], beforeAddrs, 'no address or interface changed');
    assert.deepEqual(kernelNodes(other), ['a', 'b']);

    // Showing is allowed: packets, lesson status, ping; another lab is not found.
    viewer.send({ type: 'ping', id: 'p1' });
    await viewer.next('pong', (m) => m.id === 'p1');
    viewer.send({ type: 'subscribe', lab: other });
    const missing = await viewer.next('error', (m) => m.code === 'not-found');
    assert.match(missing.message, new RegExp(`it shows ${lab} only`));
    assert.ok(!viewer.messages.some((m) => m.type === 'snapshot' && m.lab !== lab), 'no snapshot of another lab');
    viewer.send({ type: 'watch-packets', lab });
    execFileSync('ip', ['netns', 'exec', `nslab.${lab}.a`, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '10.77.0.2'], { stdio: 'ignore' });
    await viewer.next('packets', (m) => m.lab === lab);
  });

  it('a trainee makes a link for their own lab only; the instructor may link a trainee\'s lab; each lists and revokes what they may', async () => {
    const name = `lv${randomBytes(2).toString('hex')}`;
    const made = await api(port, INSTRUCTOR, 'POST', '/api/trainees', { name });
    assert.equal(made.status, 201);
    const trainee = String(made.body['token']);
    await build(trainee, 'web', `${name}--web`);
    const own = await makeView(trainee, 'web');
    assert.equal(own.lab, 'web');
    const instructorLab = labName();
    await build(INSTRUCTOR, instructorLab);
    const notTheirs = await api(port, trainee, 'POST', `/api/labs/${instructorLab}/views`, {});
    assert.equal(notTheirs.status, 404, 'a lab not theirs is no lab of theirs');
    const byKernelName = await api(port, trainee, 'POST', `/api/labs/${name}--web/views`, {});
    assert.ok(byKernelName.status === 400 || byKernelName.status === 404, String(byKernelName.status));
    const instructors = await makeView(INSTRUCTOR, `${name}--web`);
    // The trainee lists and revokes their own links; the instructor's is not theirs to end.
    const listed = (await api(port, trainee, 'GET', '/api/labs/web/views')).body['views'] as Array<{ id: string }>;
    assert.deepEqual(listed.map((v) => v.id), [own.id]);
    assert.equal((await api(port, trainee, 'DELETE', `/api/labs/web/views/${instructors.id}`)).status, 404);
    const all = (await api(port, INSTRUCTOR, 'GET', `/api/labs/${name}--web/views`)).body['views'] as Array<{ id: string }>;
    assert.deepEqual(all.map((v) => v.id).sort(), [own.id, instructors.id].sort());
    // The trainee's viewer knows the lab by the trainee's name for it.
    const viewer = await open(own.token);
    assert.deepEqual((await viewer.next('hello')).labs, [{ name: 'web', nodes: 2 }]);
    viewer.send({ type: 'subscribe', lab: 'web' });
    const snap = await viewer.next('snapshot');
    assert.equal(snap.lab, 'web');
    assert.equal(snap.topology.name, 'web');
    assert.equal((await api(port, trainee, 'DELETE', `/api/labs/web/views/${own.id}`)).status, 204);
    await viewer.until(() => viewer.closeCode !== undefined, 'close');
  });

  it('revoking a link closes its open lab and terminal sockets; its token is refused after', async () => {
    const lab = labName();
    await build(INSTRUCTOR, lab);
    const view = await makeView(INSTRUCTOR, lab);
    const viewer = await open(view.token);
    viewer.send({ type: 'subscribe', lab });
    await viewer.next('snapshot');
    const opened = await api(port, INSTRUCTOR, 'POST', `/api/labs/${lab}/terminals`, { node: 'a' });
    assert.equal(opened.status, 201);
    const watcher = await TestClient.connect(`ws://127.0.0.1:${port}/ws/term/${String(opened.body['id'])}`, { protocols: ['nslab', `nslab.token.${view.token}`] });
    terms.push(watcher);
    assert.ok(watcher.messages.some((m) => m.type === 'ready'));
    assert.equal((await api(port, INSTRUCTOR, 'DELETE', `/api/labs/${lab}/views/${view.id}`)).status, 204);
    await viewer.until(() => viewer.closeCode !== undefined, 'the lab socket closed');
    assert.equal(viewer.closeCode, VIEW_ENDED_CLOSE);
    await watcher.until(() => watcher.closeCode !== undefined, 5_000, 'the terminal socket closed');
    assert.equal(watcher.closeCode, VIEW_ENDED_CLOSE);
    assert.equal((await api(port, view.token, 'GET', '/api/session')).status, 401);
    assert.equal(await upgrade(port, view.token, '/ws'), 401);
    assert.equal((await api(port, INSTRUCTOR, 'DELETE', `/api/labs/${lab}/views/${view.id}`)).status, 404, 'gone is gone');
  });

  it('an expired link is refused, and its open socket is closed when it ends', async () => {
    const lab = labName();
    await build(INSTRUCTOR, lab);
    // 0.001 h is 3.6 s.
    const view = await makeView(INSTRUCTOR, lab, { hours: 0.001 });
    const viewer = await open(view.token);
    await viewer.next('hello');
    await viewer.until(() => viewer.closeCode !== undefined, 'the socket closed at expiry');
    assert.equal(viewer.closeCode, VIEW_ENDED_CLOSE);
    assert.equal((await api(port, view.token, 'GET', `/api/labs/${lab}`)).status, 401);
    assert.equal(await upgrade(port, view.token, '/ws'), 401);
    assert.deepEqual((await api(port, INSTRUCTOR, 'GET', `/api/labs/${lab}/views`)).body['views'], []);
  });

  it('a viewer cannot open or type into a terminal, but sees its output mirrored; terminals of other labs are 404', async () => {
    const lab = labName();
    const other = labName();
    await build(INSTRUCTOR, lab);
    await build(INSTRUCTOR, other);
    const view = await makeView(INSTRUCTOR, lab);
    const protocols = (token: string) => ['nslab', `nslab.token.${token}`];
    const refusedOpen = await api(port, view.token, 'POST', `/api/labs/${lab}/terminals`, { node: 'a' });
    assert.equal(refusedOpen.status, 403);
    const opened = await api(port, INSTRUCTOR, 'POST', `/api/labs/${lab}/terminals`, { node: 'a' });
    const id = String(opened.body['id']);
    // The viewer attaches first, with nobody else there: it still only watches.
    const watcher = await TestClient.connect(`ws://127.0.0.1:${port}/ws/term/${id}`, { protocols: protocols(view.token) });
    terms.push(watcher);
    watcher.type('echo VIEWER_$((6*7))\r');
    await watcher.until(() => watcher.messages.some((m) => m.type === 'error' && m.message.startsWith(readOnlySentence(lab))), 5_000, 'the read-only notice');
    const owner = await TestClient.connect(`ws://127.0.0.1:${port}/ws/term/${id}`, { protocols: protocols(INSTRUCTOR) });
    terms.push(owner);
    owner.type('echo OWNER_$((6*7))\r');
    await owner.expect(/OWNER_42/, 10_000);
    await watcher.expect(/OWNER_42/, 10_000);
    // The viewer's line never reached the shell: the owner's own echo ran, the viewer's did not.
    owner.type('echo DONE_$((2*2))\r');
    await owner.expect(/DONE_4/, 10_000);
    assert.ok(!/VIEWER_42/.test(owner.text) && !/VIEWER_42/.test(watcher.text), 'the viewer\'s input never ran');
    // A terminal of another lab is unknown to the viewer.
    const otherTerm = await api(port, INSTRUCTOR, 'POST', `/api/labs/${other}/terminals`, { node: 'a' });
    assert.equal(await upgrade(port, view.token, `/ws/term/${String(otherTerm.body['id'])}`), 404);
    assert.equal(await upgrade(port, view.token, '/ws/term/nonexistent'), 404);
    const listed = (await api(port, view.token, 'GET', `/api/labs/${lab}/terminals`)).body['terminals'] as Array<{ id: string }>;
    assert.deepEqual(listed.map((t) => t.id), [id]);
  });
});

describe('live-view links outside classroom mode', () => {
  it('the one user is the instructor and makes links; a viewer is refused changes', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 4 }, () => {});
    const lab = labName();
    try {
      const built = await api(server.port, INSTRUCTOR, 'PUT', `/api/labs/${lab}`, pair(lab));
      assert.equal(built.status, 200);
      const r = await api(server.port, INSTRUCTOR, 'POST', `/api/labs/${lab}/views`, { hours: 1 });
      assert.equal(r.status, 201);
      const token = String(r.body['token']);
      assert.equal((await api(server.port, token, 'GET', `/api/labs/${lab}`)).status, 200);
      const del = await api(server.port, token, 'DELETE', `/api/labs/${lab}`);
      assert.equal(del.status, 403);
      assert.equal(del.body['error'], readOnlySentence(lab));
      assert.deepEqual(kernelNodes(lab), ['a', 'b']);
    } finally {
      await server.stop();
      await destroyLab(lab).catch(() => undefined);
    }
  });
});
