/**
 * The decoder on real bytes: traffic the test itself generates in throwaway
 * namespaces (ARP, ICMP, ICMPv6 with neighbour discovery, TCP to an HTTP server,
 * UDP, VXLAN), captured with the capture engine, checked layer by layer, checked
 * line by line against tcpdump's own reading of the same bytes, and then cut at
 * every byte offset and corrupted at every byte (decoding must never throw).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePacket, PcapStreamParser, pingKey, protocolOf, type NodePacketEvent, type PacketLayer, type PcapRecord } from '@nslab/model';
import { NetnsCapture, type CaptureEvent } from './capture';
import { leftoverChildren, TestNetns } from '../../test-kit/netns';

const lab = new TestNetns();
const events: NodePacketEvent[] = [];
let records: PcapRecord[] = [];
let tcpdumpLines: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'nslab-decode-'));

/** Node code run inside a namespace: an HTTP server that says "ready" once listening. */
const HTTP_SERVER = `require('http').createServer((q, s) => s.end('hello from b\\n')).listen(8080, '10.0.0.2', () => console.log('ready'))`;
/** Node code run inside a namespace: one 12-byte UDP datagram to 10.0.0.2:9999 (nothing listens: b answers port unreachable). */
const UDP_SEND = `const s = require('dgram').createSocket('udp4'); s.send(Buffer.from('hello nslab!'), 9999, '10.0.0.2', () => s.close())`;

