import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseFilter } from './filter';
import { toRow } from './row';
import { arpRequest, echo, ip4, packet, tcp, udp } from './testkit';

const ping = toRow(packet('ns1', 'eth0', 'out', 1, [ip4('192.168.1.1', '192.168.1.3', 7), echo('request', 42, 1)]), 1);
const arp = toRow(packet('host', 'veth-ns2', 'out', 1, [arpRequest('192.168.1.1', '192.168.1.3')]), 2);
const web = toRow(packet('web', 'eth0', 'in', 1, [ip4('203.0.113.1', '172.17.0.2', 9, 6), tcp(40000, 80)]), 3);
const dns = toRow(packet('ns2', 'eth1', 'out', 1, [ip4('10.0.0.2', '10.0.0.53', 0, 17), udp(5353, 53)]), 4);
const all = [ping, arp, web, dns];
const pick = (text: string) => all.filter((r) => parseFilter(text).match(r)).map((r) => r.seq);

test('an empty filter lets everything through', () => {
  assert.equal(parseFilter('  ').empty, true);
  assert.deepEqual(pick(''), [1, 2, 3, 4]);
});

test('protocol words, with tcpdump aliases and alternatives', () => {
  assert.deepEqual(pick('icmp'), [1]);
  assert.deepEqual(pick('ARP'), [2]);
  assert.deepEqual(pick('arp|icmp'), [1, 2]);
  assert.deepEqual(pick('ip'), [1, 3, 4]);
  assert.deepEqual(pick('proto:udp'), [4]);
});

test('node, interface and direction', () => {
  assert.deepEqual(pick('node:ns1'), [1]);
  assert.deepEqual(pick('iface:eth0'), [1, 3]);
  assert.deepEqual(pick('eth0 in'), [3]);
  assert.deepEqual(pick('host'), [2], 'a bare word matches a node name');
  assert.deepEqual(pick('out'), [1, 2, 4]);
});

test('addresses: either side, a side, a prefix, ARP addresses too', () => {
  assert.deepEqual(pick('192.168.1.3'), [1, 2]);
  assert.deepEqual(pick('src:192.168.1.1'), [1, 2]);
  assert.deepEqual(pick('dst:172.17.0.2'), [3]);
  assert.deepEqual(pick('10.0.0.0/24'), [4]);
  assert.deepEqual(pick('host:203.0.113.1'), [3]);
  assert.deepEqual(pick('02:00:00:00:00:01'), [2], 'a MAC matches the ARP sender');
});

test('ports and negation', () => {
  assert.deepEqual(pick('port:80'), [3]);
  assert.deepEqual(pick('!arp'), [1, 3, 4]);
  assert.deepEqual(pick('not icmp not arp'), [3, 4]);
  assert.deepEqual(pick('ip !tcp'), [1, 4]);
});

test('a bare word falls back to the info column', () => {
  assert.deepEqual(pick('echo'), [1]);
  assert.deepEqual(pick('who-has'), [2]);
});

test('problems are sentences, and the words they are about are ignored', () => {
  const f = parseFilter('icmp port:99999 src:10.0.0.300 frob:1');
  assert.equal(f.problems.length, 3);
  assert.match(f.problems[0]!, /port is a number/);
  assert.match(f.problems[1]!, /not an IP address/);
  assert.match(f.problems[2]!, /unknown filter "frob:"/);
  assert.deepEqual(all.filter((r) => f.match(r)).map((r) => r.seq), [1]);
});
