/**
 * IPv6 (ethertype 0x86dd, RFC 8200), with the extension headers a lab meets skipped
 * (hop-by-hop on every MLD report, routing, destination options, fragment, AH) so
 * that `nextHeader` names the upper-layer protocol.
 */
import { u16 } from './bytes';
import { ipv6Text } from './address-text';
import type { LayerDecoder } from './layer';
import { stopAt } from './layer';

/** The fixed IPv6 header. */
const IPV6_HEADER = 40;

/** Extension headers measured in 8-octet units after the first 8 (RFC 8200 section 4): hop-by-hop, routing, destination options. */
const EIGHT_OCTET_EXTENSIONS = new Set([0, 43, 60]);
/** Fragment header (RFC 8200 section 4.5): always 8 bytes. */
const FRAGMENT = 44;
/** Authentication header (RFC 4302): length in 4-octet units, minus 2. */
const AUTHENTICATION = 51;
/** A chain longer than this is treated as garbage rather than followed. */
const MAX_EXTENSIONS = 8;

/** A decoded IPv6 header. */
export interface Ipv6Layer {
  kind: 'ipv6';
  src: string;
  dst: string;
  hopLimit: number;
  /** The upper-layer protocol after any extension headers (58 ICMPv6, 6 TCP, 17 UDP). */
  nextHeader: number;
  /** Payload length from the header (extension headers included). */
  payloadLength: number;
  flowLabel: number;
  /** Extension header numbers skipped, in order. */
  extensions: number[];
  /** Fragment offset in bytes when a fragment header was seen; non-zero fragments are not decoded further. */
  fragmentOffset: number;
}

/** The IPv6 decoder. */
export const ipv6: LayerDecoder = {
  name: 'ipv6',
  minLength: IPV6_HEADER,
  decode(bytes, start, end) {
    const version = (bytes[start] ?? 0) >> 4;
    if (version !== 6) return stopAt({ kind: 'unknown', protocol: `IP version ${version} in an IPv6 frame`, length: end - start }, start, end);
    const declared = u16(bytes, start + 4);
    // Zero payload length means a jumbogram or a GSO super-packet: trust the captured bytes.
    const payloadLength = declared > 0 ? declared : end - start - IPV6_HEADER;
    const limit = Math.min(end, start + IPV6_HEADER + payloadLength);
    const extensions: number[] = [];
    let nextHeader = bytes[start + 6] ?? 0;
    let at = start + IPV6_HEADER;
    let fragmentOffset = 0;
    let stop: { protocol: string; need: number } | null = null;
    while (extensions.length <= MAX_EXTENSIONS) {
      let size: number;
      if (EIGHT_OCTET_EXTENSIONS.has(nextHeader)) size = ((bytes[at + 1] ?? 0) + 1) * 8;
      else if (nextHeader === FRAGMENT) size = 8;
      else if (nextHeader === AUTHENTICATION) size = ((bytes[at + 1] ?? 0) + 2) * 4;
      else break;
      if (limit - at < 2 || limit - at < size) {
        stop = { protocol: `ipv6 extension header ${nextHeader}`, need: limit - at < 2 ? 2 : size };
        break;
      }
      if (nextHeader === FRAGMENT) fragmentOffset = u16(bytes, at + 2) & 0xfff8;
      extensions.push(nextHeader);
      nextHeader = bytes[at] ?? 0;
      at += size;
    }
    const layer: Ipv6Layer = {
      kind: 'ipv6',
      src: ipv6Text(bytes, start + 8),
      dst: ipv6Text(bytes, start + 24),
      hopLimit: bytes[start + 7] ?? 0,
      nextHeader,
      payloadLength,
      flowLabel: (((bytes[start + 1] ?? 0) & 0x0f) << 16) | u16(bytes, start + 2),
      extensions,
      fragmentOffset,
    };
    const remaining = start + IPV6_HEADER + payloadLength - at;
    if (stop !== null) {
      return { layer, payload: at, end: limit, length: remaining, next: null, trailer: { kind: 'truncated', protocol: stop.protocol, need: stop.need, have: limit - at } };
    }
    if (extensions.length > MAX_EXTENSIONS) {
      return { layer, payload: at, end: limit, length: remaining, next: null, trailer: { kind: 'unknown', protocol: 'ipv6 extension header chain (too long)', length: limit - at } };
    }
    return {
      layer,
      payload: at,
      end: limit,
      length: remaining,
      next: fragmentOffset === 0 ? { space: 'ipproto', value: nextHeader } : null,
    };
  },
};
