import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseTopology } from '@nslab/model';
import { checkEdits } from './check';

const r = parseTopology('name: t\nnodes: { ns1: { interfaces: { eth0: {} } }, ns2: { interfaces: { eth0: {} } } }\nlinks: [[ns1:eth0, ns2:eth0]]');
if (!r.ok) throw new Error('bad lab');

test('an invalid address is caught at its field before anything is sent', () => {
  const c = checkEdits('t', r.topology, {}, [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.0.0.300/24' }]);
  assert.equal(c.ok, false);
  if (c.ok) return;
  assert.equal(c.problems[0]?.field, 'nodes.ns1.interfaces.eth0.addresses');
  assert.match(c.problems[0]?.message ?? '', /not an address/);
});

test('a valid edit gives the new file; a missing node is named', () => {
  assert.equal(checkEdits('t', r.topology, {}, [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.0.0.1/24' }]).ok, true);
  const c = checkEdits('t', r.topology, {}, [{ kind: 'route.add', node: 'nope', route: 'default dev eth0' }]);
  assert.equal(c.ok, false);
});

test('a lab that does not exist yet starts empty', () => {
  const c = checkEdits('fresh', undefined, {}, [{ kind: 'node.add', node: 'ns1' }]);
  assert.ok(c.ok);
  assert.deepEqual(c.file.nodes, { ns1: {} });
});
