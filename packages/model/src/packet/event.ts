/**
 * A decoded packet as the rest of nslab sees it, and the questions asked of it:
 * which protocol it is (colour and filter) and which ping echo it belongs to
 * (hop-by-hop tracing).
 */
import type { PacketLayer } from './layer';
import { unreachableLayer } from './layer';
import { decodeLayers } from './registry';
import type { PcapRecord } from './pcap';
import { directionOfPacketType, type PacketDirection } from './sll';
import { summarize } from './summary';
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from './icmp';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST } from './icmpv6';

/** One decoded packet. Only what the bytes say: the server adds the node and interface name. */
export interface PacketEvent {
  /** Capture time, seconds since the epoch (float). */
  time: number;
  /** The pcap link type the bytes were captured with (276 for `tcpdump -i any`). */
  linktype: number;
  /** The interface index in the capture's namespace (SLL2 only), else null. */
  ifindex: number | null;
  /** Which way the packet crossed that interface (SLL/SLL2 only), else null. */
  direction: PacketDirection | null;
  /** Bytes on the wire. */
  length: number;
  /** Bytes captured. */
  caplen: number;
  /** Outermost first; a `truncated` or `unknown` layer, if any, is last. */
  layers: PacketLayer[];
  /** One tcpdump-like line. */
  summary: string;
}

/** A packet as the server streams it: decoded, and placed in the lab. */
export interface NodePacketEvent extends PacketEvent {
  /** The lab node (topology name) whose namespace saw the packet. */
  node: string;
  /** The interface name in that namespace (or "ifindex N" when it vanished before it could be named). */
  interface: string;
}

/** The protocol a packet is coloured and filtered by. */
export type PacketProtocol = 'arp' | 'icmp' | 'icmpv6' | 'tcp' | 'udp' | 'vxlan' | 'ipv4' | 'ipv6' | 'other';

/** Every `PacketProtocol`, for filters and legends. */
export const PACKET_PROTOCOLS: readonly PacketProtocol[] = ['arp', 'icmp', 'icmpv6', 'tcp', 'udp', 'vxlan', 'ipv4', 'ipv6', 'other'];

/** Decodes one pcap record. Never throws, whatever the bytes. */
export function decodePacket(record: Pick<PcapRecord, 'time' | 'linktype' | 'origLen' | 'data'>): PacketEvent {
  const layers = decodeLayers(record.data, record.linktype, record.origLen);
  const link = layers[0];
  let ifindex: number | null = null;
  let direction: PacketDirection | null = null;
  if (link?.kind === 'sll2') {
    ifindex = link.ifindex;
    direction = directionOfPacketType(link.packetType);
  } else if (link?.kind === 'sll') {
    direction = directionOfPacketType(link.packetType);
  }
  return {
    time: record.time,
    linktype: record.linktype,
    ifindex,
    direction,
    length: Math.max(record.origLen, record.data.length),
    caplen: record.data.length,
    layers,
    summary: summarize(layers),
  };
}

/** The top-most protocol of a packet; anything carried in VXLAN is 'vxlan'. */
export function protocolOf(event: Pick<PacketEvent, 'layers'>): PacketProtocol {
  let top: PacketProtocol = 'other';
  for (const layer of event.layers) {
    switch (layer.kind) {
      case 'vxlan':
        return 'vxlan';
      case 'arp':
      case 'icmp':
      case 'icmpv6':
      case 'tcp':
      case 'udp':
      case 'ipv4':
      case 'ipv6':
        top = layer.kind;
        break;
      case 'sll2':
      case 'sll':
      case 'ethernet':
      case 'truncated':
      case 'unknown':
        break;
      default:
        return unreachableLayer(layer);
    }
  }
  return top;
}

/** Which ICMP echo a packet is: the same (id, seq) is the same ping on every hop. */
export interface PingKey {
  id: number;
  seq: number;
  type: 'request' | 'reply';
  family: 4 | 6;
  /** The addresses of the IP header that carries the echo (the innermost one under VXLAN). */
  src: string;
  dst: string;
}

/** The echo a packet carries (the innermost one under VXLAN), or null when it is not an ICMP/ICMPv6 echo. */
export function pingKey(event: Pick<PacketEvent, 'layers'>): PingKey | null {
  const layers = event.layers;
  for (let i = layers.length - 1; i > 0; i -= 1) {
    const layer = layers[i];
    const ip = layers[i - 1];
    if (layer === undefined || ip === undefined) continue;
    if (layer.kind === 'icmp' && ip.kind === 'ipv4' && layer.id !== undefined && layer.seq !== undefined) {
      if (layer.type !== ICMP_ECHO_REQUEST && layer.type !== ICMP_ECHO_REPLY) return null;
      return { id: layer.id, seq: layer.seq, type: layer.type === ICMP_ECHO_REQUEST ? 'request' : 'reply', family: 4, src: ip.src, dst: ip.dst };
    }
    if (layer.kind === 'icmpv6' && ip.kind === 'ipv6' && layer.id !== undefined && layer.seq !== undefined) {
      if (layer.type !== ICMPV6_ECHO_REQUEST && layer.type !== ICMPV6_ECHO_REPLY) return null;
      return { id: layer.id, seq: layer.seq, type: layer.type === ICMPV6_ECHO_REQUEST ? 'request' : 'reply', family: 6, src: ip.src, dst: ip.dst };
    }
  }
  return null;
}
