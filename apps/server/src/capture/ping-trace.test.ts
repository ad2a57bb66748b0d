/**
 * Ping traces through real topologies: a bridge (container host with two
 * containers), a MASQUERADE host in front of an "internet" namespace that has no
 * route back, a router with forwarding off and then on, and the failures a learner
 * meets (no route, nobody answering ARP, no route back), each explained in words.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PingHop, PingTraceResult } from '@nslab/model';
import { pingTrace, PingTraceError, parseDestination } from './ping-trace';

import { leftoverChildren, TestNetns } from '../../test-kit/netns';

const labs: TestNetns[] = [];

after(() => {
  for (const lab of labs) assert.deepEqual(lab.leftovers(), [], 'test namespaces left behind');
  assert.deepEqual(leftoverChildren(), [], 'tcpdump or zombie processes left behind');
});

/** "node:interface:direction" per hop, rewrites appended, for exact comparison. */
function route(hops: readonly PingHop[]): string[] {
  return hops.map((h) => {
    const rw = h.rewritten === undefined ? '' : ` ${Object.entries(h.rewritten).map(([k, [a, b]]) => `${k} ${a}->${b}`).join(' ')}`;
    return `${h.type} ${h.node}:${h.interface}:${h.direction}${rw}`;
  });
}

function explainOnFailure(r: PingTraceResult): string {
  return `hops:\n${route(r.hops).join('\n')}\ncause: ${r.cause}\nping: ${r.ping.stdout}${r.ping.stderr}`;
}

/** ns1 and ns3 on a bridge br0 in "host" (the container host), as docker0 does it. */
function bridgeLab(): TestNetns {
  const lab = new TestNetns();
  labs.push(lab);
  lab.add('ns1', 'host', 'ns3');
  lab.veth('ns1', 'eth0', 'host', 'veth-ns1');
  lab.veth('ns3', 'eth0', 'host', 'veth-ns3');
  lab.ip('host', 'link', 'add', 'br0', 'type', 'bridge');
  lab.ip('host', 'link', 'set', 'veth-ns1', 'master', 'br0');
  lab.ip('host', 'link', 'set', 'veth-ns3', 'master', 'br0');
  lab.ip('host', 'addr', 'add', '192.168.1.254/24', 'dev', 'br0');
  lab.ip('host', 'link', 'set', 'br0', 'up');
  lab.ip('ns1', 'addr', 'add', '192.168.1.1/24', 'dev', 'eth0');
  lab.ip('ns3', 'addr', 'add', '192.168.1.3/24', 'dev', 'eth0');
  lab.ip('ns1', 'addr', 'add', 'fd00:1::1/64', 'dev', 'eth0', 'nodad');
  lab.ip('ns3', 'addr', 'add', 'fd00:1::3/64', 'dev', 'eth0', 'nodad');
  return lab;
}

describe('across a bridge', () => {
  let lab: TestNetns;
  before(() => {
    lab = bridgeLab();
  });
  after(() => lab.cleanup());

  test('the echo and its reply, port by port', async () => {
    const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '192.168.1.3' });
    assert.equal(r.ok, true, explainOnFailure(r));
    assert.deepEqual(route(r.hops), [
      'request ns1:eth0:out',
      'request host:veth-ns1:in',
      'request host:veth-ns3:out',
      'request ns3:eth0:in',
      'reply ns3:eth0:out',
      'reply host:veth-ns3:in',
      'reply host:veth-ns1:out',
      'reply ns1:eth0:in',
    ]);
    assert.ok(r.hops.every((h) => h.src === (h.type === 'request' ? '192.168.1.1' : '192.168.1.3')));
    assert.equal(r.cause, null);
    assert.equal(r.lastSeen, null);
    assert.match(r.ping.stdout, /1 received/);
    assert.ok(r.echo !== null && r.echo.seq === 1);
    for (let i = 1; i < r.hops.length; i += 1) assert.ok((r.hops[i] as PingHop).time >= (r.hops[i - 1] as PingHop).time);
  });

  test('IPv6 takes the same path', async () => {
    const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns3', destination: 'FD00:1:0::1' });
    assert.equal(r.ok, true, explainOnFailure(r));
    assert.equal(r.destination, 'fd00:1::1');
    assert.deepEqual(route(r.hops), [
      'request ns3:eth0:out',
      'request host:veth-ns3:in',
      'request host:veth-ns1:out',
      'request ns1:eth0:in',
      'reply ns1:eth0:out',
      'reply host:veth-ns1:in',
      'reply host:veth-ns3:out',
      'reply ns3:eth0:in',
    ]);
  });

  test('nobody has the address: the unanswered ARP is named', async () => {
    const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '192.168.1.9' });
    assert.equal(r.ok, false);
    assert.deepEqual(r.hops, []);
    assert.equal(r.cause, 'ns1 sent ARP requests for 192.168.1.9 that nobody answered');
    assert.match(r.ping.stdout, /0 received/);
  });

  test('no route at all', async () => {
    const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns3', destination: '10.9.9.9' });
    assert.equal(r.ok, false);
    assert.match(r.cause ?? '', /^no route from ns3 to 10\.9\.9\.9 \(network is unreachable\)$/);
    assert.match(r.ping.stderr + r.ping.stdout, /unreachable/i);
  });

  test('a destination that is not an address never reaches argv', async () => {
    for (const bad of ['192.168.1.3; reboot', '-f', 'example.com', '10.0.0.256', 'fe80::1%eth0 x', 'fe80::1%a/b', '10.0.0.1%eth0', '']) {
      await assert.rejects(pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: bad }), PingTraceError, bad);
    }
    await assert.rejects(pingTrace({ namespaces: lab.namespaces, source: 'nope', destination: '192.168.1.3' }), /no node "nope"/);
    assert.deepEqual(parseDestination('fe80::1%eth0'), { address: 'fe80::1', family: 6, zone: 'eth0', argument: 'fe80::1%eth0' });
  });
});