before(async () => {
  lab.add('a', 'b');
  lab.veth('a', 'eth0', 'b', 'eth0');
  lab.ip('a', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0');
  lab.ip('b', 'addr', 'add', '10.0.0.2/24', 'dev', 'eth0');
  lab.ip('a', 'addr', 'add', 'fd00::1/64', 'dev', 'eth0', 'nodad');
  lab.ip('b', 'addr', 'add', 'fd00::2/64', 'dev', 'eth0', 'nodad');
  for (const [node, peer, overlay] of [['a', '10.0.0.2', '172.16.0.1/24'], ['b', '10.0.0.1', '172.16.0.2/24']] as const) {
    lab.ip(node, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'remote', peer, 'dstport', '4789', 'dev', 'eth0');
    lab.ip(node, 'addr', 'add', overlay, 'dev', 'vx0');
    lab.ip(node, 'link', 'set', 'vx0', 'up');
  }
  await lab.background('b', process.execPath, '-e', HTTP_SERVER);

  const capture = new NetnsCapture(lab.name('a'), 'a', { immediate: true });
  capture.subscribe((e: CaptureEvent) => {
    if (e.kind === 'packet') events.push(e.packet.event);
  });
  await capture.start();
  try {
    // vx0 coming up in b already taught a b's MAC (an encapsulated IPv6 packet needs ARP): forget it to see ARP.
    lab.ip('a', 'neigh', 'flush', 'dev', 'eth0');
    lab.exec('a', 'ping', '-c', '2', '-i', '0.2', '-W', '2', '10.0.0.2');
    lab.exec('a', 'ping', '-c', '1', '-W', '2', 'fd00::2');
    lab.exec('a', 'curl', '-s', '--max-time', '5', 'http://10.0.0.2:8080/');
    lab.exec('a', process.execPath, '-e', UDP_SEND);
    lab.exec('a', 'ping', '-c', '1', '-W', '2', '172.16.0.2');
    // The last echo's reply reaches the listener a moment after ping has it: wait for it, not for a fixed time.
    const deadline = Date.now() + 10_000;
    while (!events.some((e) => e.summary.includes('172.16.0.2 > ') && /echo reply/i.test(e.summary)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await capture.stop();
  }
  const file = join(dir, 'a.pcap');
  writeFileSync(file, capture.exportPcap());
  records = new PcapStreamParser().push(capture.exportPcap());
  // Read inside a's namespace: SLL2 records carry an ifindex, which tcpdump names with the reader's own interfaces.
  const text = execFileSync('ip', ['netns', 'exec', lab.name('a'), 'tcpdump', '-r', file, '-n', '-tt'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  // One packet per line, except that tcpdump prints what VXLAN carries on a line of its own: join those.
  tcpdumpLines = text.trim().split('\n').reduce<string[]>((lines, line) => {
    if (/^\d+\.\d+ /.test(line) || lines.length === 0) lines.push(line);
    else lines[lines.length - 1] += ` / ${line.trim()}`;
    return lines;
  }, []);
});

after(async () => {
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(lab.leftovers(), [], 'test namespaces left behind');
  assert.deepEqual(leftoverChildren(), [], 'tcpdump or zombie processes left behind');
});

const kinds = (e: NodePacketEvent) => e.layers.map((l) => l.kind).join(' ');
const find = (what: string, pred: (e: NodePacketEvent) => boolean): NodePacketEvent => {
  const e = events.find(pred);
  assert.ok(e, `no ${what} among ${events.length} packets:\n${events.map((x) => `${x.interface} ${x.direction} ${x.summary}`).join('\n')}`);
  return e;
};
const layer = <K extends PacketLayer['kind']>(e: NodePacketEvent, kind: K) => e.layers.find((l): l is Extract<PacketLayer, { kind: K }> => l.kind === kind);

test('ARP: who-has out of eth0 and the reply in', () => {
  const req = find('ARP request', (e) => layer(e, 'arp')?.operation === 'request' && layer(e, 'arp')?.targetIp === '10.0.0.2');
  assert.equal(req.summary, 'ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28');
  assert.equal(req.node, 'a');
  assert.equal(req.interface, 'eth0');
  assert.equal(req.direction, 'out');
  assert.equal(kinds(req), 'sll2 arp');
  assert.equal(protocolOf(req), 'arp');
  const reply = find('ARP reply', (e) => layer(e, 'arp')?.operation === 'reply' && layer(e, 'arp')?.senderIp === '10.0.0.2');
  assert.equal(reply.direction, 'in');
  assert.match(reply.summary, /^ARP, Reply 10\.0\.0\.2 is-at ([0-9a-f]{2}:){5}[0-9a-f]{2}, length 28$/);
  assert.equal(layer(reply, 'arp')?.senderMac, layer(reply, 'sll2')?.address);
});

test('ICMP echo: request out, reply in, same id and seq, pingKey', () => {
  const req = find('echo request', (e) => layer(e, 'icmp')?.type === 8 && layer(e, 'ipv4')?.dst === '10.0.0.2');
  assert.equal(kinds(req), 'sll2 ipv4 icmp');
  assert.match(req.summary, /^IP 10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo request, id \d+, seq 1, length 64$/);
  assert.equal(req.direction, 'out');
  const ip = layer(req, 'ipv4');
  assert.equal(ip?.ttl, 64);
  assert.equal(ip?.protocol, 1);
  assert.equal(ip?.length, 84);
  const key = pingKey(req);
  assert.equal(key?.type, 'request');
  const reply = find('echo reply', (e) => pingKey(e)?.type === 'reply' && pingKey(e)?.id === key?.id && pingKey(e)?.seq === 1 && pingKey(e)?.family === 4 && layer(e, 'vxlan') === undefined);
  assert.equal(reply.direction, 'in');
  assert.equal(reply.interface, 'eth0');
  assert.ok(events.some((e) => pingKey(e)?.seq === 2 && pingKey(e)?.id === key?.id), 'the second echo (seq 2) is there too');
});

test('ICMPv6: neighbour solicitation and advertisement, echo request and reply', () => {
  const ns = find('neighbor solicitation', (e) => layer(e, 'icmpv6')?.type === 135 && layer(e, 'icmpv6')?.target === 'fd00::2');
  assert.match(ns.summary, /^IP6 fd00::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has fd00::2, length 32$/);
  const na = find('neighbor advertisement', (e) => layer(e, 'icmpv6')?.type === 136 && layer(e, 'icmpv6')?.target === 'fd00::2');
  assert.equal(na.direction, 'in');
  const req = find('echo6 request', (e) => pingKey(e)?.family === 6 && pingKey(e)?.type === 'request');
  assert.equal(kinds(req), 'sll2 ipv6 icmpv6');
  assert.match(req.summary, /^IP6 fd00::1 > fd00::2: ICMP6, echo request, id \d+, seq 1, length 64$/);
  assert.equal(layer(req, 'ipv6')?.hopLimit, 64);
  assert.equal(protocolOf(req), 'icmpv6');
  find('echo6 reply', (e) => pingKey(e)?.family === 6 && pingKey(e)?.type === 'reply' && e.direction === 'in');
});

test('IPv6 extension headers are skipped: MLD reports carry hop-by-hop options', () => {
  const mld = events.find((e) => (layer(e, 'ipv6')?.extensions ?? []).includes(0));
  if (mld === undefined) return; // MLD is sent when an interface comes up, which may be before the capture started
  assert.equal(layer(mld, 'ipv6')?.nextHeader, 58);
  assert.equal(layer(mld, 'icmpv6')?.type, 143);
});

test('TCP: the handshake, the request and its payload length, ports and flags', () => {
  const syn = find('SYN', (e) => layer(e, 'tcp')?.dstPort === 8080 && layer(e, 'tcp')?.flags.join() === 'SYN');
  assert.equal(kinds(syn), 'sll2 ipv4 tcp');
  assert.match(syn.summary, /^IP 10\.0\.0\.1\.\d+ > 10\.0\.0\.2\.8080: Flags \[S\], seq \d+, win \d+, length 0$/);
  const synAck = find('SYN-ACK', (e) => layer(e, 'tcp')?.srcPort === 8080 && layer(e, 'tcp')?.flags.join() === 'SYN,ACK');
  assert.match(synAck.summary, /Flags \[S\.\], seq \d+, ack \d+, win \d+, length 0$/);
  assert.equal(layer(synAck, 'tcp')?.ack, ((layer(syn, 'tcp')?.seq ?? 0) + 1) % 2 ** 32);
  const get = find('HTTP request', (e) => layer(e, 'tcp')?.dstPort === 8080 && (layer(e, 'tcp')?.payloadLength ?? 0) > 0);
  assert.ok(layer(get, 'tcp')?.flags.includes('PSH'));
  assert.match(get.summary, /Flags \[P\.\], seq \d+:\d+, ack \d+, win \d+, length \d+$/);
  assert.equal(protocolOf(get), 'tcp');
  find('FIN', (e) => layer(e, 'tcp')?.flags.includes('FIN') === true);
});

test('UDP: ports and payload length; the port-unreachable answer is ICMP', () => {
  const udp = find('UDP datagram', (e) => layer(e, 'udp')?.dstPort === 9999);
  assert.equal(kinds(udp), 'sll2 ipv4 udp');
  assert.match(udp.summary, /^IP 10\.0\.0\.1\.\d+ > 10\.0\.0\.2\.9999: UDP, length 12$/);
  assert.equal(protocolOf(udp), 'udp');
  const unreachable = find('port unreachable', (e) => layer(e, 'icmp')?.type === 3);
  assert.equal(layer(unreachable, 'icmp')?.code, 3);
  assert.match(unreachable.summary, /ICMP destination unreachable \(port unreachable\)/);
});

test('VXLAN: the overlay ping, encapsulated on eth0 and plain on vx0', () => {
  const outer = find('VXLAN echo on eth0', (e) => e.interface === 'eth0' && layer(e, 'vxlan') !== undefined && pingKey(e)?.type === 'request');
  assert.equal(kinds(outer), 'sll2 ipv4 udp vxlan ethernet ipv4 icmp');
  assert.equal(layer(outer, 'vxlan')?.vni, 42);
  assert.equal(layer(outer, 'udp')?.dstPort, 4789);
  assert.match(outer.summary, /^VXLAN vni 42: IP 172\.16\.0\.1 > 172\.16\.0\.2: ICMP echo request, id \d+, seq 1, length 64$/);
  assert.equal(protocolOf(outer), 'vxlan');
  const key = pingKey(outer);
  assert.equal(key?.src, '172.16.0.1');
  const inner = find('echo on vx0', (e) => e.interface === 'vx0' && pingKey(e)?.type === 'request' && pingKey(e)?.id === key?.id);
  assert.equal(kinds(inner), 'sll2 ipv4 icmp');
  assert.equal(inner.direction, 'out');
  assert.ok(inner.time < outer.time, 'vx0 sees the echo before eth0 carries it');
  find('VXLAN ARP', (e) => layer(e, 'vxlan') !== undefined && layer(e, 'arp') !== undefined);
});

test('every packet agrees with tcpdump: interface, direction, and the summary where the wording is shared', () => {
  assert.equal(tcpdumpLines.length, events.length, 'tcpdump -r reads as many packets as were decoded');
  events.forEach((e, i) => {
    const line = tcpdumpLines[i] as string;
    const [, iface, dir] = line.split(/\s+/);
    assert.equal(iface, e.interface, line);
    assert.equal(dir === 'Out' ? 'out' : 'in', e.direction, line);
    // tcpdump prints VXLAN's payload after the outer line ("... vni 42 / <inner>"); nslab as "VXLAN vni 42: <inner>".
    const vx = layer(e, 'vxlan');
    const expected = vx === undefined ? e.summary : `vni ${vx.vni} / ${e.summary.slice(`VXLAN vni ${vx.vni}: `.length)}`;
    const shared =
      layer(e, 'arp') !== undefined ||
      pingKey(e) !== null ||
      layer(e, 'icmpv6')?.target !== undefined ||
      layer(e, 'udp')?.dstPort === 9999;
    if (shared) assert.ok(line.endsWith(expected), `tcpdump: ${line}\nnslab:   ${e.summary}`);
  });
});

test('the exported pcap decodes to the same events', () => {
  assert.equal(records.length, events.length);
  records.forEach((r, i) => {
    const d = decodePacket(r);
    assert.equal(d.summary, events[i]?.summary);
    assert.equal(d.time, events[i]?.time);
  });
});

test('real packets cut at every byte offset, or with any one byte corrupted, decode without throwing', () => {
  const samples = new Map<string, PcapRecord>();
  records.forEach((r, i) => {
    const e = events[i] as NodePacketEvent;
    const k = kinds(e) + (layer(e, 'tcp')?.payloadLength ? ' payload' : '');
    if (!samples.has(k)) samples.set(k, r);
  });
  assert.ok(samples.size >= 8, `kinds sampled: ${[...samples.keys()].join(' | ')}`);
  for (const [k, r] of samples) {
    const full = decodePacket(r);
    for (let cut = 0; cut <= r.data.length; cut += 1) {
      const e = decodePacket({ ...r, data: r.data.subarray(0, cut) });
      const last = e.layers[e.layers.length - 1];
      assert.ok(e.summary.length > 0, `${k} cut at ${cut}`);
      if (cut < r.data.length && e.layers.length < full.layers.length) {
        assert.ok(last?.kind === 'truncated', `${k} cut at ${cut}: ${JSON.stringify(e.layers)}`);
      }
    }
    for (let at = 0; at < r.data.length; at += 1) {
      for (const flip of [0xff, 0x80, 0x01]) {
        const data = r.data.slice();
        data[at] = (data[at] as number) ^ flip;
        decodePacket({ ...r, data });
      }
    }
  }
});
