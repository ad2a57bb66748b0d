// Reliability probe: a client that acknowledges 1e12 bytes of terminal output it never reads,
// on 16 terminals running `yes`, against a real `nslab serve` (a child process). The server must
// hold what it keeps for the client bounded whatever the client says: figure, the server's RSS
// growth over the attack (must stay within 100 MB).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { WebSocket } from 'ws';
import { TERMINAL_PROTOCOL_VERSION } from '@nslab/model';
import { freePort, startServerProcess, stopServerProcess } from '../test-kit/child-server';
import { figure } from './figures';

const TOKEN = randomBytes(24).toString('hex');
const LAB = `rel-ack-${randomBytes(3).toString('hex')}`;
/** Terminals a lab may have (the manager's per-lab limit). */
const TERMINALS = 16;
/** How long the attack lasts: long enough for a server without bounds to grow by far more than 100 MB. */
const ATTACK_MS = 20_000;
/** The growth the issue allows. */
const MAX_GROWTH_MB = 100;

/** The resident set of a process, in MB. */
function rssMb(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return kb / 1024;
}

async function api(port: number, method: string, path: string, body?: string, type = 'application/json'): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type }, ...(body !== undefined ? { body } : {}) });
}

describe('reliability: the acknowledgement attack', { concurrency: false }, () => {
  let child: ChildProcess;
  let port: number;
  const sockets: WebSocket[] = [];

  before(async () => {
    port = await freePort();
    child = await startServerProcess(port, TOKEN);
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    if (port) await api(port, 'DELETE', `/api/labs/${LAB}`).catch(() => undefined);
    if (child) await stopServerProcess(child);
  });

  it(`${TERMINALS} terminals running yes, acknowledged 1e12 bytes and never read: the server's RSS stays bounded`, { timeout: 180_000 }, async () => {
    const applied = await api(port, 'PUT', `/api/labs/${LAB}`, `name: ${LAB}\nnodes:\n  n1: {}\n`, 'application/yaml');
    assert.equal(applied.status, 200, await applied.text());
    const ids: string[] = [];
    for (let i = 0; i < TERMINALS; i += 1) {
      const res = await api(port, 'POST', `/api/labs/${LAB}/terminals`, JSON.stringify({ node: 'n1' }));
      const text = await res.text();
      assert.ok(res.ok, text);
      ids.push((JSON.parse(text) as { id: string }).id);
    }
    // Each terminal: the prompt, then `yes`, then the client stops reading and lies.
    await Promise.all(ids.map(async (id) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/term/${id}`, { headers: { authorization: `Bearer ${TOKEN}` }, origin: `http://127.0.0.1:${port}` });
      sockets.push(ws);
      let text = '';
      ws.on('message', (data, binary) => { if (binary && text.length < 100_000) text += (data as Buffer).toString(); });
      await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
      ws.send(JSON.stringify({ type: 'hello', v: TERMINAL_PROTOCOL_VERSION }));
      await waitUntil(() => text.includes('# '), `the prompt of terminal ${id}`);
      ws.send(Buffer.from('yes\r'), { binary: true });
      await waitUntil(() => text.includes('y\r\ny\r\n'), `yes to run in terminal ${id}`);
      ws.pause();
    }));
    const before = rssMb(child.pid as number);
    let peak = before;
    const liar = setInterval(() => {
      for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ack', bytes: 1e12 }));
      peak = Math.max(peak, rssMb(child.pid as number));
    }, 20);
    await new Promise((ok) => setTimeout(ok, ATTACK_MS));
    clearInterval(liar);
    peak = Math.max(peak, rssMb(child.pid as number));
    const growth = Math.round((peak - before) * 10) / 10;
    figure('ack attack: terminals', TERMINALS, 'count');
    figure('ack attack: duration', ATTACK_MS / 1000, 's');
    figure('ack attack: server RSS growth', growth, 'MB');
    assert.ok(growth <= MAX_GROWTH_MB, `the server grew by ${growth} MB`);
    // And it still answers.
    assert.equal((await api(port, 'GET', '/api/version')).status, 200);
  });
});

/** Resolves once `test` holds, checked every 20 ms; gives up after 30 s. */
async function waitUntil(test: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > 30_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
