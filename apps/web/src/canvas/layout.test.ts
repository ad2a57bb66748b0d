import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Topology } from '@nslab/model';
import { layoutLab, orient, placeNew } from './layout';
import { NODE_WIDTH } from './geometry';
import { dataHeight, namespaceData } from './derive';
import { lab } from '../testing/lab-fixture';

const masq = lab(`name: masq
nodes:
  host:
    interfaces: { br0: { kind: bridge }, veth-ns1: { master: br0 }, veth-ns2: { master: br0 }, uplink: {} }
  ns1: {}
  ns2: {}
  internet: {}
links: [[ns1:eth0, host:veth-ns1], [ns2:eth0, host:veth-ns2], [internet:eth0, host:uplink]]`);

/** The same lab with its nodes and links listed in another order. */
function shuffled(t: Topology): Topology {
  const names = Object.keys(t.nodes).reverse();
  return { ...t, nodes: Object.fromEntries(names.map((n) => [n, t.nodes[n]!])), links: [...t.links].reverse().map((l) => ({ a: l.b, b: l.a })) };
}

test('the layout is deterministic: same lab, same positions, whatever the order of the input', async () => {
  const a = await layoutLab(masq);
  const b = await layoutLab(masq);
  const c = await layoutLab(shuffled(masq));
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
});

test('it reads left to right: containers, then their host, then the internet; nothing overlaps', async () => {
  const p = await layoutLab(masq);
  assert.ok(p.ns1!.x < p.host!.x && p.ns2!.x < p.host!.x);
  assert.ok(p.host!.x < p.internet!.x);
  assert.equal(p.ns1!.x, p.ns2!.x);
  assert.ok(Math.abs(p.ns1!.y - p.ns2!.y) > 60);
});

test('a lab reads from its edge to its core: containers, hosts, then the underlay', async () => {
  const k8s = lab(`name: k8s
nodes:
  lan: { interfaces: { br0: { kind: bridge }, n1: { master: br0 }, n2: { master: br0 } } }
  node1: { interfaces: { cni0: { kind: bridge }, veth-a1: { master: cni0 }, veth-a2: { master: cni0 } } }
  node2: { interfaces: { cni0: { kind: bridge }, veth-b1: { master: cni0 } } }
  pod-a1: {}
  pod-a2: {}
  pod-b1: {}
links: [[node1:eth0, lan:n1], [node2:eth0, lan:n2], [pod-a1:eth0, node1:veth-a1], [pod-a2:eth0, node1:veth-a2], [pod-b1:eth0, node2:veth-b1]]`);
  assert.deepEqual(orient(k8s, 'lan', 'node2'), ['node2', 'lan']);
  const p = await layoutLab(k8s);
  assert.ok(p['pod-a1']!.x < p.node1!.x && p.node1!.x < p.lan!.x);
  assert.ok(p['pod-b1']!.x < p.node2!.x && p.node2!.x < p.lan!.x);
});

test('links point at the hub and at the internet', () => {
  assert.deepEqual(orient(masq, 'host', 'ns1'), ['ns1', 'host']);
  assert.deepEqual(orient(masq, 'internet', 'host'), ['host', 'internet']);
});

test('a new node goes beside its linked neighbour without moving or covering anything', () => {
  const positions = { ns1: { x: 0, y: 0 }, ns2: { x: 0, y: 200 }, host: { x: 400, y: 100 } };
  const placed = placeNew(masq, positions, ['internet']);
  assert.equal(placed.internet!.x, 400 + NODE_WIDTH + 110);
  const lone = placeNew(masq, { ns1: { x: 0, y: 0 } }, ['ns2']);
  assert.ok(lone.ns2!.x >= NODE_WIDTH);
});

/** 1 core, 9 hosts with bridges, 290 containers: the benchmark's shape. */
function big(): Topology {
  const nodes: Record<string, unknown> = {};
  const links: string[][] = [];
  const core: Record<string, unknown> = {};
  for (let h = 0; h < 9; h += 1) {
    const ifaces: Record<string, unknown> = { br0: { kind: 'bridge' }, uplink: {} };
    core[`e${h}`] = {};
    links.push([`h${h}:uplink`, `core:e${h}`]);
    nodes[`h${h}`] = { interfaces: ifaces };
  }
  nodes.core = { interfaces: core };
  for (let i = 0; i < 290; i += 1) {
    const h = i % 9;
    nodes[`n${i}`] = {};
    ((nodes[`h${h}`] as { interfaces: Record<string, unknown> }).interfaces)[`v${i}`] = { master: 'br0' };
    links.push([`n${i}:eth0`, `h${h}:v${i}`]);
  }
  return lab(JSON.stringify({ name: 'big', nodes, links }));
}

test('300 namespaces: containers in blocks beside their host, with no overlap', async () => {
  const t = big();
  const p = await layoutLab(t);
  assert.equal(Object.keys(p).length, 300);
  for (let i = 0; i < 290; i += 1) assert.ok(p[`n${i}`]!.x < p[`h${i % 9}`]!.x, `n${i} is left of its host`);
  for (let h = 0; h < 9; h += 1) assert.ok(p[`h${h}`]!.x < p.core!.x, 'hosts are left of the core');
  const boxes = Object.entries(p).map(([n, q]) => ({ n, ...q, h: dataHeight(namespaceData(n, t.nodes[n]!, t.links)) }));
  for (const a of boxes) for (const b of boxes) {
    if (a.n >= b.n) continue;
    const overlap = a.x < b.x + NODE_WIDTH && b.x < a.x + NODE_WIDTH && a.y < b.y + b.h && b.y < a.y + a.h;
    assert.ok(!overlap, `${a.n} and ${b.n} overlap`);
  }
});
