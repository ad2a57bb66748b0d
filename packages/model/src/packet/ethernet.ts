/**
 * Ethernet II (linktype 1, EN10MB): captures on one Ethernet-like device, and the
 * inner frame of every VXLAN packet. One 802.1Q/802.1ad tag is skipped and kept.
 */
import { u16 } from './bytes';
import { macText } from './address-text';
import type { LayerDecoder } from './layer';

/** libpcap's LINKTYPE_ETHERNET (tcpdump.org/linktypes.html). */
export const LINKTYPE_ETHERNET = 1;

/** dst 6, src 6, ethertype 2. */
const ETHERNET_HEADER_LENGTH = 14;

/** 802.1Q (0x8100) and 802.1ad (0x88a8) tag ethertypes (IEEE registry). */
const VLAN_ETHERTYPES = new Set([0x8100, 0x88a8]);

/** A decoded Ethernet header. */
export interface EthernetLayer {
  kind: 'ethernet';
  src: string;
  dst: string;
  /** The payload's ethertype (after a VLAN tag, if any). */
  ethertype: number;
  /** The 802.1Q VLAN id, or null when the frame is untagged. */
  vlan: number | null;
}

/** The Ethernet decoder. */
export const ethernet: LayerDecoder = {
  name: 'ethernet',
  minLength: ETHERNET_HEADER_LENGTH,
  decode(bytes, start, end, length) {
    let ethertype = u16(bytes, start + 12);
    let header = ETHERNET_HEADER_LENGTH;
    let vlan: number | null = null;
    if (VLAN_ETHERTYPES.has(ethertype)) {
      if (end - start < header + 4) {
        return {
          layer: { kind: 'ethernet', dst: macText(bytes, start), src: macText(bytes, start + 6), ethertype, vlan },
          payload: start + header,
          end,
          length: length - header,
          next: null,
          trailer: { kind: 'truncated', protocol: '802.1Q tag', need: 4, have: end - start - header },
        };
      }
      vlan = u16(bytes, start + 14) & 0x0fff;
      ethertype = u16(bytes, start + 16);
      header += 4;
    }
    return {
      layer: { kind: 'ethernet', dst: macText(bytes, start), src: macText(bytes, start + 6), ethertype, vlan },
      payload: start + header,
      end,
      length: length - header,
      next: { space: 'ethertype', value: ethertype },
    };
  },
};
