import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { PacketLayer } from '@nslab/model';
import { samePacketKey, sightingsOf } from './match';
import { toRow } from './row';
import { arpRequest, echo, ip4, packet, tcp, udp } from './testkit';

test('an echo is its (id, seq, type): NAT may rewrite its addresses', () => {
  const a = packet('ns1', 'eth0', 'out', 1, [ip4('192.168.1.1', '203.0.113.1', 5), echo('request', 42, 1)]);
  const b = packet('host', 'uplink', 'out', 1, [ip4('203.0.113.2', '203.0.113.1', 5), echo('request', 42, 1)]);
  const reply = packet('host', 'uplink', 'in', 1, [ip4('203.0.113.1', '203.0.113.2', 77), echo('reply', 42, 1)]);
  assert.equal(samePacketKey(a), samePacketKey(b));
  assert.notEqual(samePacketKey(a), samePacketKey(reply));
  assert.equal(samePacketKey(a), 'echo/4/42/1/request');
});

test('other IP packets are their IP id, protocol and addresses', () => {
  const a = packet('ns1', 'eth0', 'out', 1, [ip4('10.0.0.1', '10.0.0.2', 300, 6), tcp(1234, 80)]);
  const b = packet('host', 'veth-ns1', 'in', 1, [ip4('10.0.0.1', '10.0.0.2', 300, 6), tcp(1234, 80)]);
  const other = packet('ns1', 'eth0', 'out', 1, [ip4('10.0.0.1', '10.0.0.2', 301, 6), tcp(1234, 80)]);
  assert.equal(samePacketKey(a), samePacketKey(b));
  assert.notEqual(samePacketKey(a), samePacketKey(other));
});

test('under VXLAN the inner packet is the key, so the underlay copy matches the original', () => {
  const inner = [ip4('10.0.9.2', '10.0.9.3', 11), echo('request', 7, 3)];
  const plain = packet('c1', 'eth0', 'out', 1, inner);
  const outer: PacketLayer[] = [ip4('192.168.0.1', '192.168.0.2', 999, 17), udp(40000, 4789), { kind: 'vxlan', vni: 4096, flags: 8 },
    { kind: 'ethernet', src: '02:00:00:00:00:02', dst: '02:00:00:00:00:03', ethertype: 0x0800, vlan: null }, ...inner];
  const wrapped = packet('host1', 'eth0', 'out', 1, outer);
  assert.equal(samePacketKey(plain), samePacketKey(wrapped));
});

test('ARP is its operation and addresses; a frame with no IP or ARP has no key', () => {
  const a = packet('ns1', 'eth0', 'out', 1, [arpRequest('192.168.1.1', '192.168.1.3')]);
  const b = packet('host', 'veth-ns3', 'out', 1, [arpRequest('192.168.1.1', '192.168.1.3')]);
  assert.equal(samePacketKey(a), samePacketKey(b));
  assert.equal(samePacketKey({ layers: [{ kind: 'unknown', protocol: 'ethertype 0x88cc', length: 40 }] }), null);
});

test('sightings: the same key within the time window, in time order', () => {
  const rows = [
    toRow(packet('ns3', 'eth0', 'in', 10.0003, [ip4('192.168.1.1', '192.168.1.3', 1), echo('request', 9, 1)]), 1),
    toRow(packet('ns1', 'eth0', 'out', 10.0001, [ip4('192.168.1.1', '192.168.1.3', 1), echo('request', 9, 1)]), 2),
    toRow(packet('host', 'veth-ns1', 'in', 10.0002, [ip4('192.168.1.1', '192.168.1.3', 1), echo('request', 9, 1)]), 3),
    toRow(packet('ns3', 'eth0', 'out', 10.0004, [ip4('192.168.1.3', '192.168.1.1', 2), echo('reply', 9, 1)]), 4),
    toRow(packet('ns1', 'eth0', 'out', 99, [ip4('192.168.1.1', '192.168.1.3', 1), echo('request', 9, 1)]), 5),
  ];
  const seen = sightingsOf(rows, rows[0]);
  assert.deepEqual(seen.map((r) => `${r.event.node}:${r.event.interface}`), ['ns1:eth0', 'host:veth-ns1', 'ns3:eth0']);
  assert.deepEqual(sightingsOf(rows, undefined), []);
});
