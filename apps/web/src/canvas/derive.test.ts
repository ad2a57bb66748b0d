import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { applyChanges } from '@nslab/model';
import { createDataCache, derive, reuse } from './derive';
import { lab } from '../testing/lab-fixture';

const bridge = lab(`name: bridge
nodes:
  host:
    forwarding: true
    interfaces:
      br0: { kind: bridge, addresses: [192.168.1.254/24] }
      veth-ns1: { master: br0 }
      uplink: { addresses: [203.0.113.2/24] }
      vx0: { kind: vxlan, vni: 42, remote: 10.9.0.2 }
    nat: [{ type: masquerade, source: 192.168.1.0/24, out: uplink }]
  ns1:
    interfaces: { eth0: { addresses: [192.168.1.1/24], up: false } }
    routes: [ "default via 192.168.1.254" ]
  internet:
    interfaces: { eth0: { addresses: [203.0.113.1/24] } }
links: [[ns1:eth0, host:veth-ns1], [internet:eth0, host:uplink]]`);

test('a namespace is one node; a bridge is a box of its member ports inside it', () => {
  const { nodes } = derive({ topology: bridge, positions: {}, selection: undefined });
  assert.deepEqual(nodes.map((n) => n.id), ['host', 'internet', 'ns1']);
  const host = nodes[0]!.data;
  assert.equal(host.role, 'host');
  assert.deepEqual(host.ports.map((p) => p.name), ['uplink', 'vx0']);
  assert.deepEqual(host.bridges.map((b) => [b.name, b.addresses, b.ports.map((p) => p.name)]), [['br0', ['192.168.1.254/24'], ['veth-ns1']]]);
  assert.equal(host.ports[1]!.detail, 'vxlan 42 → 10.9.0.2');
  assert.deepEqual(host.nat, ['MASQUERADE from 192.168.1.0/24 out uplink']);
  assert.equal(host.forwarding, true);
  assert.equal(nodes[1]!.data.role, 'internet');
  assert.deepEqual(nodes[2]!.data.routes, ['default via 192.168.1.254']);
  assert.equal(nodes[2]!.data.ports[0]!.peer, 'host:veth-ns1');
});

test('a veth edge joins exactly its two ports, on the sides that face each other', () => {
  const positions = { ns1: { x: 0, y: 0 }, host: { x: 400, y: 0 }, internet: { x: 800, y: 0 } };
  const { edges } = derive({ topology: bridge, positions, selection: undefined });
  const e = edges.find((x) => x.source === 'ns1')!;
  assert.equal(e.target, 'host');
  assert.equal(e.sourceHandle, 'eth0:r');
  assert.equal(e.targetHandle, 'veth-ns1:l');
  const up = edges.find((x) => x.source === 'internet')!;
  assert.equal(up.sourceHandle, 'eth0:l');
  assert.equal(up.targetHandle, 'uplink:r');
});

test('down interfaces make their link look down', () => {
  const { edges, nodes } = derive({ topology: bridge, positions: {}, selection: undefined });
  assert.equal(edges.find((x) => x.source === 'ns1')!.data!.down, true);
  assert.equal(edges.find((x) => x.source === 'internet')!.data!.down, false);
  assert.equal(nodes[2]!.data.ports[0]!.up, false);
});

test('selection and problems land on the node; loopback without addresses is hidden', () => {
  const { nodes } = derive({ topology: bridge, positions: {}, selection: { kind: 'node', node: 'ns1' }, problems: { host: 'boom' } });
  assert.equal(nodes[2]!.selected, true);
  assert.equal(nodes[0]!.data.problem, 'boom');
  const withLo = applyChanges(bridge, [{ path: ['nodes', 'ns1', 'interfaces', 'lo'], value: { kind: 'loopback', up: true, addresses: [] } }]);
  assert.deepEqual(derive({ topology: withLo, positions: {}, selection: undefined }).nodes[2]!.data.ports.map((p) => p.name), ['eth0']);
});

test('a patch to one namespace leaves the other nodes equal by reference', () => {
  const cache = createDataCache();
  const before = derive({ topology: bridge, positions: {}, selection: undefined, cache });
  // A patch as the store applies it: only the changed namespace is a new object.
  const changed = { ...bridge, nodes: { ...bridge.nodes, ns1: { ...bridge.nodes.ns1!, forwarding: true } } };
  const after = derive({ topology: changed, positions: {}, selection: undefined, cache });
  assert.equal(after.nodes[0]!.data, before.nodes[0]!.data);
  assert.notEqual(after.nodes[2]!.data, before.nodes[2]!.data);
  const kept = reuse(before.nodes, after.nodes);
  assert.equal(kept[0], before.nodes[0]);
  assert.notEqual(kept[2], before.nodes[2]);
  assert.equal(reuse(before.edges, derive({ topology: changed, positions: {}, selection: undefined, cache }).edges), before.edges);
});
