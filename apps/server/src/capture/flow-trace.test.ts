/**
 * Traces of TCP and UDP flows through real namespaces: a TCP connection to a port
 * published with DNAT (the rewrite at the host on the SYN, the reverse on the
 * SYN-ACK, the rule that did it and the conntrack entry that links them), UDP out
 * through MASQUERADE and back, a FORWARD DROP rule named with its node, chain and
 * text from the kernel's own trace, and a strict rp_filter dropping an asymmetric
 * route, which the kernel does silently and the model explains.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { PingHop, PingTraceResult } from '@nslab/model';
import { pingTrace } from './ping-trace';
import { NfTrace } from './nftrace';
import { leftoverChildren, TestNetns } from '../../test-kit/netns';

const labs: TestNetns[] = [];

after(() => {
  for (const lab of labs) assert.deepEqual(lab.leftovers(), [], 'test namespaces left behind');
  assert.deepEqual(leftoverChildren(), [], 'tcpdump or zombie processes left behind');
});

/** "type node:interface:direction" per hop, with rewrites, for exact comparison. */
function route(hops: readonly PingHop[]): string[] {
  return hops.map((h) => {
    const rw = h.rewritten === undefined ? '' : ` ${Object.entries(h.rewritten).map(([k, [a, b]]) => `${k} ${a}->${b}`).join(' ')}`;
    return `${h.what ?? h.type} ${h.node}:${h.interface}:${h.direction}${rw}`;
  });
}

function shown(r: PingTraceResult): string {
  return `hops:\n${route(r.hops).join('\n')}\nrules:\n${(r.rules ?? []).map((v) => `${v.node} ${v.table} ${v.chain} ${v.rule} -> ${v.verdict}`).join('\n')}\ncause: ${r.cause}\nprobe: ${r.ping.stdout}${r.ping.stderr}`;
}

/** No trace table may stay behind in any namespace. */
function assertNoTraceTable(lab: TestNetns): void {
  for (const { netns } of lab.namespaces) {
    const ruleset = execFileSync('ip', ['netns', 'exec', netns, 'nft', 'list', 'tables'], { encoding: 'utf8' });
    assert.doesNotMatch(ruleset, /nslab_trace_/, `a trace table was left in ${netns}`);
  }
}

