import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { addressHint, bridgeSubnet, freshSubnet, linkAddresses, nextHost, routeHint } from './allocator';
import { formatCidr } from '@nslab/model';
import { lab } from '../testing/lab-fixture';

const empty = lab('name: t\nnodes: { a: {}, b: {} }');

test('an empty lab gets 10.0.1.0/24 and its first two hosts', () => {
  assert.equal(formatCidr(freshSubnet(empty)!), '10.0.1.0/24');
  assert.deepEqual(linkAddresses(empty, { node: 'a' }, { node: 'b' }), ['10.0.1.1/24', '10.0.1.2/24']);
});

test('a router takes the first address of a new link, as a gateway usually has, whichever end it is', () => {
  const t = lab('name: t\nnodes: { ns1: {}, r1: { forwarding: true } }');
  assert.deepEqual(linkAddresses(t, { node: 'ns1' }, { node: 'r1' }), ['10.0.1.2/24', '10.0.1.1/24']);
  assert.deepEqual(linkAddresses(t, { node: 'r1' }, { node: 'ns1' }), ['10.0.1.1/24', '10.0.1.2/24']);
});

test('a subnet in use is skipped, even when it is a wider prefix', () => {
  const t = lab(`name: t
nodes:
  a: { interfaces: { eth0: { addresses: [10.0.1.5/24] } } }
  b: { interfaces: { eth0: { addresses: [10.0.2.9/23] } } }
links: [[a:eth0, b:eth0]]`);
  assert.equal(formatCidr(freshSubnet(t)!), '10.0.4.0/24');
});

test('a namespace plugged into a bridge joins the subnet of the bridge and skips used hosts', () => {
  const t = lab(`name: t
nodes:
  host: { interfaces: { br0: { kind: bridge }, veth-ns1: { master: br0 }, veth-ns2: { master: br0 } } }
  ns1: { interfaces: { eth0: { addresses: [192.168.7.1/24] } } }
  ns2: { interfaces: { eth0: { addresses: [192.168.7.2/24] } } }
  ns3: {}
links: [[ns1:eth0, host:veth-ns1], [ns2:eth0, host:veth-ns2]]`);
  assert.equal(formatCidr(bridgeSubnet(t, 'host', 'br0')!), '192.168.7.0/24');
  assert.deepEqual(linkAddresses(t, { node: 'ns3' }, { node: 'host', bridge: 'br0' }), ['192.168.7.3/24', null]);
  assert.deepEqual(linkAddresses(t, { node: 'host', bridge: 'br0' }, { node: 'ns3' }), [null, '192.168.7.3/24']);
});

test('a bridge with no addresses yet gets a fresh subnet; two bridges get none', () => {
  const t = lab('name: t\nnodes: { host: { interfaces: { br0: { kind: bridge } } }, h2: { interfaces: { br0: { kind: bridge } } }, ns1: {} }');
  assert.deepEqual(linkAddresses(t, { node: 'ns1' }, { node: 'host', bridge: 'br0' }), ['10.0.1.1/24', null]);
  assert.deepEqual(linkAddresses(t, { node: 'h2', bridge: 'br0' }, { node: 'host', bridge: 'br0' }), [null, null]);
});

test('addresses picked for the same edit are never handed out twice', () => {
  const subnet = freshSubnet(empty)!;
  assert.equal(nextHost(empty, subnet, ['10.0.1.1/24', '10.0.1.2/24']), '10.0.1.3/24');
  assert.equal(formatCidr(freshSubnet(empty, ['10.0.1.1/24'])!), '10.0.2.0/24');
});

test('the address and route fields suggest values of the subnet at hand', () => {
  const t = lab(`name: t
nodes:
  ns1: { interfaces: { eth0: { addresses: [192.168.5.2/24] } } }
  r1: { forwarding: true, interfaces: { eth0: { addresses: [192.168.5.1/24] } } }
  ns2: { interfaces: { eth0: {} } }
  ns3: {}
links: [[ns1:eth0, r1:eth0], [ns2:eth0, ns3:eth0]]`);
  assert.equal(addressHint(t, 'ns1', 'eth0'), '192.168.5.3/24');
  assert.equal(addressHint(t, 'ns2', 'eth0'), '10.0.1.1/24', 'no subnet yet: the first address of a fresh one');
  assert.equal(routeHint(t, 'ns1'), 'default via 192.168.5.1');
  assert.equal(routeHint(t, 'ns3'), 'default via 10.0.1.1');
});
