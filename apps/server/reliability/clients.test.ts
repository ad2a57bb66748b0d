// Reliability probe: 200 clients open the lab socket of a real `nslab serve` (a child process) and
// subscribe to one lab at once. Every one gets its snapshot; figures: clients, failures (must be
// 0), and how long until the last snapshot arrived.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { WebSocket } from 'ws';
import { freePort, startServerProcess, stopServerProcess } from '../test-kit/child-server';
import { figure } from './figures';

const TOKEN = randomBytes(24).toString('hex');
const LAB = `rel-cli-${randomBytes(3).toString('hex')}`;
const CLIENTS = 200;

/** One client: connects, subscribes, resolves with the snapshot's node names (or the reason it got none). */
function subscriber(port: number): Promise<{ ok: true; nodes: string[] } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` }, origin: `http://127.0.0.1:${port}` });
    const timer = setTimeout(() => { ws.terminate(); resolve({ ok: false, why: 'no snapshot within 60 s' }); }, 60_000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', lab: LAB })));
    ws.on('message', (data) => {
      const m = JSON.parse((data as Buffer).toString()) as { type: string; lab?: string; topology?: { nodes: Record<string, unknown> } };
      if (m.type !== 'snapshot' || m.lab !== LAB) return;
      clearTimeout(timer);
      ws.close();
      resolve({ ok: true, nodes: Object.keys(m.topology?.nodes ?? {}).sort() });
    });
    ws.on('error', (e) => { clearTimeout(timer); resolve({ ok: false, why: e.message }); });
  });
}

describe('reliability: many clients at once', { concurrency: false }, () => {
  let child: ChildProcess;
  let port: number;

  before(async () => {
    port = await freePort();
    child = await startServerProcess(port, TOKEN);
  });

  after(async () => {
    if (port) await fetch(`http://127.0.0.1:${port}/api/labs/${LAB}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => undefined);
    if (child) await stopServerProcess(child);
  });

  it(`${CLIENTS} clients subscribing to one lab at once all get its snapshot`, { timeout: 180_000 }, async () => {
    const yaml = `name: ${LAB}\nnodes:\n  a: { interfaces: { eth0: { addresses: [10.77.0.1/24] } } }\n  b: { interfaces: { eth0: { addresses: [10.77.0.2/24] } } }\nlinks:\n  - [a:eth0, b:eth0]\n`;
    const applied = await fetch(`http://127.0.0.1:${port}/api/labs/${LAB}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/yaml' }, body: yaml });
    assert.equal(applied.status, 200, await applied.text());
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: CLIENTS }, () => subscriber(port)));
    const elapsed = Math.round(performance.now() - started);
    const failures = results.filter((r) => !r.ok);
    figure('clients subscribing at once', CLIENTS, 'count');
    figure('clients without a snapshot', failures.length, 'count');
    figure('time to the last snapshot', elapsed, 'ms');
    assert.deepEqual(failures, []);
    for (const r of results) if (r.ok) assert.deepEqual(r.nodes, ['a', 'b']);
  });
});
