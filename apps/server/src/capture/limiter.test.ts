/** The per-client rate limiter, on an injected clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protocolOf, type NodePacketEvent, type PacketProtocol } from '@nslab/model';
import { PacketRateLimiter, type LimitedEvent } from './limiter';

function packet(node: string, iface: string, kind: 'icmp' | 'udp'): NodePacketEvent & { protocol: PacketProtocol } {
  const ip = { kind: 'ipv4' as const, src: '10.0.0.1', dst: '10.0.0.2', ttl: 64, protocol: kind === 'icmp' ? 1 : 17, id: 0, length: 84, headerLength: 20, dontFragment: true, moreFragments: false, fragmentOffset: 0 };
  const top = kind === 'icmp'
    ? { kind: 'icmp' as const, type: 8, code: 0, name: 'echo request', id: 1, seq: 1, length: 64 }
    : { kind: 'udp' as const, srcPort: 1, dstPort: 2, length: 72, payloadLength: 64 };
  const event: NodePacketEvent = { time: 0, linktype: 276, ifindex: 2, direction: 'out', length: 98, caplen: 98, layers: [ip, top], summary: '', node, interface: iface };
  return { ...event, protocol: protocolOf(event) };
}

function harness(rate = 2000, interval = 250) {
  let now = 0;
  const out: LimitedEvent[] = [];
  const limiter = new PacketRateLimiter((e) => out.push(e), { ratePerSecond: rate, intervalMs: interval, now: () => now });
  return { limiter, out, advance: (ms: number) => (now += ms) };
}

test('below the rate every packet passes and nothing is aggregated', () => {
  const { limiter, out, advance } = harness();
  for (let i = 0; i < 1000; i += 1) {
    limiter.offer(packet('ns1', 'eth0', 'icmp'));
    advance(1); // 1,000 packets/s
  }
  advance(300);
  limiter.tick();
  assert.equal(out.length, 1000);
  assert.ok(out.every((e) => e.kind === 'packet'));
});

test('a flood passes at the rate and the rest is counted per node, interface and protocol, and said so', () => {
  const { limiter, out, advance } = harness();
  // 20,000 packets/s for one second, from two interfaces, two protocols.
  for (let i = 0; i < 20_000; i += 1) {
    limiter.offer(packet(i % 2 === 0 ? 'ns1' : 'ns2', i % 2 === 0 ? 'eth0' : 'eth1', i % 4 < 2 ? 'icmp' : 'udp'));
    advance(0.05);
  }
  advance(250);
  limiter.tick();
  const passed = out.filter((e) => e.kind === 'packet').length;
  const aggregates = out.filter((e): e is Extract<LimitedEvent, { kind: 'aggregate' }> => e.kind === 'aggregate');
  const dropped = aggregates.reduce((n, a) => n + a.dropped, 0);
  assert.equal(passed + dropped, 20_000, 'every packet is either delivered or counted');
  assert.ok(passed >= 2000 && passed <= 2600, `passed ${passed}: one second at 2,000/s plus a burst of at most 500`);
  assert.ok(aggregates.length >= 4 && aggregates.length <= 5, `${aggregates.length} aggregates, one per 250 ms`);
  for (const a of aggregates) {
    assert.equal(a.counts.reduce((n, c) => n + c.packets, 0), a.dropped);
    assert.equal(a.ratePerSecond, 2000);
    assert.ok(a.until - a.since >= 250);
  }
  const keys = new Set(aggregates.flatMap((a) => a.counts.map((c) => `${c.node} ${c.interface} ${c.protocol}`)));
  assert.deepEqual([...keys].sort(), ['ns1 eth0 icmp', 'ns1 eth0 udp', 'ns2 eth1 icmp', 'ns2 eth1 udp']);
  const bytes = aggregates.flatMap((a) => a.counts).reduce((n, c) => n + c.bytes, 0);
  assert.equal(bytes, dropped * 98);
});

test('after a flood the rate recovers: packets pass again once the bucket refills', () => {
  const { limiter, out, advance } = harness(100, 250);
  for (let i = 0; i < 200; i += 1) limiter.offer(packet('ns1', 'eth0', 'icmp'));
  assert.equal(out.filter((e) => e.kind === 'packet').length, 25, 'a burst of one interval (100/s x 250 ms)');
  advance(1000);
  out.length = 0;
  limiter.offer(packet('ns1', 'eth0', 'icmp'));
  assert.equal(out[0]?.kind, 'aggregate', 'the held-back count is reported first');
  assert.equal(out[1]?.kind, 'packet');
});
