/**
 * Decoding never throws, whatever the bytes: random garbage, and garbage steered
 * into every decoder through the registry's tables. Decoding of real packets
 * (and truncation of them at every offset) is tested on packets the tests capture
 * themselves, in apps/server/src/capture/decode.test.ts: a pure test has no kernel.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodePacket, pingKey, protocolOf, type PacketEvent } from './event';
import { ipv6Text } from './address-text';
import { tcpFlagLetters } from './tcp';
import type { PacketLayer } from './layer';
import { prng } from './prng';
import { peekIfindex, peekProtocol } from './peek';

function check(event: PacketEvent, what: string): void {
  assert.equal(typeof event.summary, 'string', what);
  assert.ok(event.summary.length > 0, what);
  event.layers.forEach((layer, i) => {
    if ((layer.kind === 'truncated' || layer.kind === 'unknown') && i !== event.layers.length - 1) {
      assert.ok(false, `${what}: a ${layer.kind} layer is not last: ${JSON.stringify(event.layers)}`);
    }
  });
  protocolOf(event);
  pingKey(event);
}

test('random bytes under every link type decode without throwing', () => {
  const rand = prng(42);
  for (const linktype of [1, 113, 276, 0, 12, 65535]) {
    for (let i = 0; i < 3000; i += 1) {
      const data = new Uint8Array(Math.floor(rand() * 160)).map(() => Math.floor(rand() * 256));
      check(decodePacket({ time: 0, linktype, origLen: data.length, data }), `linktype ${linktype} #${i}`);
    }
  }
});

/** Random bytes with the fields that route through the tables set, so every decoder sees garbage. */
test('garbage steered into each decoder (ARP, IPv4, IPv6 and its extension headers, ICMP, TCP, UDP, VXLAN) never throws', () => {
  const rand = prng(7);
  const ethertypes = [0x0800, 0x0806, 0x86dd, 0x8100];
  const protocols = [1, 6, 17, 58, 0, 43, 44, 60, 51, 47];
  for (let i = 0; i < 30000; i += 1) {
    const data = new Uint8Array(14 + Math.floor(rand() * 180)).map(() => Math.floor(rand() * 256));
    const ethertype = ethertypes[i % ethertypes.length] as number;
    data[12] = ethertype >> 8;
    data[13] = ethertype & 0xff;
    if (ethertype === 0x8100) {
      data[16] = 0x08;
      data[17] = 0x00;
    }
    const ip = ethertype === 0x8100 ? 18 : 14;
    const proto = protocols[Math.floor(rand() * protocols.length)] as number;
    if (ethertype === 0x0800 || ethertype === 0x8100) {
      data[ip] = 0x40 | (5 + Math.floor(rand() * 3));
      data[ip + 6] = rand() < 0.8 ? 0 : (data[ip + 6] ?? 0);
      data[ip + 9] = proto;
    } else if (ethertype === 0x86dd) {
      data[ip] = 0x60;
      data[ip + 6] = proto;
    }
    if (rand() < 0.3) {
      // UDP to the VXLAN port: the inner frame is garbage too.
      const l4 = ethertype === 0x86dd ? ip + 40 : ip + 20;
      if (ethertype === 0x86dd) data[ip + 6] = 17;
      else data[ip + 9] = 17;
      data[l4 + 2] = 0x12;
      data[l4 + 3] = 0xb5;
    }
    check(decodePacket({ time: 0, linktype: 1, origLen: data.length + Math.floor(rand() * 50), data }), `steered #${i}`);
  }
});

test('IPv6 addresses are written as RFC 5952 and inet_ntop write them', () => {
  const cases: [number[], string][] = [
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8:0:1::1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], '2001:db8:1:1:1:1:1:1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], '2001:db8:0:1:1:1:1:1'],
    [new Array<number>(16).fill(0), '::'],
    [[...new Array<number>(15).fill(0), 1], '::1'],
    [[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x42, 0xac, 0xff, 0xfe, 0x11, 0, 2], 'fe80::242:acff:fe11:2'],
    [[0xff, 0x02, ...new Array<number>(9).fill(0), 1, 0xff, 0, 0, 2], 'ff02::1:ff00:2'],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1], '::ffff:192.0.2.1'],
  ];
  for (const [bytes, text] of cases) assert.equal(ipv6Text(new Uint8Array(bytes), 0), text);
});

test('TCP flags read as tcpdump prints them', () => {
  assert.equal(tcpFlagLetters(['SYN']), 'S');
  assert.equal(tcpFlagLetters(['ACK', 'SYN']), 'S.');
  assert.equal(tcpFlagLetters(['PSH', 'ACK']), 'P.');
  assert.equal(tcpFlagLetters(['FIN', 'ACK']), 'F.');
  assert.equal(tcpFlagLetters(['RST']), 'R');
  assert.equal(tcpFlagLetters([]), 'none');
});

