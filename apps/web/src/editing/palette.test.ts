import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { emptyNamespace } from '@nslab/model';
import type { Topology } from '@nslab/model';
import { checkEdits } from './check';
import { paletteAction } from './palette';

const t: Topology = { name: 't', nodes: { ns1: emptyNamespace(), host: { ...emptyNamespace(), interfaces: { br0: { kind: 'bridge', up: true, addresses: [] } } } }, links: [] };

test('each palette item makes a fresh node the model accepts', () => {
  for (const kind of ['namespace', 'router', 'internet', 'bridge'] as const) {
    const a = paletteAction(t, kind);
    assert.ok(a.created);
    assert.ok(!(a.node in t.nodes), `${kind} makes a new node`);
    assert.ok(checkEdits('t', t, {}, a.edits).ok, kind);
  }
  assert.equal(paletteAction(t, 'namespace').node, 'ns2');
  assert.deepEqual(paletteAction(t, 'router').edits, [{ kind: 'node.add', node: 'router', forwarding: true }]);
  assert.equal(paletteAction(t, 'bridge').node, 'host2');
});

test('a bridge dropped on a namespace goes inside it', () => {
  const a = paletteAction(t, 'bridge', 'host');
  assert.equal(a.created, false);
  assert.deepEqual(a.edits, [{ kind: 'interface.add', node: 'host', name: 'br1', interface: { kind: 'bridge' } }]);
  assert.ok(checkEdits('t', t, {}, a.edits).ok);
});
