/** The packet ring: bounded by count and by bytes, oldest out first, filtered exports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapStreamParser } from '@nslab/model';
import { PacketRing, type RingEntry } from './ring';

function entry(i: number, size: number, iface = 'eth0'): RingEntry {
  return { sec: 1000 + i, nsec: 0, time: 1000 + i, origLen: size, data: new Uint8Array(size).fill(i & 0xff), interface: iface };
}

test('the ring keeps the newest packets within its count bound', () => {
  const ring = new PacketRing(5, 1_000_000);
  for (let i = 0; i < 12; i += 1) ring.add(entry(i, 10));
  assert.equal(ring.size, 5);
  assert.deepEqual(ring.select().map((e) => e.time), [1007, 1008, 1009, 1010, 1011]);
  assert.equal(ring.byteSize, 50);
});

test('the ring keeps the newest packets within its byte bound', () => {
  const ring = new PacketRing(100, 1000);
  for (let i = 0; i < 10; i += 1) ring.add(entry(i, 300));
  assert.equal(ring.size, 3);
  assert.equal(ring.byteSize, 900);
  ring.add(entry(10, 1001)); // larger than the whole ring: not kept, nothing evicted for it
  assert.equal(ring.size, 3);
});

test('exports filter by interface and inclusive time window, and parse back', () => {
  const ring = new PacketRing();
  for (let i = 0; i < 10; i += 1) ring.add(entry(i, 20 + i, i % 2 === 0 ? 'eth0' : 'eth1'));
  const records = new PcapStreamParser().push(ring.exportPcap(276, 262144, { iface: 'eth1', since: 1003, until: 1007 }));
  assert.deepEqual(records.map((r) => r.sec), [1003, 1005, 1007]);
  assert.deepEqual(records.map((r) => r.caplen), [23, 25, 27]);
  assert.equal(records[0]?.linktype, 276);
});
