import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp6tablesSave, parseNftTables } from './nftables';
import { warnings } from './warnings';
import { parseTopology, toFile, toYaml } from './file';
import { plan } from './plan';
import { opArgv, opInput } from './op';
import { exportScript } from './script';
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

test('ip6tables-save rules read as firewall lines; native tables and ip6tables rules are exported as nftables: and firewall6:, and read back the same', () => {
  const rules = parseIp6tablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p ipv6-icmp -m comment --comment "two words" -j ACCEPT\nCOMMIT\n');
  assert.deepEqual(rules, ['-t filter -A INPUT -p ipv6-icmp -m comment --comment "two words" -j ACCEPT']);
  const t1 = 'table inet t1 {\n\tchain in {\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport 22 drop\n\t}\n}\n';
  const lab: Topology = { name: 'k', links: [], nodes: { ns1: { forwarding: false, interfaces: {}, routes: [], nat: [], nftables: { 'inet t1': t1 }, ip6tables: rules } } };
  assert.deepEqual(warnings(lab), [], 'nothing is only kept any more');
  const file = toFile(lab).nodes?.['ns1'];
  assert.deepEqual({ ...file, nftables: { ...file?.nftables } }, { firewall6: rules, nftables: { 'inet t1': t1 } });
  const again = parseTopology(toYaml(lab));
  assert.ok(again.ok, JSON.stringify(again));
  assert.deepEqual({ ...again.topology.nodes['ns1']?.nftables }, { 'inet t1': t1 });
  assert.deepEqual(again.topology.nodes['ns1']?.ip6tables, rules);
  assert.deepEqual(plan(again.topology, lab).filter((o) => o.kind !== 'link.up'), [], 'the same tables and rules plan nothing (lo is not up in this hand-made lab)');
});

test('a file\'s nftables: and firewall6: are judged with a path before anything runs', () => {
  const r = parseTopology('name: k\nnodes:\n  a:\n    nftables:\n      "inet": "table inet x {}"\n      "ip filter": "table ip filter {}"\n      "inet t2": "table inet t3 {}"\n    firewall6: ["-t nope -A INPUT -j DROP"]\n');
  assert.equal(r.ok, false);
  const problems = r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  assert.deepEqual(problems, [
    'nodes.a.firewall6[0]: "nope" is not an ip6tables table: use filter, nat, mangle, raw or security',
    'nodes.a.nftables.inet: a: "inet" is not an nftables table: write "FAMILY NAME" with a family of ip, ip6, inet, arp, bridge, netdev, e.g. "inet filter"',
    "nodes.a.nftables.ip filter: a: ip filter is iptables' own table: write its rules under firewall: (or firewall6:) instead",
    'nodes.a.nftables.inet t2: a: the text of inet t2 must define that table and no other, as `nft list table inet t2` prints it: it begins "table inet t2 {"',
  ]);
});

test('plan: a listed table that differs is loaded whole again, one not listed is deleted, a rule is removed and appended; unlisted, nothing is touched', () => {
  const node = (extra: Partial<Topology['nodes'][string]>): Topology => ({ name: 'k', links: [], nodes: { a: { forwarding: false, interfaces: { lo: { kind: 'loopback', up: true, addresses: [] } }, routes: [], nat: [], ...extra } } });
  const observed = node({ nftables: { 'inet t1': 'table inet t1 {\n}\n', 'inet old': 'table inet old {\n}\n' }, ip6tables: ['-t filter -A INPUT -j DROP'] });
  const desired = node({ nftables: { 'inet t1': 'table inet t1 {\n\tchain c {\n\t}\n}\n' }, ip6tables: ['-t filter -A INPUT -j ACCEPT', '-t filter -A MINE -j DROP'] });
  const ops = plan(desired, observed);
  assert.deepEqual(ops.map((o) => `${o.kind} ${opArgv(o).slice(4).join(' ')}`), [
    'nftables.del nft delete table inet old',
    'ip6tables.del ip6tables -w -t filter -D INPUT -j DROP',
    'ip6chain.add ip6tables -w -t filter -N MINE',
    'ip6tables.add ip6tables -w -t filter -A INPUT -j ACCEPT',
    'ip6tables.add ip6tables -w -t filter -A MINE -j DROP',
    'nftables.add nft -f -',
  ]);
  const load = ops.find((o) => o.kind === 'nftables.add');
  assert.equal(load && opInput(load), 'table inet t1\ndelete table inet t1\ntable inet t1 {\n\tchain c {\n\t}\n}\n');
  assert.deepEqual(plan(node({}), observed), [], 'a topology that does not list them leaves them alone');
});

test('export --script loads a table with nft -f - from a here-document holding its text', () => {
  const t1 = 'table inet t1 {\n\tchain c {\n\t}\n}\n';
  const lab: Topology = { name: 'k', links: [], nodes: { a: { forwarding: false, interfaces: {}, routes: [], nat: [], nftables: { 'inet t1': t1 }, ip6tables: ['-t filter -A INPUT -j DROP'] } } };
  const script = exportScript(lab);
  assert.ok(script.includes("ip netns exec a nft -f - <<'NSLAB_END'\ntable inet t1\ndelete table inet t1\ntable inet t1 {\n\tchain c {\n\t}\n}\nNSLAB_END\n"), script);
  assert.ok(script.includes('ip netns exec a ip6tables -w -t filter -A INPUT -j DROP\n'), script);
});
