// Each channel of one trainee is closed to another, over the real socket and HTTP: packets, traces,
// conntrack tables, lesson status and pcap downloads. Two trainees each have a lab "web" (A on
// 10.68.0.0/24, B on 10.69.0.0/24); B's lab is busy on every channel while A asks for it by
// every name A could type, and nothing of B (its name, its addresses) may reach A. And a lab's
// live-view viewer sees the traces its owner runs. Trainee names start with the ins prefix;
// every namespace made is removed in `after`. Needs root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ServerMessage } from '@nslab/model';
import { startServer } from '../main';
import type { Running } from '../main';
import { destroyLab } from '../kernel/lab';
import { api, Peer } from '../../test-kit/http';
import { TraineeUsers } from './contain';

const INSTRUCTOR = randomBytes(24).toString('hex');
const trainee = () => `ins${randomBytes(3).toString('hex')}`;

/** Two namespaces joined by a veth pair on 10.N.0.0/24. */
function pair(name: string, n: number): unknown {
  return {
    name,
    nodes: { n1: { interfaces: { eth0: { addresses: [`10.${n}.0.1/24`] } } }, n2: { interfaces: { eth0: { addresses: [`10.${n}.0.2/24`] } } } },
    links: [['n1:eth0', 'n2:eth0']],
  };
}

/**
 * The messages that leak `trainee`'s name or their subnet; an answer that repeats a lab name the
 * asker typed (`NAME--LAB`, in `typed`) tells them nothing new.
 */
function leaks(messages: ServerMessage[], name: string, subnet: string, typed: string[] = []): ServerMessage[] {
  return messages.filter((m) => {
    const text = typed.reduce((t, said) => t.replaceAll(said, ''), JSON.stringify(m));
    return text.includes(subnet) || text.includes(name);
  });
}