/** A server in "web" (192.168.1.1) behind "host" (bridge br0 and an uplink to "outside"), port 8080 of the host published to its port 80. */
function publishedLab(): TestNetns {
  const lab = new TestNetns();
  labs.push(lab);
  lab.add('web', 'host', 'outside');
  lab.veth('web', 'eth0', 'host', 'veth-web');
  lab.veth('host', 'uplink', 'outside', 'eth0');
  lab.ip('host', 'link', 'add', 'br0', 'type', 'bridge');
  lab.ip('host', 'link', 'set', 'veth-web', 'master', 'br0');
  lab.ip('host', 'addr', 'add', '192.168.1.254/24', 'dev', 'br0');
  lab.ip('host', 'link', 'set', 'br0', 'up');
  lab.ip('host', 'addr', 'add', '203.0.113.1/24', 'dev', 'uplink');
  lab.exec('host', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  lab.exec('host', 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '192.168.1.1:80');
  lab.ip('web', 'addr', 'add', '192.168.1.1/24', 'dev', 'eth0');
  lab.ip('web', 'route', 'add', 'default', 'via', '192.168.1.254');
  lab.ip('outside', 'addr', 'add', '203.0.113.2/24', 'dev', 'eth0');
  return lab;
}

/** A TCP listener that accepts nothing: the kernel answers the SYN by itself. */
const LISTEN_80 = ['python3', '-c', "import socket,time;s=socket.socket();s.setsockopt(1,2,1);s.bind(('',80));s.listen();print('ready',flush=True);time.sleep(120)"];

describe('TCP to a published port', () => {
  test('the DNAT rewrite at the host on the SYN, the reverse on the SYN-ACK, the rule and the conntrack entry', async () => {
    const lab = publishedLab();
    try {
      await lab.background('web', ...LISTEN_80);
      const r = await pingTrace({ namespaces: lab.namespaces, source: 'outside', destination: '203.0.113.1', proto: 'tcp', port: 8080 });
      assert.equal(r.ok, true, shown(r));
      assert.deepEqual(route(r.hops), [
        'SYN outside:eth0:out',
        'SYN host:uplink:in',
        'SYN host:br0:out dst 203.0.113.1->192.168.1.1 dport 8080->80',
        'SYN host:veth-web:out',
        'SYN web:eth0:in',
        'SYN-ACK web:eth0:out',
        'SYN-ACK host:veth-web:in',
        'SYN-ACK host:br0:in',
        'SYN-ACK host:uplink:out src 192.168.1.1->203.0.113.1 sport 80->8080',
        'SYN-ACK outside:eth0:in',
      ], shown(r));
      const dnat = r.rules?.find((v) => v.node === 'host' && v.chain === 'PREROUTING' && v.table === 'ip nat' && v.rule.includes('DNAT'));
      assert.equal(dnat?.rule, '-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.1:80', shown(r));
      assert.equal(dnat?.type, 'request');
      assert.equal(r.droppedBy, null);
      const entry = r.conntrack?.find((e) => e.node === 'host');
      assert.ok(entry !== undefined, 'the host tracks the connection');
      assert.deepEqual(entry.original, { src: '203.0.113.2', dst: '203.0.113.1', sport: r.flow?.sport, dport: 8080 });
      assert.deepEqual(entry.reply, { src: '192.168.1.1', dst: '203.0.113.2', sport: 80, dport: r.flow?.sport });
      assertNoTraceTable(lab);
    } finally {
      await lab.cleanup();
    }
  });

  test('nobody listening: the reset is the answer, and the cause says so', async () => {
    const lab = publishedLab();
    try {
      const r = await pingTrace({ namespaces: lab.namespaces, source: 'outside', destination: '203.0.113.1', proto: 'tcp', port: 8080 });
      assert.equal(r.ok, false);
      assert.ok(route(r.hops).includes('RST-ACK host:uplink:out src 192.168.1.1->203.0.113.1 sport 80->8080'), shown(r));
      assert.equal(r.cause, 'web refused the connection (it answered the SYN with a reset): nothing listens on tcp 192.168.1.1 port 80');
    } finally {
      await lab.cleanup();
    }
  });
});

/** ns1 behind a MASQUERADE host, and an "internet" namespace that knows no route to 192.168.1.0/24. */
function masqueradeLab(): TestNetns {
  const lab = new TestNetns();
  labs.push(lab);
  lab.add('ns1', 'host', 'internet');
  lab.veth('ns1', 'eth0', 'host', 'eth0');
  lab.veth('host', 'uplink', 'internet', 'eth0');
  lab.ip('host', 'addr', 'add', '192.168.1.254/24', 'dev', 'eth0');
  lab.ip('host', 'addr', 'add', '203.0.113.1/24', 'dev', 'uplink');
  lab.exec('host', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  lab.exec('host', 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '192.168.1.0/24', '-o', 'uplink', '-j', 'MASQUERADE');
  lab.ip('ns1', 'addr', 'add', '192.168.1.1/24', 'dev', 'eth0');
  lab.ip('ns1', 'route', 'add', 'default', 'via', '192.168.1.254');
  lab.ip('internet', 'addr', 'add', '203.0.113.2/24', 'dev', 'eth0');
  return lab;
}

describe('UDP through MASQUERADE', () => {
  test('the source is rewritten on the way out and back on the answer', async () => {
    const lab = masqueradeLab();
    try {
      await lab.background('internet', 'python3', '-c', "import socket;s=socket.socket(2,2);s.bind(('',5353));print('ready',flush=True);[s.sendto(*s.recvfrom(99)) for _ in iter(int,1)]");
      const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '203.0.113.2', proto: 'udp', port: 5353 });
      assert.equal(r.ok, true, shown(r));
      const sport = r.flow?.sport;
      assert.deepEqual(route(r.hops), [
        'UDP ns1:eth0:out',
        'UDP host:eth0:in',
        'UDP host:uplink:out src 192.168.1.1->203.0.113.1',
        'UDP internet:eth0:in',
        'UDP internet:eth0:out',
        'UDP host:uplink:in',
        'UDP host:eth0:out dst 203.0.113.1->192.168.1.1',
        'UDP ns1:eth0:in',
      ], shown(r));
      assert.equal(r.hops[3]?.sport, sport, 'MASQUERADE kept the port');
      const masq = r.rules?.find((v) => v.node === 'host' && v.table === 'ip nat' && v.chain === 'POSTROUTING');
      assert.equal(masq?.rule, '-A POSTROUTING -s 192.168.1.0/24 -o uplink -j MASQUERADE', shown(r));
      const entry = r.conntrack?.find((e) => e.node === 'host' && e.proto === 'udp');
      assert.equal(entry?.original.src, '192.168.1.1');
      assert.equal(entry?.reply.dst, '203.0.113.1');
      assertNoTraceTable(lab);
    } finally {
      await lab.cleanup();
    }
  });

  test('nobody listening: the ICMP port unreachable is the answer', async () => {
    const lab = masqueradeLab();
    try {
      const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '203.0.113.2', proto: 'udp', port: 5353 });
      assert.equal(r.ok, false, shown(r));
      assert.match(r.cause ?? '', /^internet answered with ICMP destination unreachable \(port unreachable\): nothing listens on udp 203\.0\.113\.2 port 5353$/, shown(r));
    } finally {
      await lab.cleanup();
    }
  });
});

