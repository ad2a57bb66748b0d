/** Linking the copies of one packet before and after NAT in the packet list. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { PacketLayer } from '@nslab/model';
import { natFreeKey, natLinks } from './match';
import { toRow } from './row';
import { ip4, packet, tcp, udp } from './testkit';

const synAck = (srcPort: number, dstPort: number): PacketLayer => ({ ...tcp(srcPort, dstPort), seq: 5000, ack: 1001, flags: ['SYN', 'ACK'] } as PacketLayer);

/** A SYN to the host's published port 8080, rewritten by DNAT at "host" to 192.168.1.1:80, and its SYN-ACK rewritten back. */
function published() {
  return [
    packet('internet', 'eth0', 'out', 1.0000, [ip4('203.0.113.1', '203.0.113.2', 300, 6), tcp(40000, 8080)]),
    packet('host', 'uplink', 'in', 1.0001, [ip4('203.0.113.1', '203.0.113.2', 300, 6), tcp(40000, 8080)]),
    packet('host', 'veth-web', 'out', 1.0002, [ip4('203.0.113.1', '192.168.1.1', 300, 6), tcp(40000, 80)]),
    packet('web', 'eth0', 'in', 1.0003, [ip4('203.0.113.1', '192.168.1.1', 300, 6), tcp(40000, 80)]),
    packet('web', 'eth0', 'out', 1.0004, [ip4('192.168.1.1', '203.0.113.1', 0, 6), synAck(80, 40000)]),
    packet('host', 'uplink', 'out', 1.0005, [ip4('203.0.113.2', '203.0.113.1', 0, 6), synAck(8080, 40000)]),
  ].map((e, i) => toRow(e, i + 1));
}

test('NAT leaves the key alone: the SYN before and after DNAT has one NAT-free key', () => {
  const rows = published();
  assert.equal(natFreeKey(rows[0]!.event), natFreeKey(rows[2]!.event));
  assert.notEqual(natFreeKey(rows[0]!.event), natFreeKey(rows[4]!.event));
  // The same-place key still tells them apart: they are different addresses.
  assert.notEqual(rows[0]!.key, rows[2]!.key);
});

test('the SYN before DNAT links to its copy after, naming the rewrite and the node where it happened', () => {
  const links = natLinks(published());
  assert.equal(links.get(1)?.text, '↔ same packet after DNAT at host');
  assert.equal(links.get(2)?.text, '↔ same packet after DNAT at host');
  assert.equal(links.get(3)?.text, '↔ same packet before DNAT at host');
  assert.deepEqual(links.get(1)?.partners, [3, 4]);
  assert.deepEqual(links.get(4)?.partners, [1, 2]);
});

test('the SYN-ACK is rewritten back at the host: its source changes, as the kernel undoes DNAT', () => {
  const links = natLinks(published());
  assert.equal(links.get(5)?.text, '↔ same packet after SNAT at host');
  assert.equal(links.get(6)?.text, '↔ same packet before SNAT at host');
  assert.deepEqual(links.get(6)?.partners, [5]);
});

test('MASQUERADE of a UDP datagram on its way out', () => {
  const rows = [
    packet('web', 'eth0', 'out', 2, [ip4('192.168.1.1', '203.0.113.1', 77, 17), udp(5353, 53)]),
    packet('host', 'uplink', 'out', 2.0001, [ip4('203.0.113.2', '203.0.113.1', 77, 17), udp(5353, 53)]),
  ].map((e, i) => toRow(e, i + 1));
  const links = natLinks(rows);
  assert.equal(links.get(1)?.text, '↔ same packet after SNAT at host');
  assert.equal(links.get(2)?.text, '↔ same packet before SNAT at host');
});

test('a packet never rewritten has no link, and a reused IP id a while later is another packet', () => {
  const rows = [
    packet('ns1', 'eth0', 'out', 1, [ip4('10.0.0.1', '10.0.0.2', 9, 17), udp(1000, 53)]),
    packet('ns2', 'eth0', 'in', 1.0001, [ip4('10.0.0.1', '10.0.0.2', 9, 17), udp(1000, 53)]),
    packet('ns3', 'eth0', 'out', 9, [ip4('10.0.0.3', '10.0.0.2', 9, 17), udp(1000, 53)]),
  ].map((e, i) => toRow(e, i + 1));
  assert.equal(natLinks(rows).size, 0);
});
