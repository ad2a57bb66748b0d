import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp6tablesSave, parseNftTables } from './nftables';
import { warnings } from './warnings';
import { toFile } from './file';
import type { Topology } from './topology';

test('nft tables: iptables-nft\'s own and nslab\'s trace tables are left out, the rest named FAMILY NAME', () => {
  const json = JSON.stringify({ nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'ip', name: 'filter', handle: 1 } },
    { table: { family: 'ip6', name: 'nat', handle: 2 } },
    { table: { family: 'inet', name: 't1', handle: 3 } },
    { table: { family: 'ip', name: 'nslab_trace_0a1b2c3d', handle: 4 } },
    { table: { family: 'ip', name: 'mine', handle: 5 } },
  ] });
  assert.deepEqual(parseNftTables(json), ['inet t1', 'ip mine']);
  assert.deepEqual(parseNftTables('not json'), []);
});

test('ip6tables-save rules read as firewall lines; kept state is warned about and never exported', () => {
  const rules = parseIp6tablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p ipv6-icmp -m comment --comment "two words" -j ACCEPT\nCOMMIT\n');
  assert.deepEqual(rules, ['-t filter -A INPUT -p ipv6-icmp -m comment --comment "two words" -j ACCEPT']);
  const lab: Topology = { name: 'k', links: [], nodes: { ns1: { forwarding: false, interfaces: {}, routes: [], nat: [], nftables: ['inet t1'], ip6tables: rules } } };
  assert.deepEqual(warnings(lab).map((p) => `${p.path}: ${p.message}`), [
    'nodes.ns1.nftables: ns1 has nftables table inet t1 that nslab does not model: it is kept as it is',
    'nodes.ns1.ip6tables: ns1 has 1 ip6tables rule that nslab does not model: it is kept as it is',
  ]);
  assert.deepEqual(toFile(lab).nodes?.['ns1'], {});
});
