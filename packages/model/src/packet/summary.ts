/**
 * The one-line summary of a packet, worded like tcpdump's so that what a learner
 * reads on the canvas matches what they see in a terminal:
 * "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 5, seq 1, length 64".
 * Differences from tcpdump: no link-layer prefix, absolute TCP sequence numbers
 * (tcpdump -S), no TCP options or application decoding, and VXLAN as a prefix
 * ("VXLAN vni 42: <inner>") instead of a second line.
 */
import type { ArpLayer } from './arp';
import type { IcmpLayer } from './icmp';
import type { Icmpv6Layer } from './icmpv6';
import { ICMPV6_NEIGHBOR_SOLICITATION } from './icmpv6';
import type { Ipv4Layer } from './ipv4';
import type { Ipv6Layer } from './ipv6';
import type { PacketLayer } from './layer';
import { unreachableLayer } from './layer';
import type { TcpLayer } from './tcp';
import { tcpFlagLetters } from './tcp';

/** The tcpdump-like summary line of a packet's layers (outermost first). */
export function summarize(layers: readonly PacketLayer[]): string {
  return describeFrom(layers, 0);
}

function describeFrom(layers: readonly PacketLayer[], i: number): string {
  const layer = layers[i];
  if (layer === undefined) return 'empty frame';
  switch (layer.kind) {
    case 'sll2':
    case 'sll':
      return i + 1 < layers.length ? describeFrom(layers, i + 1) : `ethertype ${hex4(layer.protocol)}`;
    case 'ethernet':
      return i + 1 < layers.length
        ? describeFrom(layers, i + 1)
        : `${layer.src} > ${layer.dst}, ethertype ${hex4(layer.ethertype)}`;
    case 'arp':
      return arpText(layer);
    case 'ipv4':
    case 'ipv6':
      return ipText(layer, layers, i);
    case 'icmp':
    case 'icmpv6':
    case 'tcp':
    case 'udp':
      return transportText(layer, '?', '?', 'IP', layers, i); // never outside IP, but garbage is possible in principle
    case 'vxlan':
      return `VXLAN vni ${layer.vni}: ${describeFrom(layers, i + 1)}`;
    case 'truncated':
      return `[truncated ${layer.protocol}: ${layer.have} of ${layer.need} bytes]`;
    case 'unknown':
      return `${layer.protocol}, length ${layer.length}`;
    default:
      return unreachableLayer(layer);
  }
}

function arpText(a: ArpLayer): string {
  switch (a.operation) {
    case 'request':
      return `ARP, Request who-has ${a.targetIp} tell ${a.senderIp}, length ${a.length}`;
    case 'reply':
      return `ARP, Reply ${a.senderIp} is-at ${a.senderMac}, length ${a.length}`;
    case 'other':
      return `ARP, opcode ${a.opcode}, ${a.senderIp} > ${a.targetIp}, length ${a.length}`;
    default:
      return unreachableLayer(a.operation);
  }
}

function ipText(ip: Ipv4Layer | Ipv6Layer, layers: readonly PacketLayer[], i: number): string {
  const family = ip.kind === 'ipv4' ? 'IP' : 'IP6';
  const payloadLength = ip.kind === 'ipv4' ? ip.length - ip.headerLength : ip.payloadLength;
  if (i + 1 >= layers.length) {
    const what = ip.fragmentOffset > 0 ? `fragment at offset ${ip.fragmentOffset}` : `ip-proto ${ip.kind === 'ipv4' ? ip.protocol : ip.nextHeader}`;
    return `${family} ${ip.src} > ${ip.dst}: ${what}, length ${payloadLength}`;
  }
  return transportText(layers[i + 1] as PacketLayer, ip.src, ip.dst, family, layers, i + 1);
}

function transportText(t: PacketLayer, src: string, dst: string, family: string, layers: readonly PacketLayer[], i: number): string {
  switch (t.kind) {
    case 'icmp':
      return `${family} ${src} > ${dst}: ICMP ${t.name}${echoText(t)}, length ${t.length}`;
    case 'icmpv6':
      return `${family} ${src} > ${dst}: ICMP6, ${t.name}${echoText(t)}${targetText(t)}, length ${t.length}`;
    case 'tcp':
      return `${family} ${src}.${t.srcPort} > ${dst}.${t.dstPort}: ${tcpText(t)}`;
    case 'udp':
      if (layers[i + 1]?.kind === 'vxlan') return describeFrom(layers, i + 1);
      return `${family} ${src}.${t.srcPort} > ${dst}.${t.dstPort}: UDP, length ${t.payloadLength}`;
    case 'truncated':
      return `${family} ${src} > ${dst}: [truncated ${t.protocol}: ${t.have} of ${t.need} bytes]`;
    case 'unknown':
      return `${family} ${src} > ${dst}: ${t.protocol}, length ${t.length}`;
    case 'sll2':
    case 'sll':
    case 'ethernet':
    case 'arp':
    case 'ipv4':
    case 'ipv6':
    case 'vxlan':
      return `${family} ${src} > ${dst}: ${describeFrom(layers, i)}`;
    default:
      return unreachableLayer(t);
  }
}

function echoText(t: IcmpLayer | Icmpv6Layer): string {
  return t.id !== undefined && t.seq !== undefined ? `, id ${t.id}, seq ${t.seq}` : '';
}

function targetText(t: Icmpv6Layer): string {
  if (t.target === undefined) return '';
  return t.type === ICMPV6_NEIGHBOR_SOLICITATION ? `, who has ${t.target}` : `, tgt is ${t.target}`;
}

function tcpText(t: TcpLayer): string {
  const seq = t.payloadLength > 0 ? `${t.seq}:${(t.seq + t.payloadLength) % 2 ** 32}` : `${t.seq}`;
  const ack = t.flags.includes('ACK') ? `, ack ${t.ack}` : '';
  return `Flags [${tcpFlagLetters(t.flags)}], seq ${seq}${ack}, win ${t.window}, length ${t.payloadLength}`;
}

function hex4(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}
