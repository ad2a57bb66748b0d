import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits, editSchema } from './edit';
import { parseTopologyData } from './file';
import type { RawTopology } from './schema';

const base: RawTopology = { name: 'e', nodes: { host: { interfaces: { br0: { kind: 'bridge' } } }, ns1: {} } };

test('edits build a lab that validates', () => {
  const r = applyEdits(base, [
    { kind: 'link.add', a: { node: 'ns1', interface: 'eth0' }, b: { node: 'host', interface: 'veth-ns1' }, addresses: ['10.0.0.1/24', null] },
    { kind: 'interface.set', node: 'host', name: 'veth-ns1', master: 'br0' },
    { kind: 'address.add', node: 'host', interface: 'br0', address: '10.0.0.254/24' },
    { kind: 'route.add', node: 'ns1', route: 'default via 10.0.0.254' },
    { kind: 'forwarding.set', node: 'host', value: true },
    { kind: 'nat.add', node: 'host', rule: { type: 'masquerade', source: '10.0.0.0/24' } },
  ]);
  assert.ok(r.ok, JSON.stringify(r));
  const parsed = parseTopologyData(r.file);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.equal(parsed.topology.nodes['host']?.interfaces['veth-ns1']?.master, 'br0');
  assert.equal(parsed.topology.links.length, 1);
});

test('removing a node removes its links; removing an interface releases its ports', () => {
  const withLink = applyEdits(base, [{ kind: 'link.add', a: { node: 'ns1', interface: 'eth0' }, b: { node: 'host', interface: 'v1' } }, { kind: 'interface.set', node: 'host', name: 'v1', master: 'br0' }]);
  assert.ok(withLink.ok);
  const r = applyEdits(withLink.file, [{ kind: 'interface.remove', node: 'host', name: 'br0' }, { kind: 'node.remove', node: 'ns1' }]);
  assert.ok(r.ok);
  assert.deepEqual(r.file.links, []);
  assert.equal(r.file.nodes?.['host']?.interfaces?.['v1']?.master, undefined);
});

test('edits on things that do not exist are problems, not silent no-ops', () => {
  const r = applyEdits(base, [
    { kind: 'address.remove', node: 'ns1', interface: 'eth0', address: '1.2.3.4/24' },
    { kind: 'node.add', node: 'host' },
    { kind: 'route.remove', node: 'ghost', route: 'default via 1.1.1.1' },
  ]);
  assert.ok(!r.ok);
  assert.deepEqual(r.problems.map((p) => p.path), ['edits[0]', 'edits[1]', 'edits[2]']);
});

test('the edit schema refuses unknown kinds and keys', () => {
  assert.ok(!editSchema.safeParse({ kind: 'shell', command: 'rm -rf /' }).success);
  assert.ok(!editSchema.safeParse({ kind: 'node.add', node: 'a', extra: 1 }).success);
});

test('adding a route the node already has, as the kernel shows it, adds nothing; another gateway is added', () => {
  const file: RawTopology = { name: 'e', nodes: { ns1: { interfaces: { eth0: { addresses: ['10.0.0.1/24'] } }, routes: ['default via 10.0.0.254 dev eth0'] } } };
  const same = applyEdits(file, [{ kind: 'route.add', node: 'ns1', route: 'default via 10.0.0.254' }]);
  assert.ok(same.ok);
  assert.deepEqual(same.file.nodes?.['ns1']?.routes, ['default via 10.0.0.254 dev eth0']);
  const other = applyEdits(file, [{ kind: 'route.add', node: 'ns1', route: 'default via 10.0.0.253' }]);
  assert.ok(other.ok);
  assert.deepEqual(other.file.nodes?.['ns1']?.routes, ['default via 10.0.0.254 dev eth0', 'default via 10.0.0.253']);
});
