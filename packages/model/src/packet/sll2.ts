/**
 * LINUX_SLL2 (linktype 276): what `tcpdump -i any` writes on this machine (libpcap
 * 1.10). Like SLL, plus the interface index the packet was seen on, which the
 * server maps to a name in the capture's namespace.
 * Layout: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
 */
import { u16, u32 } from './bytes';
import { macText } from './address-text';
import type { LayerDecoder } from './layer';
import { sllPacketType, type SllPacketType } from './sll';

/** libpcap's LINKTYPE_LINUX_SLL2 (tcpdump.org/linktypes.html). */
export const LINKTYPE_LINUX_SLL2 = 276;

/** SLL2 header: protocol 2, reserved 2, ifindex 4, ARPHRD type 2, packet type 1, address length 1, address 8. */
const SLL2_HEADER_LENGTH = 20;

/** The decoded SLL2 header. `address` is the sender's link-layer address. */
export interface Sll2Layer {
  kind: 'sll2';
  /** The ethertype of the payload. */
  protocol: number;
  /** The interface index in the capture's namespace (not a name: the server maps it). */
  ifindex: number;
  /** ARPHRD_* device type (1 Ethernet, 772 loopback). */
  hatype: number;
  packetType: SllPacketType;
  address: string;
}

/** The LINUX_SLL2 decoder. */
export const sll2: LayerDecoder = {
  name: 'sll2',
  minLength: SLL2_HEADER_LENGTH,
  decode(bytes, start, end, length) {
    const protocol = u16(bytes, start);
    const addressLength = Math.min(bytes[start + 11] ?? 0, 8);
    return {
      layer: {
        kind: 'sll2',
        protocol,
        ifindex: u32(bytes, start + 4),
        hatype: u16(bytes, start + 8),
        packetType: sllPacketType(bytes[start + 10] ?? 0),
        address: macText(bytes, start + 12, addressLength),
      },
      payload: start + SLL2_HEADER_LENGTH,
      end,
      length: length - SLL2_HEADER_LENGTH,
      next: { space: 'ethertype', value: protocol },
    };
  },
};
