import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { toRow } from './row';
import { echo, ip4, packet } from './testkit';
import { MAX_ROWS, usePackets } from './store';

const row = (seq: number, time: number) => toRow(packet('ns1', 'eth0', 'out', time, [ip4('10.0.0.1', '10.0.0.2', seq), echo('request', 1, seq)]), seq);

test('rows from several captures are kept in capture-time order', () => {
  const s = usePackets.getState();
  s.follow('lab-a');
  s.append([row(1, 10), row(2, 12)]);
  s.append([row(3, 11), row(4, 13)]);
  assert.deepEqual(usePackets.getState().rows.map((r) => r.seq), [1, 3, 2, 4]);
});

test('the list is bounded; the count is not; a frozen list only counts', () => {
  const s = usePackets.getState();
  s.follow('lab-b');
  s.append(Array.from({ length: MAX_ROWS + 10 }, (_, i) => row(i + 1, i)));
  assert.equal(usePackets.getState().rows.length, MAX_ROWS);
  assert.equal(usePackets.getState().rows[0]?.seq, 11, 'the oldest went first');
  s.setFrozen(true);
  s.append([row(999_999, 1e9)]);
  assert.equal(usePackets.getState().rows.length, MAX_ROWS);
  assert.equal(usePackets.getState().total, MAX_ROWS + 11);
  s.follow('lab-c');
  assert.equal(usePackets.getState().rows.length, 0);
  assert.equal(usePackets.getState().frozen, false);
});
