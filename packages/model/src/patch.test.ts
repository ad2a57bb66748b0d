import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, diffTopology } from './patch';
import type { Topology } from './topology';

const a: Topology = {
  name: 'p',
  nodes: {
    ns1: { forwarding: false, interfaces: { eth0: { kind: 'veth', up: true, addresses: ['10.0.0.1/24'] } }, routes: [], nat: [] },
    ns2: { forwarding: false, interfaces: {}, routes: [], nat: [] },
  },
  links: [],
};

test('diff names the objects it changes, and applying it reproduces the target', () => {
  const b: Topology = structuredClone(a);
  b.nodes['ns1']!.interfaces['br9'] = { kind: 'bridge', up: false, addresses: [] };
  b.nodes['ns1']!.forwarding = true;
  delete b.nodes['ns2'];
  b.nodes['ns3'] = { forwarding: false, interfaces: {}, routes: [{ dst: 'default', gateway: '10.0.0.254' }], nat: [] };
  const changes = diffTopology(a, b);
  assert.deepEqual(changes.map((c) => c.path.join('/')), ['nodes/ns2', 'nodes/ns1/interfaces/br9', 'nodes/ns1/forwarding', 'nodes/ns3']);
  assert.deepEqual(applyChanges(a, changes), b);
  assert.deepEqual(diffTopology(b, b), []);
  // The input is not modified.
  assert.ok(!('br9' in a.nodes['ns1']!.interfaces));
});
