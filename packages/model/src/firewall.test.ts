import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFirewallLine, parseFirewallLine } from './firewall';
import { parseTopology, toYaml } from './file';
import { parseIptablesSave } from './nat';

test('a firewall line reads as the rule iptables-save prints, and writes back the same', () => {
  const r = parseFirewallLine('-t filter -A INPUT -p tcp --dport 22 -s 10.0.0.1 -j DROP');
  assert.ok(r.ok, JSON.stringify(r));
  const saved = parseIptablesSave('*filter\n-A INPUT -p tcp -m tcp --dport 22 -s 10.0.0.1/32 -j DROP\nCOMMIT\n')[0];
  assert.deepEqual(r.rule.args.slice().sort(), saved?.type === 'other' ? saved.args.slice().sort() : []);
  assert.equal(formatFirewallLine({ type: 'other', table: 'filter', chain: 'INPUT', args: ['-m', 'comment', '--comment', 'two words', '-j', 'ACCEPT'] }),
    '-t filter -A INPUT -m comment --comment "two words" -j ACCEPT');
  const back = parseFirewallLine('-t filter -A INPUT -m comment --comment "two words" -j ACCEPT');
  assert.ok(back.ok);
  assert.deepEqual(back.rule.args, ['-m', 'comment', '--comment', 'two words', '-j', 'ACCEPT']);
  // The table defaults to filter, as iptables's does.
  const plain = parseFirewallLine('-A INPUT -p icmp -j DROP');
  assert.ok(plain.ok && plain.rule.table === 'filter');
});

test('a firewall line that is not an append, or names no table iptables has, is refused with a sentence', () => {
  for (const [line, words] of [
    ['-t filter -I INPUT -j DROP', /as iptables would append it/],
    ['-t filtre -A INPUT -j DROP', /not an iptables table/],
    ['-F', /as iptables would append it/],
    ['-A INPUT', /no match or target/],
    ['-A INPUT -j DROP\n-A OUTPUT -j DROP', /one line/],
  ] as const) {
    const r = parseFirewallLine(line);
    assert.ok(!r.ok && words.test(r.message), `${line}: ${JSON.stringify(r)}`);
  }
  const file = parseTopology('name: f\nnodes:\n  ns1:\n    firewall: ["-t filter -I INPUT -j DROP"]\n');
  assert.ok(!file.ok && file.problems.some((p) => p.path === 'nodes.ns1.firewall[0]'));
});

test('seed 001\'s filter rule and a macvlan round-trip through the file', () => {
  const yaml = 'name: f\nnodes:\n  ns2:\n    interfaces:\n      mv0: { kind: other, type: macvlan }\n    firewall: ["-t filter -A INPUT -p icmp -j DROP"]\n';
  const first = parseTopology(yaml);
  assert.ok(first.ok, JSON.stringify(first));
  assert.ok(first.topology.nodes['ns2']?.firewall);
  assert.ok(first.warnings?.some((w) => /ns2:mv0 is a macvlan with no parent in ns2 .*cannot make it again/.test(w.message)));
  const again = parseTopology(toYaml(first.topology));
  assert.ok(again.ok);
  assert.deepEqual(again.topology, first.topology);
});

test('a duplicate address on one link (a bridge and its ports\' peers) is a warning, not a problem; on another link it is fine', () => {
  const r = parseTopology(`
name: d
nodes:
  host:
    interfaces:
      br0: { kind: bridge }
      v1: { master: br0 }
      v2: { master: br0 }
  a:
    interfaces:
      eth0: { addresses: [10.0.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.0.0.1/24] }
  c:
    interfaces:
      eth0: { addresses: [10.0.0.1/24] }
links:
  - [a:eth0, host:v1]
  - [b:eth0, host:v2]
  - [c:eth0, host:v3]
`);
  assert.ok(r.ok, JSON.stringify(r));
  const dup = (r.warnings ?? []).filter((w) => /share one link/.test(w.message));
  assert.deepEqual(dup.map((w) => w.path), ['nodes.b.interfaces.eth0.addresses[0]']);
});