test('protocolOf names VXLAN for anything carried in it, else the top-most decoded layer', () => {
  const ip: PacketLayer = { kind: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', ttl: 64, protocol: 17, id: 1, length: 100, headerLength: 20, dontFragment: true, moreFragments: false, fragmentOffset: 0 };
  const udp: PacketLayer = { kind: 'udp', srcPort: 1, dstPort: 4789, length: 80, payloadLength: 72 };
  const echo: PacketLayer = { kind: 'icmp', type: 8, code: 0, name: 'echo request', id: 9, seq: 3, length: 64 };
  const inner: PacketLayer = { ...ip, src: '172.16.0.1', dst: '172.16.0.2', protocol: 1 };
  assert.equal(protocolOf({ layers: [ip, udp] }), 'udp');
  assert.equal(protocolOf({ layers: [ip, { kind: 'truncated', protocol: 'tcp', need: 20, have: 3 }] }), 'ipv4');
  assert.equal(protocolOf({ layers: [{ kind: 'unknown', protocol: 'ethertype 0x88cc', length: 40 }] }), 'other');
  const vx: PacketLayer[] = [ip, udp, { kind: 'vxlan', vni: 42, flags: 8 }, { kind: 'ethernet', src: 'a', dst: 'b', ethertype: 0x800, vlan: null }, inner, echo];
  assert.equal(protocolOf({ layers: vx }), 'vxlan');
  assert.deepEqual(pingKey({ layers: vx }), { id: 9, seq: 3, type: 'request', family: 4, src: '172.16.0.1', dst: '172.16.0.2' });
  assert.equal(pingKey({ layers: [ip, udp] }), null);
});

/** Garbage steered into IPv4, ICMP, TCP, UDP and VXLAN behind an SLL2 or an Ethernet header, as a capture's frames. */
function steeredFrame(rand: () => number, linktype: 1 | 276): Uint8Array {
  const link = linktype === 276 ? 20 : 14;
  const data = new Uint8Array(link + (rand() < 0.2 ? Math.floor(rand() * 40) : 40 + Math.floor(rand() * 80))).map(() => Math.floor(rand() * 256));
  const ethertype = rand() < 0.85 ? 0x0800 : [0x0806, 0x86dd, 0x8100][Math.floor(rand() * 3)] as number;
  const at = linktype === 276 ? 0 : 12;
  data[at] = ethertype >> 8;
  data[at + 1] = ethertype & 0xff;
  if (ethertype === 0x0800 && data.length > link + 20) {
    data[link] = rand() < 0.9 ? 0x45 : Math.floor(rand() * 256);
    if (rand() < 0.8) data[link + 6] = 0x40;
    if (rand() < 0.8) data[link + 7] = 0;
    if (rand() < 0.8) {
      const total = data.length - link - Math.floor(rand() * 4);
      data[link + 2] = total >> 8;
      data[link + 3] = total & 0xff;
    }
    data[link + 9] = [1, 6, 17, 2][Math.floor(rand() * 4)] as number;
    const l4 = link + ((data[link] ?? 0) & 0x0f) * 4;
    if (data[link + 9] === 1 && rand() < 0.5) data[l4] = rand() < 0.5 ? 8 : 0;
    if (data[link + 9] === 6 && rand() < 0.8) data[l4 + 12] = 0x50;
    if (data[link + 9] === 17 && rand() < 0.2) {
      data[l4 + 2] = 0x12;
      data[l4 + 3] = 0xb5;
    }
  }
  return data;
}

test('the peek at a frame (interface index, protocol) says what the full decode says, or nothing', () => {
  const rand = prng(2026);
  let answered = 0;
  const total = 40_000;
  for (let i = 0; i < total; i += 1) {
    const linktype = i % 2 === 0 ? 276 : 1;
    const data = steeredFrame(rand, linktype);
    const event = decodePacket({ time: 0, linktype, origLen: data.length, data });
    assert.equal(peekIfindex(data, linktype), event.ifindex, `ifindex of frame #${i}`);
    const peeked = peekProtocol(data, linktype);
    if (peeked === undefined) continue;
    answered += 1;
    assert.equal(peeked, protocolOf(event), `protocol of frame #${i}: ${JSON.stringify(event.layers)}`);
  }
  // Most of these frames are plain IPv4 with whole headers: the peek must answer for them, or it saves nothing.
  assert.ok(answered > total / 4, `the peek answered for only ${answered} of ${total} frames`);
});
