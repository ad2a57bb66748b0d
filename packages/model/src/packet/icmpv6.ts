/**
 * ICMPv6 (IPv6 next header 58, RFC 4443): echo for ping6, and neighbour discovery
 * (RFC 4861), which is IPv6's ARP.
 */
import { u16 } from './bytes';
import { ipv6Text } from './address-text';
import type { LayerDecoder } from './layer';
import { stopAt } from './layer';

/** type 1, code 1, checksum 2. */
const ICMPV6_MIN_HEADER = 4;
/** Echo adds identifier 2 and sequence 2. */
const ICMPV6_ECHO_HEADER = 8;
/** Neighbour solicitation/advertisement: 4 header, 4 reserved/flags, 16 target. */
const ICMPV6_ND_HEADER = 24;

/** ICMPv6 echo request type (RFC 4443). */
export const ICMPV6_ECHO_REQUEST = 128;
/** ICMPv6 echo reply type (RFC 4443). */
export const ICMPV6_ECHO_REPLY = 129;
/** Neighbour solicitation type (RFC 4861): IPv6's ARP request. */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
/** Neighbour advertisement type (RFC 4861): IPv6's ARP reply. */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;

/** ICMPv6 type names, as tcpdump words them (IANA ICMPv6 parameters). */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'destination unreachable'],
  [2, 'packet too big'],
  [3, 'time exceeded'],
  [4, 'parameter problem'],
  [128, 'echo request'],
  [129, 'echo reply'],
  [130, 'multicast listener query'],
  [131, 'multicast listener report'],
  [132, 'multicast listener done'],
  [133, 'router solicitation'],
  [134, 'router advertisement'],
  [135, 'neighbor solicitation'],
  [136, 'neighbor advertisement'],
  [137, 'redirect'],
  [143, 'multicast listener report v2'],
]);

/** Destination-unreachable codes (RFC 4443 section 3.1). */
const UNREACHABLE_CODES: ReadonlyMap<number, string> = new Map([
  [0, 'no route'],
  [1, 'administratively prohibited'],
  [3, 'address unreachable'],
  [4, 'port unreachable'],
]);

/** A decoded ICMPv6 header: `id`/`seq` for echo, `target` for neighbour discovery. */
export interface Icmpv6Layer {
  kind: 'icmpv6';
  type: number;
  code: number;
  /** The type in words: "echo request", "neighbor solicitation". */
  name: string;
  id?: number;
  seq?: number;
  /** The address a neighbour solicitation asks for, or an advertisement answers for. */
  target?: string;
  /** The ICMPv6 message length the IPv6 header declares. */
  length: number;
}

/** The words for an ICMPv6 type and code. */
export function icmpv6Name(type: number, code: number): string {
  const name = TYPE_NAMES.get(type) ?? `type ${type}`;
  const detail = type === 1 ? UNREACHABLE_CODES.get(code) : undefined;
  return detail === undefined ? name : `${name} (${detail})`;
}

/** The ICMPv6 decoder. */
export const icmpv6: LayerDecoder = {
  name: 'icmpv6',
  minLength: ICMPV6_MIN_HEADER,
  decode(bytes, start, end, length) {
    const type = bytes[start] ?? 0;
    const code = bytes[start + 1] ?? 0;
    const layer: Icmpv6Layer = { kind: 'icmpv6', type, code, name: icmpv6Name(type, code), length };
    if (type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY) {
      if (end - start < ICMPV6_ECHO_HEADER) return stopAt({ kind: 'truncated', protocol: 'icmpv6 echo', need: ICMPV6_ECHO_HEADER, have: end - start }, start, end);
      layer.id = u16(bytes, start + 4);
      layer.seq = u16(bytes, start + 6);
    } else if (type === ICMPV6_NEIGHBOR_SOLICITATION || type === ICMPV6_NEIGHBOR_ADVERTISEMENT) {
      if (end - start < ICMPV6_ND_HEADER) return stopAt({ kind: 'truncated', protocol: `icmpv6 ${layer.name}`, need: ICMPV6_ND_HEADER, have: end - start }, start, end);
      layer.target = ipv6Text(bytes, start + 8);
    }
    return { layer, payload: end, end, length: 0, next: null };
  },
};
