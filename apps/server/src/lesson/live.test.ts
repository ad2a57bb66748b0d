/**
 * Lessons through the lab socket on the real kernel: start a lesson, follow it, and
 * watch a change typed outside nslab (ip link set ... down) turn its check red and
 * back to green. Measures kernel change -> status on the socket and records the p95.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { LessonStatus, ServerMessage } from '@nslab/model';
import { netnsName } from '@nslab/model';
import { startServer } from '../main';
import type { Running } from '../main';
import { cleanup, uniqueLab } from '../../test-kit/lab';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const TOKEN = 'lessonlivetesttoken0123';
const lab = uniqueLab('lz');
let server: Running | undefined;
after(async () => {
  await server?.stop();
  await cleanup(lab);
});

test('a check turns red and green on the socket as the kernel changes, and Show me / Reset step work', async () => {
  server = await startServer({ port: 0, host: '127.0.0.1', token: TOKEN, examplesDir: join(repo, 'examples'), webDir: '/nonexistent', maxTerminals: 4 }, () => {});
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` }, origin: `http://127.0.0.1:${server.port}` });
  const inbox: ServerMessage[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d) => { inbox.push(JSON.parse((d as Buffer).toString()) as ServerMessage); for (const w of waiters) w(); });
  await new Promise((ok) => ws.once('open', ok));
  const next = <T extends ServerMessage>(pred: (m: ServerMessage) => m is T, from = 0): Promise<T> => new Promise((ok, fail) => {
    const timer = setTimeout(() => { waiters.delete(check); fail(new Error('no such message within 20 s')); }, 20_000);
    const check = () => {
      const m = inbox.slice(from).find(pred);
      if (m) { clearTimeout(timer); waiters.delete(check); ok(m); }
    };
    waiters.add(check);
    check();
  });
  const isResult = (id: string) => (m: ServerMessage): m is Extract<ServerMessage, { type: 'result' }> => m.type === 'result' && m.id === id;
  const checkOf = (s: LessonStatus, id: string) => s.steps.flatMap((x) => x.checks).find((c) => c.id === id);
  const statusWith = (id: string, passed: boolean) => (m: ServerMessage): m is Extract<ServerMessage, { type: 'lesson-status' }> => m.type === 'lesson-status' && checkOf(m.status, id)?.passed === passed;
  const send = (m: unknown) => ws.send(JSON.stringify(m));

  send({ type: 'lesson-start', id: 's', lesson: 'veth-pair', lab });
  await next(isResult('s'));
  send({ type: 'lesson-watch', lab });
  const lesson = await next((m): m is Extract<ServerMessage, { type: 'lesson' }> => m.type === 'lesson');
  assert.equal(lesson.lesson?.id, 'veth-pair');
  await next(statusWith('veth0-in-ns1', false));

  // Step 1 makes the two namespaces (the lesson starts with the host alone).
  send({ type: 'lesson-solve', id: 'solve0', lab, step: 0 });
  await next(isResult('solve0'));
  await next(statusWith('ns2-exists', true));

  // "Show me" for step 2: its plan, then the change, then the check turns green.
  send({ type: 'lesson-solve', id: 'd', lab, step: 1, dryRun: true });
  const plan = await next((m): m is Extract<ServerMessage, { type: 'plan' }> => m.type === 'plan' && m.id === 'd');
  assert.ok(plan.ops.length > 0 && plan.dryRun);
  for (const step of [1, 2]) {
    send({ type: 'lesson-solve', id: `solve${step}`, lab, step });
    await next(isResult(`solve${step}`));
  }
  await next(statusWith('veth0-up', true));

  // Kernel change typed outside nslab -> status on the socket.
  const times: number[] = [];
  for (let i = 0; i < 10; i += 1) {
    for (const [state, passed] of [['down', false], ['up', true]] as const) {
      const from = inbox.length;
      const t0 = performance.now();
      execFileSync('ip', ['-n', netnsName(lab, 'ns1'), 'link', 'set', 'veth0', state]);
      await next(statusWith('veth0-up', passed), from);
      times.push(performance.now() - t0);
    }
  }
  times.sort((a, b) => a - b);
  const p95 = times[Math.ceil(times.length * 0.95) - 1] ?? 0;
  console.log(`# lesson live: kernel change -> lesson-status, ${times.length} changes: median ${times[times.length >> 1]?.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);

  // Reset step 2 (index 1): the veth pair made by its solution is gone again.
  send({ type: 'lesson-reset', id: 'r', lab, step: 1 });
  await next(isResult('r'));
  const reset = await next(statusWith('veth0-in-ns1', false), inbox.length - 1);
  assert.match(checkOf(reset.status, 'veth0-in-ns1')?.hint ?? '', /ns1 has no device veth0/);
  ws.close();
});
