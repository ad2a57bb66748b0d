// Classroom mode through the server's real doors: an instructor token that makes trainees, two
// trainees each with a lab of the same name (two sets of real namespaces), each seeing only their
// own over HTTP and WebSocket, another's lab and terminal unknown to them, and the quotas on labs,
// namespaces and terminals refused with a sentence and nothing half made. Kernel state is read
// with `ip` itself. Lab names start with the rm- prefix of these tests, and every namespace they
// made is removed in `after`, even when a test failed. Needs root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startServer } from '../main';
import type { Running } from '../main';
import { destroyLab } from '../kernel/lab';
import { DEFAULT_QUOTAS } from './classroom';
import { api, Peer, upgrade } from '../../test-kit/http';
import { TraineeUsers } from './contain';

const INSTRUCTOR = randomBytes(24).toString('hex');
/** Trainee names: the rm- prefix, so that their kernel labs (`NAME--LAB`) carry it too. */
const trainee = () => `rm-${randomBytes(3).toString('hex')}`;

/** Named namespaces, as `ip netns list` reports them. */
function netnsList(): string[] {
  const out = execFileSync('ip', ['-j', 'netns', 'list'], { encoding: 'utf8' }).trim();
  return (out ? (JSON.parse(out) as Array<{ name: string }>) : []).map((n) => n.name);
}

/** The node names of a kernel lab, from /run/netns. */
function kernelNodes(kernelLab: string): string[] {
  return netnsList().filter((n) => n.startsWith(`nslab.${kernelLab}.`)).map((n) => n.slice(`nslab.${kernelLab}.`.length)).sort();
}


/** A lab of empty nodes, as the trainee names it. */
function lab(name: string, nodes: string[]): unknown {
  return { name, nodes: Object.fromEntries(nodes.map((n) => [n, {}])) };
}

