/**
 * ARP (ethertype 0x0806, RFC 826): who-has / is-at, the first thing a namespace
 * sends before it can reach a neighbour, and the first thing to look at when a ping
 * goes nowhere.
 */
import { u16 } from './bytes';
import { ipv4Text, macText } from './address-text';
import type { LayerDecoder } from './layer';

/** ARP's fixed header: hardware type 2, protocol type 2, hardware length 1, protocol length 1, operation 2. */
const ARP_FIXED_LENGTH = 8;

/** ARP operation codes (RFC 826: 1 request, 2 reply). */
const ARP_REQUEST = 1;
const ARP_REPLY = 2;

/** A decoded ARP packet. Addresses of other sizes than Ethernet/IPv4 are shown as hex. */
export interface ArpLayer {
  kind: 'arp';
  operation: 'request' | 'reply' | 'other';
  /** The raw operation code. */
  opcode: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
  /** The ARP packet's length (28 for Ethernet/IPv4). */
  length: number;
}

/** The ARP decoder. */
export const arp: LayerDecoder = {
  name: 'arp',
  minLength: ARP_FIXED_LENGTH,
  decode(bytes, start, end) {
    const hlen = bytes[start + 4] ?? 0;
    const plen = bytes[start + 5] ?? 0;
    const opcode = u16(bytes, start + 6);
    const total = ARP_FIXED_LENGTH + 2 * hlen + 2 * plen;
    if (end - start < total) {
      return {
        layer: { kind: 'truncated', protocol: 'arp', need: total, have: end - start },
        payload: start,
        end,
        length: end - start,
        next: null,
      };
    }
    const proto = (at: number): string => (plen === 4 ? ipv4Text(bytes, at) : macText(bytes, at, plen));
    const sender = start + ARP_FIXED_LENGTH;
    const target = sender + hlen + plen;
    return {
      layer: {
        kind: 'arp',
        operation: opcode === ARP_REQUEST ? 'request' : opcode === ARP_REPLY ? 'reply' : 'other',
        opcode,
        senderMac: macText(bytes, sender, hlen),
        senderIp: proto(sender + hlen),
        targetMac: macText(bytes, target, hlen),
        targetIp: proto(target + hlen),
        length: total,
      },
      payload: start + total,
      end,
      length: end - start - total,
      next: null,
    };
  },
};
