/**
 * VXLAN (RFC 7348): an Ethernet frame inside UDP, tagged with a 24-bit network
 * identifier. The inner frame is decoded with the same tables, so a ping across an
 * overlay reads as "VXLAN vni 42: IP 10.0.0.1 > 10.0.0.2: ICMP echo request ...".
 */
import { u24 } from './bytes';
import type { LayerDecoder } from './layer';
import { LINKTYPE_ETHERNET } from './ethernet';

/** flags 1, reserved 3, VNI 3, reserved 1. */
const VXLAN_HEADER = 8;

/** UDP ports carrying VXLAN: 4789 is IANA's (RFC 7348), 8472 the Linux kernel's historical default. */
export const VXLAN_UDP_PORTS: readonly number[] = [4789, 8472];

/** A decoded VXLAN header. */
export interface VxlanLayer {
  kind: 'vxlan';
  /** The VXLAN network identifier. */
  vni: number;
  /** The flags byte: 0x08 (I) says the VNI is valid. */
  flags: number;
}

/** The VXLAN decoder. */
export const vxlan: LayerDecoder = {
  name: 'vxlan',
  minLength: VXLAN_HEADER,
  decode(bytes, start, end, length) {
    return {
      layer: { kind: 'vxlan', vni: u24(bytes, start + 4), flags: bytes[start] ?? 0 },
      payload: start + VXLAN_HEADER,
      end,
      length: length - VXLAN_HEADER,
      next: { space: 'linktype', value: LINKTYPE_ETHERNET },
    };
  },
};
