import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseServerMessage } from '@nslab/model';
import { retryDelay, RETRY_FIRST_MS, RETRY_MAX_MS } from './connection';
import { labFromHash } from './session';

/** The message the page would read from `text`, or undefined when it refuses it. */
const read = (text: string) => {
  const parsed = parseServerMessage(text);
  return parsed.ok ? parsed.message : undefined;
};

test('server messages are checked for shape before anyone reads them', () => {
  assert.deepEqual(read('{"type":"pong","id":"x"}'), { type: 'pong', id: 'x' });
  assert.equal(read('not json'), undefined);
  assert.equal(read('[1,2]'), undefined);
  assert.equal(read('{"type":"surprise"}'), undefined);
  assert.equal(read('{"no":"type"}'), undefined);
});

test('every field of a server message is validated, not only its type tag', () => {
  const hello = { type: 'hello', protocol: 1, server: '0.1.0', labs: [{ name: 'demo', nodes: 2 }] };
  assert.deepEqual(read(JSON.stringify(hello)), hello);
  const refused: [unknown, RegExp][] = [
    [{ ...hello, labs: [{ name: 'demo' }] }, /invalid hello at labs\.0\.nodes/],
    [{ type: 'snapshot', lab: 'demo', topology: { name: 'demo', nodes: [] , links: [] }, meta: {} }, /at topology/],
    [{ type: 'patch', lab: 'demo', changes: [{ path: 'nodes.ns1' }] }, /at changes\.0/],
    [{ type: 'progress', lab: 'demo', index: 0, argv: ['ip'], status: 'maybe', code: 0, stdout: '', stderr: '' }, /at status/],
    [{ type: 'error', code: 'oops', message: 'no' }, /at code/],
    [{ type: 'plan', lab: 'demo', ops: [{ op: { kind: 'netns.add' }, argv: 'ip netns add x', description: '' }], dryRun: true }, /at ops\.0\.argv/],
    [{ type: 'aggregate', lab: 'demo', since: 0, until: 1, counts: [{ node: 'a', interface: 'eth0', protocol: 'smtp', packets: 1, bytes: 1 }], dropped: 0, passed: 0, ratePerSecond: 0 }, /at counts\.0\.protocol/],
  ];
  for (const [message, why] of refused) {
    const parsed = parseServerMessage(JSON.stringify(message));
    assert.equal(parsed.ok, false, JSON.stringify(message));
    assert.match(parsed.ok ? '' : parsed.error, why);
  }
  const tooBig = JSON.stringify({ type: 'pong', id: 'x'.repeat(100) });
  assert.equal(parseServerMessage(tooBig, 50).ok, false);
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
