import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology, parseTopologyData, toFile, toYaml } from './file';
import { exportScript } from './script';

const yaml = `
name: demo
description: a demo
try: [ "ip netns exec ns1 ping 10.0.0.2" ]
nodes:
  host:
    forwarding: true
    interfaces:
      br0: { kind: bridge, addresses: [10.0.0.254/24] }
      v1: { master: br0 }
      vx0: { kind: vxlan, vni: 7, remote: 10.0.0.9, dev: br0, port: 8472 }
    nat:
      - { type: masquerade, source: 10.0.0.0/24 }
      - { type: dnat, port: 80, to: "10.0.0.1:8080" }
  ns1:
    interfaces:
      eth0: { addresses: [10.0.0.1/24, "FD00::1/64"], up: false }
    routes: [ "default via 10.0.0.254", "10.9.0.0/16 dev eth0 metric 5" ]
links:
  - [ns1:eth0, host:v1]
`;

test('YAML and JSON read the same', () => {
  const a = parseTopology(yaml);
  assert.ok(a.ok);
  const b = parseTopology(JSON.stringify(toFile(a.topology)));
  assert.ok(b.ok);
  assert.deepEqual(b.topology, a.topology);
});

test('addresses are canonical; defaults filled in', () => {
  const r = parseTopology(yaml);
  assert.ok(r.ok);
  assert.deepEqual(r.topology.nodes['ns1']?.interfaces['eth0'], { kind: 'veth', up: false, addresses: ['10.0.0.1/24', 'fd00::1/64'] });
  assert.deepEqual(r.topology.nodes['host']?.interfaces['vx0']?.vxlan, { vni: 7, port: 8472, remote: '10.0.0.9', dev: 'br0' });
  assert.deepEqual(r.meta, { description: 'a demo', try: ['ip netns exec ns1 ping 10.0.0.2'] });
});

test('toYaml round-trips to the same topology', () => {
  const a = parseTopology(yaml);
  assert.ok(a.ok);
  const text = toYaml(a.topology, a.meta);
  const b = parseTopology(text);
  assert.ok(b.ok, text);
  assert.deepEqual(b.topology, a.topology);
  assert.deepEqual(b.meta, a.meta);
  assert.match(text, /eth0: \{ addresses: \[ 10\.0\.0\.1\/24, fd00::1\/64 \], up: false \}/);
});

test('the export script has one plain command per op, named as in the tutorials', () => {
  const a = parseTopology(yaml);
  assert.ok(a.ok);
  const script = exportScript(a.topology);
  assert.match(script, /^#!\/usr\/bin\/env bash/);
  assert.match(script, /\nip netns add ns1\n/);
  assert.match(script, /\nip link add name eth0 netns ns1 type veth peer name v1 netns host\n/);
  assert.match(script, /\nip netns exec host iptables -w -t nat -A POSTROUTING -s 10\.0\.0\.0\/24 -j MASQUERADE\n/);
  assert.doesNotMatch(script, /nslab\.demo|alias/);
});

test('a topology that is not a mapping is refused with a sentence', () => {
  const r = parseTopologyData([1, 2]);
  assert.equal(r.ok, false);
  const y = parseTopology('name: [unclosed');
  assert.equal(y.ok, false);
  assert.ok(!y.ok && /not valid YAML or JSON \(line 1/.test(y.problems[0]?.message ?? ''), JSON.stringify(y));
});
