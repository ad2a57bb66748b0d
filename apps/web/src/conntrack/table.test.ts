import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConntrackEntry } from '@nslab/model';
import { conntrackRows, natOf } from './table';

const published: ConntrackEntry = {
  node: 'host', proto: 'tcp', state: 'ESTABLISHED', flags: ['ASSURED'], timeout: 431999,
  original: { src: '203.0.113.1', dst: '203.0.113.2', sport: 40000, dport: 8080 },
  reply: { src: '192.168.1.1', dst: '203.0.113.1', sport: 80, dport: 40000 },
};
const masqueraded: ConntrackEntry = {
  node: 'host', proto: 'udp', state: '', flags: ['UNREPLIED'], timeout: 29,
  original: { src: '192.168.1.1', dst: '203.0.113.1', sport: 5353, dport: 53 },
  reply: { src: '203.0.113.1', dst: '203.0.113.2', sport: 53, dport: 5353 },
};
const plain: ConntrackEntry = {
  node: 'host', proto: 'icmp', state: '', flags: [], timeout: 30,
  original: { src: '192.168.1.1', dst: '192.168.1.254' },
  reply: { src: '192.168.1.254', dst: '192.168.1.1' },
};

test('a published port is a destination rewrite, from the address asked to the server behind it', () => {
  assert.deepEqual(natOf(published), { dnat: { from: '203.0.113.2:8080', to: '192.168.1.1:80' } });
});

test('MASQUERADE is a source rewrite to the outgoing address', () => {
  assert.deepEqual(natOf(masqueraded), { snat: { from: '192.168.1.1:5353', to: '203.0.113.2:5353' } });
});

test('a port changed by SNAT counts as a rewrite even when the address stays', () => {
  const e = { ...masqueraded, reply: { ...masqueraded.reply, dst: '192.168.1.1', dport: 1024 } };
  assert.deepEqual(natOf(e), { snat: { from: '192.168.1.1:5353', to: '192.168.1.1:1024' } });
});

test('an entry without NAT has no rewrite, and ICMP shows bare addresses', () => {
  assert.deepEqual(natOf(plain), {});
  const [row] = conntrackRows([plain], 0, 0);
  assert.equal(row?.original, '192.168.1.1 → 192.168.1.254');
  assert.equal(row?.natText, '');
});

test('rows put NAT first, say the rewrite in words and count the timeout down from the read', () => {
  const rows = conntrackRows([plain, masqueraded, published], 10_000, 15_500);
  assert.deepEqual(rows.map((r) => r.proto), ['tcp', 'udp', 'icmp']);
  assert.equal(rows[0]?.natText, 'DNAT 203.0.113.2:8080 → 192.168.1.1:80');
  assert.equal(rows[1]?.natText, 'SNAT 192.168.1.1:5353 → 203.0.113.2:5353');
  assert.equal(rows[0]?.left, 431994);
  assert.equal(rows[1]?.left, 24);
  // Never below zero, however late the page looks.
  assert.equal(conntrackRows([masqueraded], 0, 3_600_000)[0]?.left, 0);
});

test('IPv6 endpoints are bracketed', () => {
  const e: ConntrackEntry = { ...published, original: { src: 'fd00::1', dst: 'fd00::2', sport: 1, dport: 2 }, reply: { src: 'fd00::2', dst: 'fd00::1', sport: 2, dport: 1 } };
  assert.equal(conntrackRows([e], 0, 0)[0]?.original, '[fd00::1]:1 → [fd00::2]:2');
});
