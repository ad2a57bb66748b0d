/**
 * LINUX_SLL (linktype 113), the "cooked" link layer libpcap used for `-i any`
 * before SLL2: no Ethernet header, but the kernel's packet type (which way the
 * packet went) and the sender's link-layer address.
 * Layout: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
 */
import { u16 } from './bytes';
import { macText } from './address-text';
import type { LayerDecoder } from './layer';

/** libpcap's LINKTYPE_LINUX_SLL (tcpdump.org/linktypes.html). */
export const LINKTYPE_LINUX_SLL = 113;

/** SLL header: packet type 2, ARPHRD type 2, address length 2, address 8, protocol 2. */
const SLL_HEADER_LENGTH = 16;

/** The kernel's PACKET_* packet types (linux/if_packet.h), by name. */
export type SllPacketType =
  | 'host'
  | 'broadcast'
  | 'multicast'
  | 'otherhost'
  | 'outgoing'
  | 'loopback'
  | 'user'
  | 'kernel'
  | 'other';

/** Which way a packet crossed the interface it was captured on. */
export type PacketDirection = 'in' | 'out';

/** PACKET_HOST 0 .. PACKET_KERNEL 7, in the order linux/if_packet.h numbers them. */
const PACKET_TYPES: readonly SllPacketType[] = ['host', 'broadcast', 'multicast', 'otherhost', 'outgoing', 'loopback', 'user', 'kernel'];

/** The name of a PACKET_* number. */
export function sllPacketType(value: number): SllPacketType {
  return PACKET_TYPES[value] ?? 'other';
}

/**
 * The direction of a packet type: everything the interface received (for us, to
 * another host as a bridge port sees it, broadcast, multicast) is 'in'; only
 * PACKET_OUTGOING is 'out'. PACKET_LOOPBACK (a multicast looped back to ourselves)
 * is received, so 'in'.
 */
export function directionOfPacketType(type: SllPacketType): PacketDirection | null {
  switch (type) {
    case 'host':
    case 'broadcast':
    case 'multicast':
    case 'otherhost':
    case 'loopback':
      return 'in';
    case 'outgoing':
      return 'out';
    case 'user':
    case 'kernel':
    case 'other':
      return null;
    default:
      return unreachablePacketType(type);
  }
}

function unreachablePacketType(value: never): never {
  throw new Error(`unhandled SLL packet type: ${String(value)}`);
}

/** The decoded SLL header. `address` is the sender's link-layer address. */
export interface SllLayer {
  kind: 'sll';
  packetType: SllPacketType;
  /** ARPHRD_* device type (1 Ethernet, 772 loopback). */
  hatype: number;
  address: string;
  /** The ethertype of the payload (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP). */
  protocol: number;
}

/** The LINUX_SLL decoder. */
export const sll: LayerDecoder = {
  name: 'sll',
  minLength: SLL_HEADER_LENGTH,
  decode(bytes, start, end, length) {
    const addressLength = Math.min(u16(bytes, start + 4), 8);
    const protocol = u16(bytes, start + 14);
    return {
      layer: {
        kind: 'sll',
        packetType: sllPacketType(u16(bytes, start)),
        hatype: u16(bytes, start + 2),
        address: macText(bytes, start + 6, addressLength),
        protocol,
      },
      payload: start + SLL_HEADER_LENGTH,
      end,
      length: length - SLL_HEADER_LENGTH,
      next: { space: 'ethertype', value: protocol },
    };
  },
};
