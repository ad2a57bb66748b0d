/** IPv4 (ethertype 0x0800, RFC 791). Only the first fragment carries a transport header. */
import { u16 } from './bytes';
import { ipv4Text } from './address-text';
import type { LayerDecoder } from './layer';
import { stopAt } from './layer';

/** The IPv4 header without options (IHL 5). */
const IPV4_MIN_HEADER = 20;

/** A decoded IPv4 header. */
export interface Ipv4Layer {
  kind: 'ipv4';
  src: string;
  dst: string;
  ttl: number;
  /** The IP protocol number of the payload (1 ICMP, 6 TCP, 17 UDP). */
  protocol: number;
  id: number;
  /** Total length from the header (header and payload). */
  length: number;
  headerLength: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes; non-zero fragments are not decoded further. */
  fragmentOffset: number;
}

/** The IPv4 decoder. */
export const ipv4: LayerDecoder = {
  name: 'ipv4',
  minLength: IPV4_MIN_HEADER,
  decode(bytes, start, end) {
    const first = bytes[start] ?? 0;
    const version = first >> 4;
    const headerLength = (first & 0x0f) * 4;
    if (version !== 4) return stopAt({ kind: 'unknown', protocol: `IP version ${version} in an IPv4 frame`, length: end - start }, start, end);
    if (headerLength < IPV4_MIN_HEADER) {
      return stopAt({ kind: 'unknown', protocol: `IPv4 header length ${headerLength} (bad)`, length: end - start }, start, end);
    }
    if (end - start < headerLength) return stopAt({ kind: 'truncated', protocol: 'ipv4 options', need: headerLength, have: end - start }, start, end);
    // A zero total length is what GSO (and BIG TCP) super-packets carry when captured
    // before segmentation: trust the captured bytes then.
    const declared = u16(bytes, start + 2);
    const length = declared >= headerLength ? declared : end - start;
    const fragment = u16(bytes, start + 6);
    const fragmentOffset = (fragment & 0x1fff) * 8;
    const protocol = bytes[start + 9] ?? 0;
    return {
      layer: {
        kind: 'ipv4',
        src: ipv4Text(bytes, start + 12),
        dst: ipv4Text(bytes, start + 16),
        ttl: bytes[start + 8] ?? 0,
        protocol,
        id: u16(bytes, start + 4),
        length,
        headerLength,
        dontFragment: (fragment & 0x4000) !== 0,
        moreFragments: (fragment & 0x2000) !== 0,
        fragmentOffset,
      },
      payload: start + headerLength,
      end: Math.min(end, start + length),
      length: length - headerLength,
      next: fragmentOffset === 0 ? { space: 'ipproto', value: protocol } : null,
    };
  },
};
