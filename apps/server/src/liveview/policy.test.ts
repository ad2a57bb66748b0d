import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientMessage } from '@nslab/model';
import { LabError } from '../labs/service';
import { admitViewerMessage, readOnlySentence, viewerMayRequest } from './policy';
import { hoursProblem, ViewLinks } from './links';

test('a viewer may send what shows its lab, and every change is refused with the read-only sentence', () => {
  const shows: ClientMessage[] = [
    { type: 'ping' }, { type: 'subscribe', lab: 'web' }, { type: 'watch-packets', lab: 'web' }, { type: 'lesson-watch', lab: 'web' }, { type: 'lesson-list' },
  ];
  for (const m of shows) assert.doesNotThrow(() => admitViewerMessage('web', m), m.type);
  const changes: ClientMessage[] = [
    { type: 'apply', topology: {} }, { type: 'edit', lab: 'web', edits: [{ kind: 'node.add', node: 'x' }] }, { type: 'destroy', lab: 'web' },
    { type: 'trace', lab: 'web', node: 'a', destination: '10.0.0.1' }, { type: 'lesson-start', lesson: 'x', lab: 'web' },
    { type: 'lesson-solve', lab: 'web', step: 0 }, { type: 'lesson-reset', lab: 'web', step: 0 },
  ];
  for (const m of changes) {
    assert.throws(() => admitViewerMessage('web', m), (e: unknown) => e instanceof LabError && e.code === 'read-only' && e.message === readOnlySentence('web'), m.type);
  }
});

test('over HTTP a viewer reads its lab and nothing else', () => {
  for (const [method, path] of [['GET', '/session'], ['GET', '/labs'], ['GET', '/labs/web'], ['GET', '/labs/web/export'], ['GET', '/labs/web/terminals'], ['POST', '/signed-url']]) {
    assert.ok(viewerMayRequest(method as string, path as string), `${method} ${path}`);
  }
  for (const [method, path] of [['PUT', '/labs/web'], ['DELETE', '/labs/web'], ['POST', '/labs/web/terminals'], ['GET', '/labs/web/views'], ['POST', '/labs/web/views'], ['PUT', '/labs/web/history'], ['GET', '/trainees'], ['GET', '/examples']]) {
    assert.ok(!viewerMayRequest(method as string, path as string), `${method} ${path}`);
  }
});

test('a link\'s lifetime is above 0 and at most 72 hours; an expired link\'s token is no one', () => {
  assert.equal(hoursProblem(undefined), undefined);
  assert.equal(hoursProblem(72), undefined);
  for (const bad of [0, -1, 72.5, Number.NaN, '3']) assert.match(hoursProblem(bad) ?? '', /hours/);
  let now = 1_000_000;
  const links = new ViewLinks(() => now);
  const link = links.make('web', 'web', { kind: 'instructor' }, 1);
  assert.deepEqual(links.principal(link.token), { kind: 'viewer', id: link.id, lab: 'web', name: 'web' });
  assert.equal(links.principal('x'.repeat(64)), undefined);
  now += 3_600_001;
  assert.equal(links.principal(link.token), undefined);
  assert.deepEqual(links.list('web'), []);
  links.revokeAll();
});
