import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseTopology } from '@nslab/model';
import { patchTopology, useLab } from './lab';

const r = parseTopology('name: t\nnodes: { a: { interfaces: { eth0: {} } }, b: { interfaces: { eth0: {} } } }\nlinks: [[a:eth0, b:eth0]]');
if (!r.ok) throw new Error('bad lab');
const t = r.topology;

test('a patch replaces what it touches and shares the rest', () => {
  const next = patchTopology(t, [{ path: ['nodes', 'a', 'interfaces', 'eth0'], value: { kind: 'veth', up: false, addresses: [] } }]);
  assert.equal(next.nodes.a?.interfaces.eth0?.up, false);
  assert.notEqual(next.nodes.a, t.nodes.a);
  assert.equal(next.nodes.b, t.nodes.b);
  assert.equal(next.links, t.links);
  assert.equal(t.nodes.a?.interfaces.eth0?.up, true, 'the previous lab is not modified');
});

test('nodes come and go; links are replaced as a whole', () => {
  const next = patchTopology(t, [{ path: ['nodes', 'b'] }, { path: ['nodes', 'c'], value: { forwarding: false, interfaces: {}, routes: [], nat: [] } }, { path: ['links'], value: [] }]);
  assert.deepEqual(Object.keys(next.nodes).sort(), ['a', 'c']);
  assert.equal(next.nodes.a, t.nodes.a);
  assert.deepEqual(next.links, []);
});

test('the store takes snapshots and patches only for the lab it follows', () => {
  const s = useLab.getState();
  s.follow('t');
  s.snapshot('other', t, {});
  assert.equal(useLab.getState().topology, undefined);
  s.snapshot('t', t, { description: 'd' });
  s.patch('t', [{ path: ['nodes', 'a', 'forwarding'], value: true }]);
  assert.equal(useLab.getState().topology?.nodes.a?.forwarding, true);
  s.follow('u');
  assert.equal(useLab.getState().topology, undefined);
});
