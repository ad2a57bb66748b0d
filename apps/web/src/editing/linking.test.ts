import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { applyEdits, parseTopologyData, toFile } from '@nslab/model';
import { linkEdits } from './linking';
import { lab } from '../testing/lab-fixture';

const t = lab('name: t\nnodes: { ns1: {}, ns2: { interfaces: { eth0: { kind: bridge } } }, host: { interfaces: { br0: { kind: bridge } } } }');

test('two namespaces get ethN on each side and a shared fresh subnet', () => {
  const r = linkEdits(t, { node: 'ns1' }, { node: 'ns2' }, true);
  assert.ok(r.ok);
  assert.deepEqual(r.edits, [{ kind: 'link.add', a: { node: 'ns1', interface: 'eth0' }, b: { node: 'ns2', interface: 'eth1' }, addresses: ['10.0.1.1/24', '10.0.1.2/24'] }]);
});

test('a namespace to a bridge: veth-<peer> on the bridge side, plugged in, no address there', () => {
  const r = linkEdits(t, { node: 'ns1' }, { node: 'host', bridge: 'br0' }, true);
  assert.ok(r.ok);
  assert.deepEqual(r.edits, [
    { kind: 'link.add', a: { node: 'ns1', interface: 'eth0' }, b: { node: 'host', interface: 'veth-ns1' }, addresses: ['10.0.1.1/24', null] },
    { kind: 'interface.set', node: 'host', name: 'veth-ns1', master: 'br0' },
  ]);
  assert.equal(r.label, 'connect ns1 to host:br0');
});

test('the edits give a lab the model accepts', () => {
  const r = linkEdits(t, { node: 'host', bridge: 'br0' }, { node: 'ns1' }, false);
  assert.ok(r.ok);
  const applied = applyEdits(toFile(t), r.edits);
  assert.ok(applied.ok);
  const parsed = parseTopologyData(applied.file);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  assert.equal(parsed.topology.nodes.host?.interfaces['veth-ns1']?.master, 'br0');
});

test('a namespace to its own bridge gets two distinct names; the same end twice is refused', () => {
  const r = linkEdits(t, { node: 'host' }, { node: 'host', bridge: 'br0' }, false);
  assert.ok(r.ok);
  assert.deepEqual(r.edits[0], { kind: 'link.add', a: { node: 'host', interface: 'eth0' }, b: { node: 'host', interface: 'veth-host' } });
  const same = linkEdits(t, { node: 'ns1' }, { node: 'ns1' }, false);
  assert.equal(same.ok, false);
  assert.equal(linkEdits(t, { node: 'ns1' }, { node: 'ns2', bridge: 'eth9' }, false).ok, false);
});