/** ns1 - router - ns2 on two subnets. */
function routerLab(): TestNetns {
  const lab = new TestNetns();
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
  lab.exec('router', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  return lab;
}

describe('a router that drops', () => {
  test('a FORWARD DROP rule is named with its node, chain and rule text', async () => {
    const lab = routerLab();
    try {
      lab.exec('router', 'iptables', '-A', 'FORWARD', '-d', '10.0.2.1', '-p', 'tcp', '--dport', '80', '-j', 'DROP');
      const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '10.0.2.1', proto: 'tcp', port: 80, waitSeconds: 1 });
      assert.equal(r.ok, false);
      assert.deepEqual(route(r.hops), ['SYN ns1:eth0:out', 'SYN router:eth0:in'], shown(r));
      assert.equal(r.droppedBy?.node, 'router');
      assert.equal(r.droppedBy?.chain, 'FORWARD');
      assert.equal(r.droppedBy?.rule, '-A FORWARD -d 10.0.2.1/32 -p tcp -m tcp --dport 80 -j DROP');
      assert.equal(r.cause, 'the SYN was dropped in router by the rule "-A FORWARD -d 10.0.2.1/32 -p tcp -m tcp --dport 80 -j DROP" (ip filter, chain FORWARD)');
      assertNoTraceTable(lab);
    } finally {
      await lab.cleanup();
    }
  });

  test('strict rp_filter drops an asymmetric route silently; the model explains it', async () => {
    const lab = routerLab();
    try {
      // The way back to ns1 is (wrongly) out of eth1: packets from ns1 come in on eth0.
      lab.ip('router', 'route', 'add', '10.0.1.1/32', 'dev', 'eth1');
      lab.exec('router', 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=1');
      // ARP requests are reverse-path filtered too: the router never answers ns1's.
      const arp = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '10.0.2.1', waitSeconds: 1 });
      assert.equal(arp.ok, false);
      assert.equal(
        arp.cause,
        'ns1 sent ARP requests for 10.0.1.254 that nobody answered: they reached router on eth0 but strict reverse-path filtering dropped it: the route back to 10.0.1.1 leaves by eth1, not by eth0 where it came in (net.ipv4.conf.all.rp_filter = 1; 2 is loose, 0 is off)',
      );
      // With the router's address known to ns1, the echo itself gets there and is dropped.
      const mac = (JSON.parse(lab.ip('router', '-j', 'link', 'show', 'dev', 'eth0')) as { address: string }[])[0]?.address ?? '';
      lab.ip('ns1', 'neigh', 'replace', '10.0.1.254', 'lladdr', mac, 'dev', 'eth0', 'nud', 'permanent');
      const r = await pingTrace({ namespaces: lab.namespaces, source: 'ns1', destination: '10.0.2.1', waitSeconds: 1 });
      assert.equal(r.ok, false);
      assert.deepEqual(route(r.hops), ['request ns1:eth0:out', 'request router:eth0:in'], shown(r));
      assert.equal(r.droppedBy, null, 'no rule dropped it');
      assert.equal(
        r.cause,
        'the echo request reached router on eth0 but strict reverse-path filtering dropped it: the route back to 10.0.1.1 leaves by eth1, not by eth0 where it came in (net.ipv4.conf.all.rp_filter = 1; 2 is loose, 0 is off)',
      );
    } finally {
      await lab.cleanup();
    }
  });
});

describe('rule tracing', () => {
  test('a monitor that starts listening only after the trace table was added still reports the traced packets', async () => {
    const lab = routerLab();
    try {
      const nft = new NfTrace(lab.namespaces, { proto: 'icmp', family: 4 }, { monitorsLate: true });
      let ready = false;
      let traces: Awaited<ReturnType<NfTrace['stop']>> = [];
      try {
        ready = await nft.start();
        lab.exec('ns1', 'ping', '-c', '1', '-W', '2', '10.0.2.1');
      } finally {
        traces = await nft.stop();
      }
      assert.equal(ready, true, 'every monitor was seen listening');
      const router = traces.find((t) => t.node === 'router');
      assert.ok(router?.lines.some((l) => l.kind === 'packet'), `the router's monitor reported the echo: ${JSON.stringify(router?.lines.slice(0, 5))}`);
      assertNoTraceTable(lab);
    } finally {
      await lab.cleanup();
    }
  });
});
