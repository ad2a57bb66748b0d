/**
 * Live conntrack tables in a real lab: the port-publishing example (DNAT at "host"),
 * followed while "internet" fetches the published port. The table arrives at once,
 * the connection appears with its DNAT rewrite because `conntrack -E` reported it,
 * the message is valid on the wire, and every event process ends when nobody
 * follows, when the node is gone, and when the lab is destroyed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { ConntrackServerMessage } from '@nslab/model';
import { netnsName, parseServerMessage } from '@nslab/model';
import { applyTopology } from '../kernel/lab';
import { cleanup, curlUntil, loadExample, uniqueLab } from '../../test-kit/lab';
import { ConntrackService } from './conntrack-live';

const lab = uniqueLab('t2-ct');
let server: ChildProcess | undefined;

/** This process's children named `comm`: a follow must leave no conntrack process behind. */
function children(comm: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let stat: string;
    try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid && name === comm) out.push(Number(pid));
  }
  return out;
}

/** A sink and a way to wait for the first message it receives that satisfies a test. */
function collector() {
  const seen: ConntrackServerMessage[] = [];
  const waiting: { test: (m: ConntrackServerMessage) => boolean; ok: (m: ConntrackServerMessage) => void }[] = [];
  const sink = (m: ConntrackServerMessage) => {
    seen.push(m);
    for (const w of [...waiting]) if (w.test(m)) { waiting.splice(waiting.indexOf(w), 1); w.ok(m); }
  };
  const until = (t: (m: ConntrackServerMessage) => boolean) => {
    const found = seen.find(t);
    return found ? Promise.resolve(found) : new Promise<ConntrackServerMessage>((ok) => waiting.push({ test: t, ok }));
  };
  return { sink, seen, until };
}

before(async () => {
  await applyTopology(loadExample('dnat.yaml', lab));
  server = spawn('ip', ['netns', 'exec', netnsName(lab, 'web'), 'python3', '-m', 'http.server', '80'], { stdio: 'ignore' });
});

after(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const gone = new Promise((ok) => server?.once('exit', ok));
    server.kill('SIGKILL');
    await gone;
  }
  await cleanup(lab);
});

describe('a followed conntrack table', { timeout: 60_000 }, () => {
  test('shows a connection to a published port with its DNAT rewrite, as conntrack -E reports it', async () => {
    const service = new ConntrackService();
    const c = collector();
    const stop = service.watch(lab, 'host', c.sink);
    try {
      const first = await c.until(() => true);
      assert.equal(first.error, undefined, first.error);
      assert.equal(service.processCount(), 1);
      assert.match(await curlUntil(lab, 'internet', 'http://203.0.113.2:8080/', 'Directory listing'), /Directory listing/);
      const m = await c.until((x) => x.entries.some((e) => e.proto === 'tcp' && e.original.dport === 8080));
      const entry = m.entries.find((e) => e.proto === 'tcp' && e.original.dport === 8080);
      assert.equal(entry?.node, 'host');
      assert.equal(entry?.original.src, '203.0.113.1');
      assert.equal(entry?.original.dst, '203.0.113.2');
      // The reply the kernel expects comes from the server behind the host: the DNAT it remembers.
      assert.equal(entry?.reply.src, '192.168.1.1');
      assert.equal(entry?.reply.sport, 80);
      assert.ok(m.total >= 1);
      assert.ok((service.changesSeen(lab, 'host') ?? 0) > 0, 'conntrack -E reported no change');
      // What the server sends is a valid server message, entries checked field by field.
      const wire = parseServerMessage(JSON.stringify(m));
      assert.ok(wire.ok, wire.ok ? '' : wire.error);
      assert.equal(parseServerMessage(JSON.stringify({ ...m, entries: [{ ...entry, timeout: 'soon' }] })).ok, false);

      // A second follower of the same table gets the last table at once and shares the one process.
      const d = collector();
      const stopSecond = service.watch(lab, 'host', d.sink);
      assert.equal(d.seen.length, 1);
      assert.equal(service.processCount(), 1);
      stopSecond();
      assert.equal(service.processCount(), 1, 'the first follower still follows');
    } finally {
      stop();
    }
    // The last follower gone, the event process ends.
    assert.equal(service.processCount(), 0);
    await service.stop();
  });

  test('a node that is gone ends its table, and a missing namespace is said in words', async () => {
    const service = new ConntrackService();
    const c = collector();
    const stop = service.watch(lab, 'host', c.sink);
    await c.until(() => true);
    service.sync(lab, ['web', 'internet']);
    assert.equal(service.processCount(), 0);
    assert.equal(service.changesSeen(lab, 'host'), undefined);
    stop();

    const missing = collector();
    const stopMissing = service.watch(lab, 'nowhere', missing.sink);
    const m = await missing.until(() => true);
    assert.match(m.error ?? '', /conntrack table of nowhere could not be read/);
    stopMissing();
    await service.stop();
  });

  test('stopping a lab ends its tables and leaves no conntrack process', async () => {
    const service = new ConntrackService();
    const c = collector();
    service.watch(lab, 'host', c.sink);
    service.watch(lab, 'web', c.sink);
    await c.until((m) => m.node === 'web');
    await c.until((m) => m.node === 'host');
    assert.equal(service.processCount(), 2);
    await service.stop(lab);
    assert.equal(service.processCount(), 0);
    assert.deepEqual(children('conntrack'), []);
  });
});
