/**
 * Per-learner values through the lab socket, as the page's lesson column starts a
 * lesson with "My own values" ticked: two labs started with `vary` get different
 * subnets (in the kernel, in the step text and in the checks the server judges), each
 * lab's values are its own (the same lab name gives the same values again), and the
 * reference solution still passes every check with them. Labs les-vary-*, destroyed
 * afterwards. Needs root.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { ServerMessage } from '@nslab/model';
import { chooseParams, parseLesson } from '@nslab/model';
import { startServer } from '../main';
import type { Running } from '../main';
import { cleanup, inNode, uniqueLab } from '../../test-kit/lab';
import { LESSONS_DIR } from './cli';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const TOKEN = 'lessonvarytesttoken01234';
const made: string[] = [];
let server: Running | undefined;
after(async () => {
  await server?.stop();
  await cleanup(...made);
});

const parsed = parseLesson(readFileSync(join(LESSONS_DIR, 'router.yaml'), 'utf8'));
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const router = parsed.lesson;

/** The values `vary` picks for a lab (the lab's name is the seed). */
function valuesOf(lab: string): Map<string, string> {
  const chosen = chooseParams(router, { seed: lab });
  if (!chosen.ok) throw new Error(JSON.stringify(chosen.problems));
  return chosen.values;
}

test('two labs started with vary get different subnets, shown in their steps and checks, and the solution passes in both', async () => {
  // Two learners' lab names whose values differ in the left subnet (names are random; a name is drawn again until they do).
  const first = uniqueLab('les-vary');
  let second = uniqueLab('les-vary');
  for (let i = 0; i < 100 && valuesOf(second).get('left') === valuesOf(first).get('left'); i += 1) second = uniqueLab('les-vary');
  assert.notEqual(valuesOf(second).get('left'), valuesOf(first).get('left'));
  made.push(first, second);

  server = await startServer({ port: 0, host: '127.0.0.1', token: TOKEN, examplesDir: join(repo, 'examples'), webDir: '/nonexistent', maxTerminals: 4 }, () => {});
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` }, origin: `http://127.0.0.1:${server.port}` });
  const inbox: ServerMessage[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d) => { inbox.push(JSON.parse((d as Buffer).toString()) as ServerMessage); for (const w of waiters) w(); });
  await new Promise((ok) => ws.once('open', ok));
  const next = <T extends ServerMessage>(pred: (m: ServerMessage) => m is T): Promise<T> => new Promise((ok, fail) => {
    const timer = setTimeout(() => { waiters.delete(check); fail(new Error('no such message within 60 s')); }, 60_000);
    const check = () => {
      const m = inbox.find(pred);
      if (m) { clearTimeout(timer); waiters.delete(check); ok(m); }
    };
    waiters.add(check);
    check();
  });
  const send = (m: unknown) => ws.send(JSON.stringify(m));
  const answered = (id: string) => (m: ServerMessage): m is Extract<ServerMessage, { type: 'result' | 'error' }> => (m.type === 'result' || m.type === 'error') && m.id === id;

  const seen = new Map<string, Map<string, string>>();
  for (const lab of [first, second]) {
    send({ type: 'lesson-start', id: `start-${lab}`, lesson: 'router', lab, vary: true });
    const started = await next(answered(`start-${lab}`));
    assert.equal(started.type, 'result', JSON.stringify(started));
    send({ type: 'lesson-watch', lab });
    const lesson = await next((m): m is Extract<ServerMessage, { type: 'lesson' }> => m.type === 'lesson' && m.lab === lab && m.lesson !== null);
    const values = new Map(Object.entries(lesson.params));
    // The values are the lab's own: what vary picks from its name, not the defaults.
    assert.deepEqual(values, valuesOf(lab));
    seen.set(lab, values);
    const left = values.get('left') as string;
    const right = values.get('right') as string;
    // The kernel has them,
    assert.match(inNode(lab, 'ns1', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']).out, new RegExp(`inet ${left.replace(/\./g, '\\.')}\\.2/24`));
    // and so do the step text and the checks the page shows.
    assert.ok(lesson.lesson?.steps[0]?.text.en.includes(`${left}.0/24`), lesson.lesson?.steps[0]?.text.en);
    const reach = lesson.lesson?.steps.flatMap((s) => s.checks).find((c) => c.id === 'ns1-reaches-ns2');
    assert.equal(reach?.kind === 'reach' ? reach.to : undefined, `${right}.2`);
    assert.match(reach?.text.en ?? '', new RegExp(`pings ${right.replace(/\./g, '\\.')}\\.2 through`));
  }
  assert.notEqual(seen.get(first)?.get('left'), seen.get(second)?.get('left'));

  // The reference solution, step by step through the socket, passes every check with each lab's values.
  for (const lab of [first, second]) {
    for (const step of [0, 1]) {
      send({ type: 'lesson-solve', id: `solve-${lab}-${step}`, lab, step });
      const solved = await next(answered(`solve-${lab}-${step}`));
      assert.equal(solved.type, 'result', JSON.stringify(solved));
    }
    const passed = await next((m): m is Extract<ServerMessage, { type: 'lesson-status' }> => m.type === 'lesson-status' && m.lab === lab && m.status.passed);
    assert.equal(passed.status.lesson, 'router');
  }
  ws.close();
});