describe('classroom mode (kernel, real sockets)', { concurrency: false }, () => {
  let server: Running;
  let port: number;
  const kernelLabs = new Set<string>();
  const peers: Peer[] = [];
  /** Makes a trainee through the API and remembers the kernel labs they could make. */
  const makeTrainee = async (): Promise<{ name: string; token: string; url: string }> => {
    const name = trainee();
    const r = await api(port, INSTRUCTOR, 'POST', '/api/trainees', { name });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { name: string; token: string; url: string };
  };
  const put = async (token: string, owner: string, name: string, nodes: string[]) => {
    kernelLabs.add(`${owner}--${name}`);
    return api(port, token, 'PUT', `/api/labs/${name}`, lab(name, nodes));
  };

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 16, classroom: true }, () => {});
    port = server.port;
  });

  after(async () => {
    for (const p of peers) p.ws.terminate();
    await server?.stop();
    for (const l of kernelLabs) await destroyLab(l).catch(() => undefined);
    // Trainees' labs were made in their user namespaces (classroom/contain.ts): unbind those too.
    for (const l of kernelLabs) if (l.includes('--')) new TraineeUsers().release(l.slice(0, l.indexOf('--')));
    const left = netnsList().filter((n) => [...kernelLabs].some((l) => n.startsWith(`nslab.${l}.`)));
    assert.deepEqual(left, [], 'every namespace these tests made is gone');
  });

  it('the instructor makes trainees (201 with name, token, join link); trainees cannot; wrong and taken names are refused', async () => {
    const t = await makeTrainee();
    assert.match(t.token, /^[0-9a-f]{64}$/);
    assert.equal(t.url, `http://127.0.0.1:${port}/?token=${t.token}`);
    assert.equal((await api(port, t.token, 'GET', '/api/version')).status, 200, 'the trainee token opens the API');
    assert.equal((await api(port, t.token, 'POST', '/api/trainees', { name: 'rm-other' })).status, 403);
    assert.equal((await api(port, t.token, 'GET', '/api/trainees')).status, 403);
    const dup = await api(port, INSTRUCTOR, 'POST', '/api/trainees', { name: t.name });
    assert.equal(dup.status, 409);
    assert.match(String(dup.body['error']), /already a trainee named/);
    for (const bad of ['Ana', 'a--b', 'ana-', '1ana', 'a'.repeat(13), '', 42]) {
      const r = await api(port, INSTRUCTOR, 'POST', '/api/trainees', { name: bad });
      assert.equal(r.status, 400, `name ${JSON.stringify(bad)}`);
      assert.match(String(r.body['error']), /trainee name/);
    }
    const list = await api(port, INSTRUCTOR, 'GET', '/api/trainees');
    assert.ok((list.body['trainees'] as Array<{ name: string }>).some((x) => x.name === t.name));
    assert.equal((await api(port, 'x'.repeat(40), 'GET', '/api/labs')).status, 401, 'an unknown token is no one');
  });

  it('two trainees each have their own lab "web"; each lists and reads only theirs; the kernel names include the trainee', async () => {
    const a = await makeTrainee();
    const b = await makeTrainee();
    assert.equal((await put(a.token, a.name, 'web', ['a1', 'a2'])).status, 200);
    assert.equal((await put(b.token, b.name, 'web', ['b1'])).status, 200);
    assert.deepEqual(kernelNodes(`${a.name}--web`), ['a1', 'a2']);
    assert.deepEqual(kernelNodes(`${b.name}--web`), ['b1']);

    assert.deepEqual((await api(port, a.token, 'GET', '/api/labs')).body['labs'], [{ name: 'web', nodes: 2 }]);
    assert.deepEqual((await api(port, b.token, 'GET', '/api/labs')).body['labs'], [{ name: 'web', nodes: 1 }]);
    const all = (await api(port, INSTRUCTOR, 'GET', '/api/labs')).body['labs'] as Array<{ name: string }>;
    assert.ok(all.some((l) => l.name === `${a.name}--web`) && all.some((l) => l.name === `${b.name}--web`), 'the instructor sees every lab');
    const read = await api(port, a.token, 'GET', '/api/labs/web');
    assert.equal(read.body['name'], 'web');
    assert.deepEqual(Object.keys(read.body['nodes'] as object).sort(), ['a1', 'a2']);

    // B's lab by its kernel name is no lab of A's: refused, and untouched.
    for (const [method, path] of [['GET', `/api/labs/${b.name}--web`], ['DELETE', `/api/labs/${b.name}--web`], ['GET', `/api/labs/${b.name}--web/export`]] as const) {
      const r = await api(port, a.token, method, path);
      assert.ok(r.status === 404 || r.status === 400, `${method} ${path}: ${r.status}`);
    }
    assert.deepEqual(kernelNodes(`${b.name}--web`), ['b1']);
    // A's destroy of "web" removes A's and only A's.
    const gone = await api(port, a.token, 'DELETE', '/api/labs/web');
    assert.equal(gone.status, 200);
    assert.equal(gone.body['lab'], 'web');
    assert.deepEqual(kernelNodes(`${a.name}--web`), []);
    assert.deepEqual(kernelNodes(`${b.name}--web`), ['b1']);
    const again = await api(port, a.token, 'GET', '/api/labs/web');
    assert.equal(again.status, 404);
    assert.equal(again.body['error'], 'no lab named "web"', 'the sentence uses the trainee\'s own name');
  });

  it('over the lab socket a trainee sees only their labs, under their names, and cannot reach another\'s', async () => {
    const a = await makeTrainee();
    const b = await makeTrainee();
    assert.equal((await put(a.token, a.name, 'net', ['a1'])).status, 200);
    assert.equal((await put(b.token, b.name, 'other', ['b1'])).status, 200);
    const pa = await Peer.open(port, a.token);
    peers.push(pa);
    const hello = await pa.next('hello');
    assert.deepEqual(hello.labs, [{ name: 'net', nodes: 1 }]);
    pa.send({ type: 'subscribe', lab: 'net' });
    const snap = await pa.next('snapshot', (m) => m.lab === 'net');
    assert.equal(snap.topology.name, 'net');
    assert.deepEqual(Object.keys(snap.topology.nodes), ['a1']);
    // B's lab, named as B names it, is A's own (empty) lab; by its kernel name it is refused; destroy finds nothing.
    pa.send({ type: 'destroy', id: 'd1', lab: 'other' });
    const refused = await pa.next('error', (m) => m.id === 'd1');
    assert.equal(refused.code, 'not-found');
    pa.send({ type: 'destroy', id: 'd2', lab: `${b.name}--other` });
    const wrong = await pa.next('error', (m) => m.id === 'd2');
    assert.ok(wrong.code === 'not-found' || wrong.code === 'invalid', wrong.code);
    assert.deepEqual(kernelNodes(`${b.name}--other`), ['b1']);
    // A lab B makes later is never announced to A.
    const from = pa.messages.length;
    assert.equal((await put(b.token, b.name, 'late', ['b2'])).status, 200);
    assert.equal((await put(a.token, a.name, 'mine', ['a2'])).status, 200);
    const list = await pa.next('labs', (m) => m.labs.some((l) => l.name === 'mine'), from);
    assert.deepEqual(list.labs.map((l) => l.name).sort(), ['mine', 'net']);
    const leaks = pa.messages.filter((m) => !('id' in m && m.id === 'd2') && JSON.stringify(m).includes(b.name));
    assert.deepEqual(leaks, [], 'nothing of B reached A (but the refusal of the name A typed)');
    // Edits over the socket apply to A's lab.
    pa.send({ type: 'apply', id: 'ap', topology: lab('net', ['a1', 'a3']) });
    const result = await pa.next('result', (m) => m.id === 'ap');
    assert.equal(result.lab, 'net');
    assert.deepEqual(kernelNodes(`${a.name}--net`), ['a1', 'a3']);
  });

  it('another trainee\'s terminal is 404 over HTTP and WebSocket; its owner and the instructor reach it', async () => {
    const a = await makeTrainee();
    const b = await makeTrainee();
    assert.equal((await put(b.token, b.name, 'sh', ['b1'])).status, 200);
    const opened = await api(port, b.token, 'POST', '/api/labs/sh/terminals', { node: 'b1' });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const id = String(opened.body['id']);
    assert.equal(await upgrade(port, a.token, `/ws/term/${id}`), 404);
    assert.equal((await api(port, a.token, 'DELETE', `/api/terminals/${id}`)).status, 404);
    assert.deepEqual((await api(port, a.token, 'GET', '/api/labs/sh/terminals')).body['terminals'], [], 'A\'s "sh" is A\'s own');
    assert.equal(await upgrade(port, b.token, `/ws/term/${id}`), 101);
    assert.equal(await upgrade(port, INSTRUCTOR, `/ws/term/${id}`), 101);
    const listed = (await api(port, b.token, 'GET', '/api/labs/sh/terminals')).body['terminals'] as Array<{ id: string; lab: string }>;
    assert.deepEqual(listed.map((t) => [t.id, t.lab]), [[id, 'sh']]);
    assert.equal((await api(port, b.token, 'DELETE', `/api/terminals/${id}`)).status, 204);
  });

  it('quotas: a 6th lab, a 41st namespace and a 9th terminal are refused with a sentence, and nothing is half made', async () => {
    const t = await makeTrainee();
    for (let i = 1; i <= DEFAULT_QUOTAS.labs; i += 1) assert.equal((await put(t.token, t.name, `q${i}`, ['n1'])).status, 200, `lab q${i}`);
    const sixth = await put(t.token, t.name, 'q6', ['n1']);
    assert.equal(sixth.status, 409);
    assert.match(String(sixth.body['error']), /you have 5 labs, the most a trainee may have here: destroy one/);
    assert.deepEqual(kernelNodes(`${t.name}--q6`), []);
    // Namespaces: 5 in use; a lab grown to 37 nodes would make 41.
    const big = Array.from({ length: DEFAULT_QUOTAS.namespaces - DEFAULT_QUOTAS.labs + 2 }, (_, i) => `n${i + 1}`);
    const grown = await put(t.token, t.name, 'q1', big);
    assert.equal(grown.status, 409);
    assert.match(String(grown.body['error']), /this would give you 41 namespaces, and a trainee may have 40/);
    assert.deepEqual(kernelNodes(`${t.name}--q1`), ['n1'], 'nothing of the refused change ran');
    // Exactly at the quota is allowed.
    assert.equal((await put(t.token, t.name, 'q1', big.slice(0, -1))).status, 200);
    assert.equal(kernelNodes(`${t.name}--q1`).length, DEFAULT_QUOTAS.namespaces - DEFAULT_QUOTAS.labs + 1);
    // At the quota, a node added on the canvas (an edit over the lab socket) is refused too, and not made.
    const peer = await Peer.open(port, t.token);
    peers.push(peer);
    peer.send({ type: 'edit', id: 'grow', lab: 'q2', edits: [{ kind: 'node.add', node: 'n2' }] });
    const refusedEdit = await peer.next('error', (m) => m.id === 'grow');
    assert.equal(refusedEdit.lab, 'q2');
    assert.match(refusedEdit.message, /this would give you 41 namespaces, and a trainee may have 40/);
    assert.deepEqual(kernelNodes(`${t.name}--q2`), ['n1']);
    // Terminals: 8 open, the 9th refused.
    const ids: string[] = [];
    for (let i = 0; i < DEFAULT_QUOTAS.terminals; i += 1) {
      const r = await api(port, t.token, 'POST', `/api/labs/q${(i % 5) + 1}/terminals`, { node: 'n1' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(String(r.body['id']));
    }
    const ninth = await api(port, t.token, 'POST', '/api/labs/q2/terminals', { node: 'n1' });
    assert.equal(ninth.status, 429);
    assert.match(String(ninth.body['error']), /you have 8 terminals open, the most a trainee may have here: close one/);
    // Another trainee is not held back by this one's quotas.
    const other = await makeTrainee();
    assert.equal((await put(other.token, other.name, 'q1', ['n1'])).status, 200);
    assert.equal((await api(port, other.token, 'POST', '/api/labs/q1/terminals', { node: 'n1' })).status, 201);
    // Closing one makes room.
    assert.equal((await api(port, t.token, 'DELETE', `/api/terminals/${ids[0] ?? ''}`)).status, 204);
    assert.equal((await api(port, t.token, 'POST', '/api/labs/q2/terminals', { node: 'n1' })).status, 201);
  });

  it('a trainee\'s lab name must leave room for their name in the kernel\'s 24 characters, and follow the lab-name rules', async () => {
    const t = await makeTrainee();
    const long = await api(port, t.token, 'PUT', '/api/labs/abcdefghijklmn', lab('abcdefghijklmn', ['n1']));
    assert.equal(long.status, 400);
    assert.match(String(long.body['error']), /in this classroom use at most 13/);
    const bad = await api(port, t.token, 'PUT', '/api/labs/Web', lab('Web', ['n1']));
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /characters other than a-z/);
  });
});

describe('outside classroom mode', () => {
  it('there are no trainees: POST /api/trainees is 404 with a sentence', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 4 }, () => {});
    try {
      const r = await api(server.port, INSTRUCTOR, 'POST', '/api/trainees', { name: 'rm-x' });
      assert.equal(r.status, 404);
      assert.match(String(r.body['error']), /nslab serve --classroom/);
    } finally {
      await server.stop();
    }
  });
});
