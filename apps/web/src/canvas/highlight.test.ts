import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseTopology } from '@nslab/model';
import { edgeId } from './derive';
import { highlightOf, NO_HIGHLIGHT } from './highlight';

const r = parseTopology(`name: t
nodes:
  host:
    interfaces:
      br0: { kind: bridge }
      veth-ns1: { master: br0 }
      veth-ns2: { master: br0 }
  ns1: { interfaces: { eth0: { addresses: [10.0.0.1/24] } } }
  ns2: { interfaces: { eth0: { addresses: [10.0.0.2/24] } } }
links:
  - [ns1:eth0, host:veth-ns1]
  - [ns2:eth0, host:veth-ns2]
`);
if (!r.ok) throw new Error('bad lab');
const topology = r.topology;
const e1 = edgeId(topology.links[0]!);
const e2 = edgeId(topology.links[1]!);

test('nothing to show is the shared empty highlight', () => {
  assert.equal(highlightOf({ topology, selection: undefined }), NO_HIGHLIGHT);
  assert.equal(highlightOf({ topology, selection: { kind: 'node', node: 'ns1' } }), NO_HIGHLIGHT);
});

test('a selected interface shows its veth pair and the bridge port at the far end', () => {
  const h = highlightOf({ topology, selection: { kind: 'node', node: 'ns1', interface: 'eth0' } });
  assert.equal(h.edges[e1], 'hl-select');
  assert.deepEqual(h.ports.map((p) => `${p.node}:${p.interface}`), ['ns1:eth0', 'host:veth-ns1']);
});

test('the focused terminal marks its node; sightings mark ports, edges and nodes in order', () => {
  const h = highlightOf({
    topology, selection: undefined, terminalNode: 'ns2',
    sightings: [{ node: 'ns1', interface: 'eth0', direction: 'out' }, { node: 'host', interface: 'veth-ns1', direction: 'in' }, { node: 'host', interface: 'veth-ns2', direction: 'out' }],
  });
  assert.equal(h.nodes.ns2, 'hl-terminal');
  assert.equal(h.nodes.host, 'hl-packet');
  assert.equal(h.edges[e1], 'hl-packet');
  assert.equal(h.edges[e2], 'hl-packet');
  assert.deepEqual(h.ports.map((p) => p.label), ['1', '2', '3']);
});

test('a trace marks each port with its hops and a drop, also where the port was crossed before', () => {
  const row = (index: number, node: string, iface: string, extra: { dropped?: boolean; nat?: string } = {}) => ({
    index, type: 'request' as const, node, interface: iface, direction: 'in' as const, at: `${node}:${iface}`, offsetMs: 0, src: '10.0.0.1', dst: '10.0.0.2',
    lastSeen: false, rules: [], dropped: extra.dropped ?? false, ...(extra.nat ? { nat: extra.nat } : {}),
  });
  const trace = {
    ok: false, verdict: 'dropped', cause: null, warning: null, nodes: ['ns1', 'host'], steps: [],
    rows: [row(1, 'ns1', 'eth0'), row(2, 'host', 'veth-ns1', { nat: 'DNAT' }), row(3, 'host', 'veth-ns1', { dropped: true })],
  };
  const h = highlightOf({ topology, selection: undefined, trace });
  assert.deepEqual(h.ports.map((p) => [`${p.node}:${p.interface}`, p.label, p.tone]), [
    ['ns1:eth0', '1', 'trace'],
    ['host:veth-ns1', '2 DNAT,3 DROP', 'trace-fail'],
  ]);
});
