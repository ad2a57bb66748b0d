import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { emptyNamespace } from '@nslab/model';
import type { Namespace, Topology } from '@nslab/model';
import { bridgePortName, freshBridgeName, freshEthName, freshNodeName } from './naming';

const ns = (...names: string[]): Namespace => ({ ...emptyNamespace(), interfaces: Object.fromEntries(names.map((n) => [n, { kind: 'veth', up: true, addresses: [] }])) });

test('node names count up from 1, or start bare', () => {
  const t: Topology = { name: 't', nodes: { ns1: emptyNamespace(), ns2: emptyNamespace(), host: emptyNamespace() }, links: [] };
  assert.equal(freshNodeName(t, 'ns'), 'ns3');
  assert.equal(freshNodeName(t, 'host', true), 'host2');
  assert.equal(freshNodeName(t, 'internet', true), 'internet');
  assert.equal(freshNodeName(undefined, 'ns'), 'ns1');
});

test('interface names: the first free ethN and brN', () => {
  assert.equal(freshEthName(ns('eth0', 'eth2')), 'eth1');
  assert.equal(freshEthName(ns('eth0'), ['eth1']), 'eth2');
  assert.equal(freshBridgeName(ns('br0')), 'br1');
});

test('bridge-side names follow the tutorials and fit in 15 bytes', () => {
  assert.equal(bridgePortName(ns(), 'ns1'), 'veth-ns1');
  assert.equal(bridgePortName(ns('veth-ns1'), 'ns1'), 'veth-ns1-2');
  const long = bridgePortName(ns(), 'averyverylongnodename');
  assert.equal(long, 'veth-averyveryl');
  assert.ok(long.length <= 15);
  assert.equal(bridgePortName(ns(long), 'averyverylongnodename'), 'veth-averyver-2');
});
