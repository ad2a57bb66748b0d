/**
 * The one table of layer decoders: which decoder handles which link type,
 * ethertype, IP protocol and UDP port, and the loop that walks a packet through
 * them. Adding a protocol is one file plus one line here.
 */
import type { LayerDecoder, NextLayer, PacketLayer } from './layer';
import { arp } from './arp';
import { ethernet, LINKTYPE_ETHERNET } from './ethernet';
import { icmp } from './icmp';
import { icmpv6 } from './icmpv6';
import { ipv4 } from './ipv4';
import { ipv6 } from './ipv6';
import { sll, LINKTYPE_LINUX_SLL } from './sll';
import { sll2, LINKTYPE_LINUX_SLL2 } from './sll2';
import { tcp } from './tcp';
import { udp } from './udp';
import { vxlan, VXLAN_UDP_PORTS } from './vxlan';

/** Link types (tcpdump.org/linktypes.html). */
const LINKTYPES: ReadonlyMap<number, LayerDecoder> = new Map([
  [LINKTYPE_ETHERNET, ethernet],
  [LINKTYPE_LINUX_SLL, sll],
  [LINKTYPE_LINUX_SLL2, sll2],
]);

/** Ethertypes (IEEE registry): 0x0800 IPv4, 0x0806 ARP, 0x86dd IPv6. */
const ETHERTYPES: ReadonlyMap<number, LayerDecoder> = new Map([
  [0x0800, ipv4],
  [0x0806, arp],
  [0x86dd, ipv6],
]);

/** IP protocol numbers (IANA "Assigned Internet Protocol Numbers"): 1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6. */
const IP_PROTOCOLS: ReadonlyMap<number, LayerDecoder> = new Map([
  [1, icmp],
  [6, tcp],
  [17, udp],
  [58, icmpv6],
]);

/** UDP destination ports whose payload nslab decodes. */
const UDP_PORTS: ReadonlyMap<number, LayerDecoder> = new Map(VXLAN_UDP_PORTS.map((port) => [port, vxlan]));

/** A bound on layers per packet, so that VXLAN in VXLAN in ... garbage cannot loop for long. */
const MAX_LAYERS = 24;

/** Words for a value nslab has no decoder for, as tcpdump would name it. */
function unknownName(next: NextLayer): string | null {
  switch (next.space) {
    case 'linktype':
      return `linktype ${next.value}`;
    case 'ethertype':
      return `ethertype 0x${next.value.toString(16).padStart(4, '0')}`;
    case 'ipproto':
      return `ip-proto ${next.value}`;
    case 'udpport':
      return null; // an ordinary UDP payload, not an unknown layer
    default:
      return unreachableSpace(next.space);
  }
}

function unreachableSpace(value: never): never {
  throw new Error(`unhandled next-layer space: ${String(value)}`);
}

function lookup(next: NextLayer): LayerDecoder | undefined {
  switch (next.space) {
    case 'linktype':
      return LINKTYPES.get(next.value);
    case 'ethertype':
      return ETHERTYPES.get(next.value);
    case 'ipproto':
      return IP_PROTOCOLS.get(next.value);
    case 'udpport':
      return UDP_PORTS.get(next.value);
    default:
      return unreachableSpace(next.space);
  }
}

/**
 * Decodes the layers of one captured frame, outermost first. Never throws: the
 * first layer that cannot be decoded is recorded as `truncated` or `unknown` and
 * decoding stops there. `length` is the frame's length on the wire.
 */
export function decodeLayers(bytes: Uint8Array, linktype: number, length = bytes.length): PacketLayer[] {
  const layers: PacketLayer[] = [];
  let next: NextLayer = { space: 'linktype', value: linktype };
  let start = 0;
  let end = bytes.length;
  let declared = Math.max(length, end);
  while (layers.length < MAX_LAYERS) {
    const decoder = lookup(next);
    if (decoder === undefined) {
      const protocol = unknownName(next);
      if (protocol !== null) layers.push({ kind: 'unknown', protocol, length: end - start });
      break;
    }
    if (end - start < decoder.minLength) {
      layers.push({ kind: 'truncated', protocol: decoder.name, need: decoder.minLength, have: Math.max(0, end - start) });
      break;
    }
    const step = decoder.decode(bytes, start, end, declared);
    layers.push(step.layer);
    if (step.trailer !== undefined) layers.push(step.trailer);
    if (step.next === null || step.trailer !== undefined) break;
    next = step.next;
    start = step.payload;
    end = step.end;
    declared = step.length;
  }
  return layers;
}
