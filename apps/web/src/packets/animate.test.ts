import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseTopology } from '@nslab/model';
import { Animator, FLIGHT_MS, progressOf } from './animate';
import { edgeCounts, endpointIndex, traversalOf } from './edges';

const r = parseTopology(`name: t
nodes:
  host:
    interfaces:
      br0: { kind: bridge }
      veth-ns1: { master: br0 }
      veth-ns2: { master: br0 }
      veth-ns3: { master: br0 }
  ns1: { interfaces: { eth0: { addresses: [192.168.1.1/24] } } }
  ns2: { interfaces: { eth0: { addresses: [192.168.1.2/24] } } }
  ns3: { interfaces: { eth0: { addresses: [192.168.1.3/24] } } }
links:
  - [ns1:eth0, host:veth-ns1]
  - [ns2:eth0, host:veth-ns2]
  - [ns3:eth0, host:veth-ns3]
`);
if (!r.ok) throw new Error('bad lab');
const links = r.topology.links;
const index = endpointIndex(links);
const cross = (node: string, iface: string, dir: 'in' | 'out') => traversalOf(index, links, node, iface, dir)!;

test('a packet leaving or entering an edge end travels the right way', () => {
  const out = cross('ns1', 'eth0', 'out');
  assert.deepEqual({ from: out.from, to: out.to }, { from: 'ns1', to: 'host' });
  const into = cross('host', 'veth-ns1', 'in');
  assert.equal(into.edge, out.edge);
  assert.equal(into.forward, out.forward, 'the same crossing, seen at the other end');
  const back = cross('host', 'veth-ns1', 'out');
  assert.deepEqual({ from: back.from, to: back.to, forward: back.forward }, { from: 'host', to: 'ns1', forward: !out.forward });
  assert.equal(traversalOf(index, links, 'host', 'br0', 'in'), undefined, 'a bridge device is no edge');
});

test('a crossing seen at both ends flies once', () => {
  const a = new Animator();
  assert.equal(a.offer({ ...cross('ns1', 'eth0', 'out'), protocol: 'icmp', key: 'k', time: 1 }, 0), true);
  assert.equal(a.offer({ ...cross('host', 'veth-ns1', 'in'), protocol: 'icmp', key: 'k', time: 1.0001 }, 1), false);
  assert.equal(a.frame(2).flights.length, 1);
});

test('an ARP broadcast reaches the bridge, then fans out of every other port at once', () => {
  const a = new Animator();
  a.offer({ ...cross('ns1', 'eth0', 'out'), protocol: 'arp', key: 'arp', time: 1 }, 0);
  a.offer({ ...cross('host', 'veth-ns2', 'out'), protocol: 'arp', key: 'arp', time: 1.00001 }, 0);
  a.offer({ ...cross('host', 'veth-ns3', 'out'), protocol: 'arp', key: 'arp', time: 1.00001 }, 0);
  const early = a.frame(FLIGHT_MS / 2);
  assert.equal(early.flights.length, 1, 'only the first hop flies first');
  const later = a.frame(FLIGHT_MS * 1.5);
  assert.equal(later.flights.length, 2, 'then both bridge ports at once');
  assert.equal(a.frame(FLIGHT_MS * 3).busy, false);
});

test('pause stops the clock; speed scales it', () => {
  const a = new Animator();
  a.offer({ ...cross('ns1', 'eth0', 'out'), protocol: 'icmp', key: 'p', time: 1 }, 0);
  const f = a.frame(100).flights[0]!;
  const t1 = progressOf(f, a.now)!;
  a.paused = true;
  a.frame(400);
  assert.equal(progressOf(f, a.now), t1);
  a.paused = false;
  a.speed = 0.5;
  a.frame(600);
  assert.ok(Math.abs(a.now - 200) < 1e-9, 'paused time did not count; 200 ms at half speed is 100');
});

test('replay plays the last seconds again, slowed down', () => {
  const a = new Animator();
  a.offer({ ...cross('ns1', 'eth0', 'out'), protocol: 'icmp', key: 'x', time: 10 }, 0);
  a.offer({ ...cross('ns2', 'eth0', 'out'), protocol: 'icmp', key: 'y', time: 10.5 }, 0);
  a.frame(5000);
  assert.equal(a.replay(5, 4, 5000), 2);
  assert.equal(a.frame(5001).flights.length, 1);
  assert.equal(a.frame(5000 + 2000 + 10).flights.length, 1, 'the second starts 0.5 s x 4 later');
});

test('per-edge counts of a flood take the larger end of each edge', () => {
  const counts = edgeCounts(index, [
    { node: 'ns1', interface: 'eth0', protocol: 'udp', packets: 900 },
    { node: 'host', interface: 'veth-ns1', protocol: 'udp', packets: 880 },
    { node: 'host', interface: 'br0', protocol: 'udp', packets: 5 },
  ]);
  assert.equal(counts.size, 1);
  assert.deepEqual([...counts.values()][0], { packets: 900, protocol: 'udp' });
});
