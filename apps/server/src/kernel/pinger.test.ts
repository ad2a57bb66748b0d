/**
 * nslab-ping on the real kernel: echo requests sent from inside a lab namespace through
 * the one helper process, answered, lost, refused by the kernel and cancelled, and the
 * helper's own guards (names, addresses, its parent's death).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { netnsName } from '@nslab/model';
import { applyTopology } from './lab';
import { Pinger, PING_PATH, pingAvailable } from './pinger';
import { cleanup, inNode, loadExample, uniqueLab } from './testlab';

const lab = uniqueLab('pinger');
const pinger = new Pinger();
const ns1 = netnsName(lab, 'ns1');

before(async () => {
  await applyTopology(loadExample('veth-pair.yaml', lab));
});
after(async () => {
  pinger.close();
  await cleanup(lab);
});

test('the helper is built and takes IPv4 addresses only', () => {
  assert.ok(pingAvailable('172.18.0.3'), `${PING_PATH} is built by apps/server/native/build.mjs`);
  assert.equal(pingAvailable('fd00::1'), false, 'IPv6 goes to ping(8)');
});

test('an echo request from ns1 to ns2 is answered, and one to an address nobody has is not', async () => {
  const answered = await pinger.ping(ns1, '172.18.0.3', 2000);
  assert.equal(answered.kind, 'reply');
  assert.ok(answered.kind === 'reply' && answered.rttUs >= 0);
  // ns2 saw it: its echo-reply counter moved (the request went through the kernel, not a shortcut).
  const before = Number(/OutEchoReps\s+(\d+)/.exec(inNode(lab, 'ns2', ['nstat', '-az', 'IcmpOutEchoReps']).out)?.[1] ?? NaN);
  assert.equal((await pinger.ping(ns1, '172.18.0.3', 2000)).kind, 'reply');
  const afterCount = Number(/OutEchoReps\s+(\d+)/.exec(inNode(lab, 'ns2', ['nstat', '-az', 'IcmpOutEchoReps']).out)?.[1] ?? NaN);
  assert.ok(afterCount > before, `ns2 answered (IcmpOutEchoReps ${before} -> ${afterCount})`);
  assert.deepEqual(await pinger.ping(ns1, '172.18.0.99', 300), { kind: 'timeout' });
});

test('a request the kernel cannot send says why, and one with the link down times out', async () => {
  const unreachable = await pinger.ping(ns1, '198.51.100.7', 500);
  assert.equal(unreachable.kind, 'error');
  assert.match(unreachable.kind === 'error' ? unreachable.message : '', /Network is unreachable/);
  inNode(lab, 'ns2', ['ip', 'link', 'set', 'eth0', 'down']);
  try {
    assert.deepEqual(await pinger.ping(ns1, '172.18.0.3', 300), { kind: 'timeout' });
  } finally {
    inNode(lab, 'ns2', ['ip', 'link', 'set', 'eth0', 'up']);
  }
});

test('many requests at once from two namespaces each get their own answer', async () => {
  const ns2 = netnsName(lab, 'ns2');
  // A request to nobody first: the answers below must not wait for its timeout.
  const lost = pinger.ping(ns2, '172.18.0.77', 1500);
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? pinger.ping(ns1, '172.18.0.3', 3000) : pinger.ping(ns2, '172.18.0.2', 3000))));
  assert.deepEqual(results.map((r) => r.kind), Array.from({ length: 40 }, () => 'reply'));
  assert.deepEqual(await lost, { kind: 'timeout' });
});

test('an aborted request rejects at once and leaves the helper serving', async () => {
  const controller = new AbortController();
  const waiting = pinger.ping(ns1, '172.18.0.88', 5000, controller.signal);
  controller.abort();
  await assert.rejects(waiting, /aborted/);
  assert.equal((await pinger.ping(ns1, '172.18.0.3', 2000)).kind, 'reply');
});

test('bad names, addresses and waits are refused before the helper sees them, and the helper refuses them too', async () => {
  await assert.rejects(pinger.ping('../etc', '172.18.0.3', 100), /not a namespace name/);
  await assert.rejects(pinger.ping('a b', '172.18.0.3', 100), /not a namespace name/);
  await assert.rejects(pinger.ping(ns1, '172.18.0.3\n9 x 1.1.1.1 5', 100), /not an IPv4 address/);
  await assert.rejects(pinger.ping(ns1, '172.18.0.3', 0), /between 1 ms and 60 s/);
  const missing = await pinger.ping(`${ns1}-gone`, '172.18.0.3', 100);
  assert.equal(missing.kind, 'error');
  assert.match(missing.kind === 'error' ? missing.message : '', /No such file or directory/);
  // The helper's own checks, for a caller that skips the ones above.
  const r = spawnSync(PING_PATH, [], { input: `1 ../x 172.18.0.3 100\n2 ${ns1} fd00::1 100\n3 ${ns1} 172.18.0.3 0\n`, encoding: 'utf8', timeout: 5000 });
  assert.equal(r.stdout, '1 error not a namespace name\n2 error not an IPv4 address\n3 error expected: ID NETNS DEST WAIT_MS\n');
});

test('a process whose pings are answered exits without closing the pinger (an idle helper holds no event loop)', () => {
  const script = `import { Pinger } from ${JSON.stringify(new URL('./pinger.ts', import.meta.url).pathname)}; const r = await new Pinger().ping(${JSON.stringify(ns1)}, '172.18.0.3', 2000); console.log(r.kind);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, 'it was not killed for hanging');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'reply');
});

test('the helper ends when the process that started it dies', async () => {
  // A parent that starts the helper, prints its pid and is then killed.
  const parent = spawn(process.execPath, ['-e', `const c = require('node:child_process').spawn(${JSON.stringify(PING_PATH)}, [], { stdio: ['pipe', 'ignore', 'ignore'] }); console.log(c.pid); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((ok) => parent.stdout.once('data', (b: Buffer) => ok(Number(b.toString().trim()))));
  assert.ok(pid > 0);
  const alive = () => spawnSync('kill', ['-0', String(pid)]).status === 0;
  assert.ok(alive(), 'the helper runs while its parent does');
  parent.kill('SIGKILL');
  for (let i = 0; i < 100 && alive(); i += 1) await new Promise((ok) => setTimeout(ok, 50));
  assert.equal(alive(), false, 'the helper died with its parent (its input closed; PR_SET_PDEATHSIG besides)');
});
