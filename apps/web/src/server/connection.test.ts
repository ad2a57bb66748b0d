import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseServerMessage, retryDelay, RETRY_FIRST_MS, RETRY_MAX_MS } from './connection';
import { labFromHash } from './session';

test('server messages are checked for shape before anyone reads them', () => {
  assert.deepEqual(parseServerMessage('{"type":"pong","id":"x"}'), { type: 'pong', id: 'x' });
  assert.equal(parseServerMessage('not json'), undefined);
  assert.equal(parseServerMessage('[1,2]'), undefined);
  assert.equal(parseServerMessage('{"type":"surprise"}'), undefined);
  assert.equal(parseServerMessage('{"no":"type"}'), undefined);
});

test('reconnect delays double from the first, are capped, and are jittered by at most 20%', () => {
  assert.equal(retryDelay(0, () => 0.5), RETRY_FIRST_MS);
  assert.equal(retryDelay(1, () => 0.5), RETRY_FIRST_MS * 2);
  assert.equal(retryDelay(20, () => 0.5), RETRY_MAX_MS);
  assert.equal(retryDelay(0, () => 0), RETRY_FIRST_MS * 0.8);
  assert.equal(retryDelay(0, () => 1), RETRY_FIRST_MS * 1.2);
});

test('the lab in the address is read only when it is a valid lab name', () => {
  assert.equal(labFromHash('#lab=bridge'), 'bridge');
  assert.equal(labFromHash('#x=1&lab=e2e-canvas-1'), 'e2e-canvas-1');
  assert.equal(labFromHash('#lab=Bad%20Name'), undefined);
  assert.equal(labFromHash(''), undefined);
});