/** ns1 behind "host" (bridge + NAT) and an "internet" namespace that knows no route to 192.168.1.0/24. */
function natLab(masquerade: boolean): TestNetns {
  const lab = new TestNetns();
  labs.push(lab);
  lab.add('ns1', 'host', 'internet');
  lab.veth('ns1', 'eth0', 'host', 'veth-ns1');
  lab.veth('host', 'uplink', 'internet', 'eth0');
  lab.ip('host', 'link', 'add', 'br0', 'type', 'bridge');
  lab.ip('host', 'link', 'set', 'veth-ns1', 'master', 'br0');
  lab.ip('host', 'addr', 'add', '192.168.1.254/24', 'dev', 'br0');
  lab.ip('host', 'link', 'set', 'br0', 'up');
  lab.ip('host', 'addr', 'add', '203.0.113.1/24', 'dev', 'uplink');
  lab.exec('host', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  if (masquerade) lab.exec('host', 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '192.168.1.0/24', '-o', 'uplink', '-j', 'MASQUERADE');
  lab.ip('ns1', 'addr', 'add', '192.168.1.1/24', 'dev', 'eth0');
  lab.ip('ns1', 'route', 'add', 'default', 'via', '192.168.1.254');
  lab.ip('internet', 'addr', 'add', '203.0.113.2/24', 'dev', 'eth0');
  return lab;
}

describe('through a MASQUERADE host', () => {
  test('the source is rewritten on the way out and the destination on the way back', async () => {
    const lab = natLab(true);
    try {
      const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '203.0.113.2' });
      assert.equal(r.ok, true, explainOnFailure(r));
      assert.deepEqual(route(r.hops), [
        'request ns1:eth0:out',
        'request host:veth-ns1:in',
        'request host:br0:in',
        'request host:uplink:out src 192.168.1.1->203.0.113.1',
        'request internet:eth0:in',
        'reply internet:eth0:out',
        'reply host:uplink:in',
        'reply host:br0:out dst 203.0.113.1->192.168.1.1',
        'reply host:veth-ns1:out',
        'reply ns1:eth0:in',
      ]);
    } finally {
      await lab.cleanup();
    }
  });

  test('without MASQUERADE the internet has no route back, and the cause says so', async () => {
    const lab = natLab(false);
    try {
      const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '203.0.113.2' });
      assert.equal(r.ok, false);
      assert.equal(r.lastSeen?.node, 'internet');
      assert.equal(
        r.cause,
        'the echo request reached internet on eth0 from 192.168.1.1, but internet has no route back to 192.168.1.1 (network is unreachable)',
      );
    } finally {
      await lab.cleanup();
    }
  });
});

describe('through a router', () => {
  let lab: TestNetns;
  before(() => {
    lab = new TestNetns();
    labs.push(lab);
    lab.add('ns1', 'router', 'ns2');
    lab.veth('ns1', 'eth0', 'router', 'eth0');
    lab.veth('router', 'eth1', 'ns2', 'eth0');
    lab.ip('router', 'addr', 'add', '10.0.1.254/24', 'dev', 'eth0');
    lab.ip('router', 'addr', 'add', '10.0.2.254/24', 'dev', 'eth1');
    lab.ip('ns1', 'addr', 'add', '10.0.1.1/24', 'dev', 'eth0');
    lab.ip('ns1', 'route', 'add', 'default', 'via', '10.0.1.254');
    lab.ip('ns2', 'addr', 'add', '10.0.2.1/24', 'dev', 'eth0');
    lab.ip('ns2', 'route', 'add', 'default', 'via', '10.0.2.254');
  });
  after(() => lab.cleanup());

  test('forwarding off: the echo stops in the router, and the cause names it', async () => {
    lab.exec('router', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0');
    const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '10.0.2.1' });
    assert.equal(r.ok, false);
    assert.deepEqual(route(r.hops), ['request ns1:eth0:out', 'request router:eth0:in']);
    assert.deepEqual(r.lastSeen && route([r.lastSeen]), ['request router:eth0:in']);
    assert.equal(r.cause, 'the echo request reached router on eth0 but never left: forwarding is off in router (net.ipv4.ip_forward = 0)');
  });

  test('forwarding on: through the router and back', async () => {
    lab.exec('router', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '10.0.2.1' });
    assert.equal(r.ok, true, explainOnFailure(r));
    assert.deepEqual(route(r.hops), [
      'request ns1:eth0:out',
      'request router:eth0:in',
      'request router:eth1:out',
      'request ns2:eth0:in',
      'reply ns2:eth0:out',
      'reply router:eth1:in',
      'reply router:eth0:out',
      'reply ns1:eth0:in',
    ]);
  });
});
