import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Edit } from '@nslab/model';
import { place, placeOp, problemsByNode } from './problems';

const edits: Edit[] = [
  { kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.0.0.300/24' },
  { kind: 'route.add', node: 'ns2', route: 'default via 1.2.3.4' },
];

test('file paths land on the field they name', () => {
  assert.deepEqual(place({ path: 'nodes.ns1.interfaces.eth0.addresses[1]', message: 'm' }), { message: 'm', node: 'ns1', field: 'nodes.ns1.interfaces.eth0.addresses' });
  assert.deepEqual(place({ path: 'nodes.ns1.routes[0]', message: 'm' }), { message: 'm', node: 'ns1', field: 'nodes.ns1.routes' });
  assert.deepEqual(place({ path: 'nodes.host.nat[0].to', message: 'm' }), { message: 'm', node: 'host', field: 'nodes.host.nat' });
  assert.deepEqual(place({ path: 'nodes.ns1', message: 'm' }), { message: 'm', node: 'ns1', field: 'nodes.ns1' });
  assert.deepEqual(place({ path: 'name', message: 'm' }), { message: 'm', field: 'lab' });
});

test('edit paths land on the field the edit changed', () => {
  assert.deepEqual(place({ path: 'edits[0]', message: 'm' }, edits), { message: 'm', node: 'ns1', field: 'nodes.ns1.interfaces.eth0.addresses' });
  assert.deepEqual(place({ path: 'edits[1]', message: 'm' }, edits), { message: 'm', node: 'ns2', field: 'nodes.ns2.routes' });
  assert.deepEqual(place({ path: 'edits[7]', message: 'm' }, edits), { message: 'm', field: 'lab' });
});

test('a failed command lands where its op acts', () => {
  const op = { kind: 'addr.add', node: 'ns1', netns: 'nslab.t.ns1', interface: 'eth0', address: '10.0.0.1/24', reason: 'r' } as const;
  assert.deepEqual(placeOp(op, 'x'), { message: 'x', node: 'ns1', field: 'nodes.ns1.interfaces.eth0.addresses' });
  assert.deepEqual(problemsByNode([placeOp(op, 'x'), placeOp(op, 'y')]), { ns1: 'x' });
});
