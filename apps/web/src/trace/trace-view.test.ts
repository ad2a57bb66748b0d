import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { PingHop, PingTraceResult } from '@nslab/model';
import { edgeId } from '../canvas/derive';
import { formatMs, traceView } from './trace-view';
import { lab } from '../testing/lab-fixture';

const links = lab(`name: t
nodes:
  host:
    forwarding: true
    interfaces:
      br0: { kind: bridge, addresses: [192.168.1.254/24] }
      veth-ns1: { master: br0 }
      veth-ns3: { master: br0 }
      uplink: { addresses: [203.0.113.2/24] }
  ns1: { interfaces: { eth0: { addresses: [192.168.1.1/24] } } }
  ns3: { interfaces: { eth0: { addresses: [192.168.1.3/24] } } }
  internet: { interfaces: { eth0: { addresses: [203.0.113.1/24] } } }
links:
  - [ns1:eth0, host:veth-ns1]
  - [ns3:eth0, host:veth-ns3]
  - [internet:eth0, host:uplink]
`).links;

const hop = (node: string, iface: string, direction: 'in' | 'out', ms: number, type: 'request' | 'reply', src: string, dst: string, extra: Partial<PingHop> = {}): PingHop =>
  ({ node, interface: iface, direction, time: 100 + ms / 1000, type, src, dst, ...extra });

const base = { source: 'ns1', echo: { id: 1, seq: 1, family: 4 as const }, dropped: 0, ping: { stdout: '', stderr: '', code: 0 } };

test('a bridged ping: rows in order with offsets, the path there and back', () => {
  const hops = [
    hop('ns1', 'eth0', 'out', 0, 'request', '192.168.1.1', '192.168.1.3'),
    hop('host', 'veth-ns1', 'in', 0.01, 'request', '192.168.1.1', '192.168.1.3'),
    hop('host', 'veth-ns3', 'out', 0.02, 'request', '192.168.1.1', '192.168.1.3'),
    hop('ns3', 'eth0', 'in', 0.03, 'request', '192.168.1.1', '192.168.1.3'),
    hop('ns3', 'eth0', 'out', 0.05, 'reply', '192.168.1.3', '192.168.1.1'),
    hop('host', 'veth-ns3', 'in', 0.06, 'reply', '192.168.1.3', '192.168.1.1'),
    hop('host', 'veth-ns1', 'out', 0.07, 'reply', '192.168.1.3', '192.168.1.1'),
    hop('ns1', 'eth0', 'in', 0.08, 'reply', '192.168.1.3', '192.168.1.1'),
  ];
  const result: PingTraceResult = { ...base, ok: true, destination: '192.168.1.3', hops, lastSeen: null, cause: null };
  const v = traceView(result, links);
  assert.equal(v.ok, true);
  assert.deepEqual(v.rows.map((x) => `${x.at} ${x.direction}`), ['ns1:eth0 out', 'host:veth-ns1 in', 'host:veth-ns3 out', 'ns3:eth0 in', 'ns3:eth0 out', 'host:veth-ns3 in', 'host:veth-ns1 out', 'ns1:eth0 in']);
  assert.ok(Math.abs(v.rows[3]!.offsetMs - 0.03) < 1e-6);
  const e1 = edgeId(links[0]!);
  const e3 = edgeId(links[1]!);
  assert.deepEqual(v.steps.map((s) => `${s.edge === e1 ? 'e1' : s.edge === e3 ? 'e3' : '?'} ${s.type} ${s.forward}`), ['e1 request true', 'e3 request false', 'e3 reply true', 'e1 reply false']);
  assert.deepEqual(v.nodes, ['ns1', 'host', 'ns3']);
  assert.match(v.verdict, /ns1 reached 192\.168\.1\.3: the reply came back after 0\.080 ms/);
  assert.equal(v.cause, null);
});

test('NAT rewrites are kept; a failure says where it was last seen and why', () => {
  const hops = [
    hop('ns1', 'eth0', 'out', 0, 'request', '192.168.1.1', '203.0.113.1'),
    hop('host', 'veth-ns1', 'in', 0.01, 'request', '192.168.1.1', '203.0.113.1'),
    hop('host', 'uplink', 'out', 0.02, 'request', '203.0.113.2', '203.0.113.1', { rewritten: { src: ['192.168.1.1', '203.0.113.2'] } }),
  ];
  const last = hops[2]!;
  const result: PingTraceResult = { ...base, ok: false, destination: '203.0.113.1', hops, lastSeen: last, cause: 'internet has no route back to 203.0.113.2', dropped: 2 };
  const v = traceView(result, links);
  assert.equal(v.ok, false);
  assert.deepEqual(v.rows[2]!.rewritten, { src: ['192.168.1.1', '203.0.113.2'] });
  assert.equal(v.rows[2]!.lastSeen, true);
  assert.equal(v.rows.filter((x) => x.lastSeen).length, 1);
  assert.equal(v.verdict, 'No reply from 203.0.113.1. The request was last seen at host:uplink out.');
  assert.equal(v.cause, 'internet has no route back to 203.0.113.2');
  assert.match(v.warning ?? '', /dropped 2 packets/);
});

test('no echo on the wire at all', () => {
  const v = traceView({ ...base, ok: false, destination: '10.9.9.9', hops: [], lastSeen: null, cause: 'ns1 has no route to 10.9.9.9', echo: null }, links);
  assert.match(v.verdict, /never seen on the wire/);
  assert.deepEqual(v.steps, []);
});

test('milliseconds read at their scale', () => {
  assert.equal(formatMs(0.0421), '0.042 ms');
  assert.equal(formatMs(3.14159), '3.14 ms');
  assert.equal(formatMs(42.42), '42.4 ms');
});