describe('per-channel scoping between trainees (kernel, real sockets)', { concurrency: false }, () => {
  let server: Running;
  let port: number;
  const a = { name: trainee(), token: '' };
  const b = { name: trainee(), token: '' };
  const peers: Peer[] = [];
  const open = async (token: string) => {
    const p = await Peer.open(port, token);
    peers.push(p);
    await p.next('hello');
    return p;
  };
  /** Sends `message` (naming another's lab) and awaits its refusal: an error about that name. */
  const refusal = async (peer: Peer, message: Record<string, unknown>): Promise<ServerMessage> => {
    const from = peer.messages.length;
    peer.send(message);
    return peer.next('error', () => true, from);
  };
  let pa: Peer;
  let pb: Peer;
  /** The names of B's labs that A types in these tests (answers may repeat them). */
  const typed = [`${b.name}--web`, `${b.name}--vp`];

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', token: INSTRUCTOR, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 16, classroom: true }, () => {});
    port = server.port;
    for (const t of [a, b]) {
      const r = await api(port, INSTRUCTOR, 'POST', '/api/trainees', { name: t.name });
      assert.equal(r.status, 201);
      t.token = String(r.body['token']);
    }
    assert.equal((await api(port, a.token, 'PUT', '/api/labs/web', pair('web', 68))).status, 200);
    assert.equal((await api(port, b.token, 'PUT', '/api/labs/web', pair('web', 69))).status, 200);
    pa = await open(a.token);
    pb = await open(b.token);
    for (const p of [pa, pb]) {
      p.send({ type: 'subscribe', lab: 'web' });
      await p.next('snapshot', (m) => m.lab === 'web');
    }
  });

  after(async () => {
    for (const p of peers) p.ws.terminate();
    await server?.stop();
    for (const lab of ['web', 'vp']) for (const t of [a, b]) await destroyLab(`${t.name}--${lab}`).catch(() => undefined);
    // The trainees' user namespaces outlive a server on purpose (contain.ts): these tests release theirs.
    for (const t of [a, b]) new TraineeUsers().release(t.name);
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`${a.name}--`) || l.includes(`${b.name}--`));
    assert.deepEqual(left, [], 'every namespace these tests made is gone');
    assert.ok(![a, b].some((t) => existsSync(`/run/nslab/users/${t.name}`)), 'and their user namespaces');
  });

  it('packets: A cannot watch B\'s lab by its kernel name, and B\'s captured pings never reach A', async () => {
    pb.send({ type: 'watch-packets', lab: 'web' });
    await pb.next('capture', (m) => m.node === 'n1' && m.state === 'started');
    const refused = await refusal(pa, { type: 'watch-packets', lab: `${b.name}--web` });
    assert.equal(refused.type, 'error');
    pa.send({ type: 'watch-packets', lab: 'web' });
    await pa.next('capture', (m) => m.node === 'n1' && m.state === 'started');
    execFileSync('ip', ['netns', 'exec', `nslab.${b.name}--web.n1`, 'ping', '-c', '3', '-i', '0.2', '10.69.0.2']);
    // B sees its pings (so they were captured and sent) ...
    await pb.next('packets', (m) => JSON.stringify(m.packets).includes('10.69.0.2'));
    // ... and A's socket, open all along on a lab of the same name, got none of them.
    assert.deepEqual(leaks(pa.messages, b.name, '10.69.', typed), []);
    pa.send({ type: 'unwatch-packets', lab: 'web' });
    pb.send({ type: 'unwatch-packets', lab: 'web' });
  });

  it('trace: A\'s trace by B\'s kernel name is refused; B\'s trace answers B alone', async () => {
    const refused = await refusal(pa, { type: 'trace', id: 'ta', lab: `${b.name}--web`, node: 'n1', destination: '10.69.0.2' });
    assert.ok(refused.type === 'error' && refused.id === 'ta', JSON.stringify(refused));
    pb.send({ type: 'trace', id: 'tb', lab: 'web', node: 'n1', destination: '10.69.0.2' });
    const traced = await pb.next('trace', (m) => m.id === 'tb');
    assert.equal(traced.lab, 'web');
    assert.ok(JSON.stringify(traced.result).includes('10.69.0.2'));
    assert.ok(!pa.messages.some((m) => m.type === 'trace'), 'A received no trace');
    assert.deepEqual(leaks(pa.messages, b.name, '10.69.', typed), []);
  });

  it('conntrack: A cannot follow B\'s table, and B\'s table never reaches A', async () => {
    const refused = await refusal(pa, { type: 'conntrack-watch', lab: `${b.name}--web`, node: 'n1' });
    assert.equal(refused.type, 'error');
    pb.send({ type: 'conntrack-watch', lab: 'web', node: 'n2' });
    execFileSync('ip', ['netns', 'exec', `nslab.${b.name}--web.n1`, 'ping', '-c', '1', '10.69.0.2']);
    await pb.next('conntrack', (m) => m.lab === 'web' && m.node === 'n2');
    assert.ok(!pa.messages.some((m) => m.type === 'conntrack'), 'A received no conntrack table');
    assert.deepEqual(leaks(pa.messages, b.name, '10.69.', typed), []);
    pb.send({ type: 'conntrack-unwatch', lab: 'web' });
  });

  it('lesson status: B\'s lesson and its status reach B, never A; A cannot follow B\'s lab', async () => {
    const lessonLab = 'vp';
    pb.send({ type: 'lesson-start', id: 'ls', lesson: 'veth-pair', lab: lessonLab });
    await pb.next('result', (m) => m.id === 'ls');
    pb.send({ type: 'lesson-watch', lab: lessonLab });
    await pb.next('lesson-status', (m) => m.lab === lessonLab);
    // B's lab by its kernel name is, for A, a lab of A's own that does not exist: no lesson there.
    let from = pa.messages.length;
    pa.send({ type: 'lesson-watch', lab: `${b.name}--${lessonLab}` });
    const other = await pa.next('lesson', () => true, from).catch(() => pa.next('error', () => true, from));
    assert.ok(other.type === 'error' || (other.type === 'lesson' && other.lesson === null), JSON.stringify(other));
    // A's own "vp" has no lesson: A is told so, and of nothing else.
    from = pa.messages.length;
    pa.send({ type: 'lesson-watch', lab: lessonLab });
    const own = await pa.next('lesson', (m) => m.lab === lessonLab, from).catch(() => pa.next('error', () => true, from));
    assert.ok(own.type === 'error' || (own.type === 'lesson' && own.lesson === null), JSON.stringify(own));
    assert.ok(!pa.messages.some((m) => m.type === 'lesson-status'), 'A received no lesson status');
    assert.deepEqual(leaks(pa.messages, b.name, '10.69.', typed), []);
    await destroyLab(`${b.name}--${lessonLab}`);
  });

  it('pcap download: A cannot download B\'s capture, nor sign a link to it; A\'s signed link opens A\'s lab', async () => {
    pb.send({ type: 'watch-packets', lab: 'web' });
    await pb.next('capture', (m) => m.node === 'n1' && m.state === 'started');
    execFileSync('ip', ['netns', 'exec', `nslab.${b.name}--web.n1`, 'ping', '-c', '1', '10.69.0.2']);
    const own = await api(port, b.token, 'GET', '/api/labs/web/pcap?node=n1');
    assert.equal(own.status, 200, 'B downloads B\'s capture');
    const direct = await api(port, a.token, 'GET', `/api/labs/${b.name}--web/pcap?node=n1`);
    assert.ok(direct.status === 400 || direct.status === 404, `A's download of B's capture: ${direct.status}`);
    const mine = await api(port, a.token, 'GET', '/api/labs/web/pcap?node=n1');
    assert.equal(mine.status, 404, 'A\'s "web" is A\'s, and A captures nothing');
    assert.ok(!JSON.stringify(mine.body).includes(b.name));
    const sign = await api(port, a.token, 'POST', '/api/signed-url', { path: `/api/labs/${b.name}--web/pcap?node=n1` });
    assert.ok(sign.status === 400 || sign.status === 404, `A signing B's capture: ${sign.status} ${JSON.stringify(sign.body)}`);
    const signed = await api(port, a.token, 'POST', '/api/signed-url', { path: '/api/labs/web/pcap?node=n1' });
    assert.equal(signed.status, 200);
    assert.ok(String(signed.body['url']).startsWith(`/api/labs/${a.name}--web/pcap`), String(signed.body['url']));
    const viaLink = await fetch(`http://127.0.0.1:${port}${String(signed.body['url'])}`);
    assert.equal(viaLink.status, 404, 'the signed link opens A\'s lab, where nothing is captured');
    await viaLink.body?.cancel();
    pb.send({ type: 'unwatch-packets', lab: 'web' });
  });

  it('a live-view viewer of B\'s lab sees the trace B runs on it; A still sees nothing', async () => {
    const link = await api(port, b.token, 'POST', '/api/labs/web/views', {});
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const viewer = await open(String(link.body['token']));
    viewer.send({ type: 'subscribe', lab: 'web' });
    await viewer.next('snapshot', (m) => m.lab === 'web');
    pb.send({ type: 'trace', id: 'tv', lab: 'web', node: 'n1', destination: '10.69.0.2' });
    await pb.next('trace', (m) => m.id === 'tv');
    const seen = await viewer.next('trace', (m) => m.lab === 'web');
    assert.equal(seen.id, undefined, 'the viewer asked for nothing: the trace carries no request id');
    assert.ok(JSON.stringify(seen.result).includes('10.69.0.2'));
    assert.ok(!pa.messages.some((m) => m.type === 'trace'), 'A received no trace');
  });

  it('B\'s other page and the instructor\'s view of B\'s lab see the trace B runs, in their own names; A still sees nothing', async () => {
    const page = await open(b.token);
    page.send({ type: 'subscribe', lab: 'web' });
    await page.next('snapshot', (m) => m.lab === 'web');
    const instructor = await open(INSTRUCTOR);
    instructor.send({ type: 'subscribe', lab: `${b.name}--web` });
    await instructor.next('snapshot', (m) => m.lab === `${b.name}--web`);
    pb.send({ type: 'trace', id: 'to', lab: 'web', node: 'n1', destination: '10.69.0.2' });
    await pb.next('trace', (m) => m.id === 'to');
    const mine = await page.next('trace', (m) => m.lab === 'web');
    assert.equal(mine.id, undefined, 'the other page asked for nothing: the trace carries no request id');
    assert.ok(JSON.stringify(mine.result).includes('10.69.0.2'));
    const watched = await instructor.next('trace', (m) => m.lab === `${b.name}--web`);
    assert.ok(JSON.stringify(watched.result).includes('10.69.0.2'));
    assert.ok(!pa.messages.some((m) => m.type === 'trace'), 'A received no trace');
  });
});
