import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { linkKey, toFile } from '@nslab/model';
import type { Edit, Topology } from '@nslab/model';
import { afterEdits, invertEdits } from './inverse';
import { lab } from '../testing/lab-fixture';

const base = lab(`name: t
nodes:
  host:
    forwarding: true
    interfaces:
      br0: { kind: bridge, addresses: [192.168.1.254/24] }
      veth-ns1: { master: br0 }
      uplink: { addresses: [203.0.113.2/24] }
    nat: [{ type: masquerade, source: 192.168.1.0/24, out: uplink }]
  ns1:
    interfaces: { eth0: { addresses: [192.168.1.1/24, 192.168.1.11/24], mtu: 1400 } }
    routes: [ "default via 192.168.1.254" ]
  internet:
    interfaces: { eth0: { addresses: [203.0.113.1/24] } }
links: [[ns1:eth0, host:veth-ns1], [internet:eth0, host:uplink]]`);

/** The lab as sorted JSON: the order of nodes, interfaces and links does not matter to the kernel. */
function canonical(t: Topology): string {
  const sort = (v: unknown): unknown => Array.isArray(v) ? v.map(sort)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(sort({ ...toFile(t), links: t.links.map(linkKey).sort() }));
}

/** Applying edits and then their inverse gives back the same lab file. */
function roundTrip(edits: Edit[]): void {
  const inverse = invertEdits(base, edits);
  assert.ok(inverse, 'the edits apply');
  const after = afterEdits(base, edits);
  assert.ok(after);
  assert.notEqual(canonical(after), canonical(base), 'the edits change something');
  const back = afterEdits(after, inverse);
  assert.ok(back, `the inverse applies: ${JSON.stringify(inverse)}`);
  assert.equal(canonical(back), canonical(base));
}

test('undo of small edits', () => {
  roundTrip([{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '192.168.1.20/24' }]);
  roundTrip([{ kind: 'address.remove', node: 'ns1', interface: 'eth0', address: '192.168.1.11/24' }]);
  roundTrip([{ kind: 'route.remove', node: 'ns1', route: 'default via 192.168.1.254' }]);
  roundTrip([{ kind: 'forwarding.set', node: 'host', value: false }]);
  roundTrip([{ kind: 'interface.set', node: 'ns1', name: 'eth0', up: false, mtu: 1500 }]);
  roundTrip([{ kind: 'interface.set', node: 'host', name: 'veth-ns1', master: null }]);
  roundTrip([{ kind: 'nat.add', node: 'host', rule: { type: 'dnat', proto: 'tcp', port: 80, to: '192.168.1.1:80' } }]);
  roundTrip([{ kind: 'nat.remove', node: 'host', index: 0 }]);
  roundTrip([{ kind: 'node.rename', node: 'ns1', to: 'web' }]);
});

test('undo of a link, of a node with links, bridges and NAT, and of a batch', () => {
  roundTrip([{ kind: 'link.remove', a: { node: 'host', interface: 'veth-ns1' } }]);
  roundTrip([{ kind: 'node.remove', node: 'host' }]);
  roundTrip([{ kind: 'node.remove', node: 'ns1' }]);
  roundTrip([{ kind: 'interface.remove', node: 'host', name: 'br0' }]);
  roundTrip([
    { kind: 'node.add', node: 'ns2' },
    { kind: 'link.add', a: { node: 'ns2', interface: 'eth0' }, b: { node: 'host', interface: 'veth-ns2' }, addresses: ['192.168.1.2/24', null] },
    { kind: 'interface.set', node: 'host', name: 'veth-ns2', master: 'br0' },
  ]);
});

test('a batch that cannot apply has no inverse', () => {
  assert.equal(invertEdits(base, [{ kind: 'node.remove', node: 'nope' }]), undefined);
});
