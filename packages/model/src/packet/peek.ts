/**
 * What a capture must know of every packet without decoding it: the interface index
 * it was seen on and its protocol, read straight from the bytes with no allocation.
 * Under a flood most packets are only counted (capture/limiter.ts), so the full
 * decode (layers, address strings, the summary line) is paid only for the ones a
 * client is sent. Each answer equals what `decodePacket` and `protocolOf` give
 * (decode.test.ts checks it on garbage steered through every decoder); where the
 * bytes leave any doubt the peek answers undefined and the caller decodes.
 */
import { u16, u32 } from './bytes';
import type { PacketProtocol } from './event';
import { LINKTYPE_ETHERNET } from './ethernet';
import { LINKTYPE_LINUX_SLL2 } from './sll2';
import { VXLAN_UDP_PORTS } from './vxlan';

/** SLL2's header length, and where its ethertype and ifindex sit (sll2.ts). */
const SLL2_HEADER = 20;
const ETHERNET_HEADER = 14;

/**
 * The interface index an SLL2 frame names, as `decodePacket(...).ifindex` gives it; null for other link types.
 * The frame is `bytes` from `start` to `end` (a record inside a chunk read from a pipe: no view made per packet).
 */
export function peekIfindex(bytes: Uint8Array, linktype: number, start = 0, end = bytes.length): number | null {
  return linktype === LINKTYPE_LINUX_SLL2 && end - start >= SLL2_HEADER ? u32(bytes, start + 4) : null;
}

/**
 * `protocolOf(decodePacket(frame))` for the frames a lab is full of (IPv4 carrying
 * ICMP, TCP or UDP behind SLL2 or Ethernet, with whole headers); undefined for
 * anything else (ARP, IPv6, VLAN tags, fragments, VXLAN, truncated or odd headers).
 * The frame is `bytes` from `start` to `end`, as for peekIfindex.
 */
export function peekProtocol(bytes: Uint8Array, linktype: number, start = 0, end = bytes.length): PacketProtocol | undefined {
  let at: number;
  let ethertype: number;
  if (linktype === LINKTYPE_LINUX_SLL2) {
    if (end - start < SLL2_HEADER) return undefined;
    ethertype = u16(bytes, start);
    at = start + SLL2_HEADER;
  } else if (linktype === LINKTYPE_ETHERNET) {
    if (end - start < ETHERNET_HEADER) return undefined;
    ethertype = u16(bytes, start + 12);
    at = start + ETHERNET_HEADER;
  } else {
    return undefined;
  }
  if (ethertype !== 0x0800) return undefined;
  if (end - at < 20) return undefined;
  const first = bytes[at] ?? 0;
  const headerLength = (first & 0x0f) * 4;
  if (first >> 4 !== 4 || headerLength < 20 || end - at < headerLength) return undefined;
  if ((u16(bytes, at + 6) & 0x1fff) !== 0) return undefined;
  const declared = u16(bytes, at + 2);
  const ipEnd = Math.min(end, at + (declared >= headerLength ? declared : end - at));
  const l4 = at + headerLength;
  const have = ipEnd - l4;
  switch (bytes[at + 9]) {
    case 1: {
      if (have < 4) return undefined;
      const type = bytes[l4] ?? 0;
      return (type === 0 || type === 8) && have < 8 ? undefined : 'icmp';
    }
    case 6:
      return have >= 20 && (bytes[l4 + 12] ?? 0) >> 4 >= 5 ? 'tcp' : undefined;
    case 17:
      return have >= 8 && !VXLAN_UDP_PORTS.includes(u16(bytes, l4 + 2)) ? 'udp' : undefined;
    default:
      return undefined;
  }
}
