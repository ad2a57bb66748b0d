/** Two overlapping captures of one namespace: every packet counted once, whichever reports it first. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Handover } from './handover';

/** Packets 0..n-1 as the kernel stamps them: key and time (seconds). */
const packets = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ key: `p${from + i}`, time: from + i }));

test('packets both captures report are counted once, whichever reports first; those only one sees are counted too', () => {
  const h = new Handover();
  const counted: string[] = [];
  const report = (side: 'old' | 'new', p: { key: string; time: number }) => { if (h.admit(side, p.key, p.time)) counted.push(p.key); };
  // The old capture saw 0..99; the new one started listening at 50 and sees 50..199.
  // A buffered old capture reports late: the new one reports 50..79 first, then the old one catches up.
  for (const p of packets(0, 50)) report('old', p);
  for (const p of packets(50, 80)) report('new', p);
  for (const p of packets(50, 100)) report('old', p);
  for (const p of packets(80, 120)) report('new', p);
  h.endOld();
  for (const p of packets(120, 200)) report('new', p);
  assert.deepEqual(counted.slice().sort(), packets(0, 200).map((p) => p.key).sort());
  assert.equal(counted.length, 200, 'no packet counted twice');
  assert.ok(h.settled, 'past the old capture\'s last packet, nothing is checked any more');
});

test('a new capture that reports the overlap after the old one ended still drops what the old one counted', () => {
  const h = new Handover();
  let counted = 0;
  for (const p of packets(0, 100)) if (h.admit('old', p.key, p.time)) counted += 1;
  h.endOld();
  // A buffered new capture hands its first block over late: 60..99 were the old one's already.
  for (const p of packets(60, 150)) if (h.admit('new', p.key, p.time)) counted += 1;
  assert.equal(counted, 150);
});

test('the same key twice (two sightings stamped alike) is matched by count, not once', () => {
  const h = new Handover();
  assert.ok(h.admit('old', 'k', 1));
  assert.ok(h.admit('old', 'k', 1));
  assert.equal(h.admit('new', 'k', 1), false);
  assert.equal(h.admit('new', 'k', 1), false);
  assert.ok(h.admit('new', 'k', 1), 'a third sighting only the new capture saw is counted');
});
