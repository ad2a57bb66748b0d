/** ICMP (IP protocol 1, RFC 792): echo for ping, and the errors routers send back. */
import { u16 } from './bytes';
import type { LayerDecoder } from './layer';
import { stopAt } from './layer';

/** type 1, code 1, checksum 2. */
const ICMP_MIN_HEADER = 4;
/** Echo adds identifier 2 and sequence 2. */
const ICMP_ECHO_HEADER = 8;

/** ICMP echo request type (RFC 792). */
export const ICMP_ECHO_REQUEST = 8;
/** ICMP echo reply type (RFC 792). */
export const ICMP_ECHO_REPLY = 0;

/** ICMP type names, as tcpdump words them (RFC 792 and the IANA registry). */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'echo reply'],
  [3, 'destination unreachable'],
  [4, 'source quench'],
  [5, 'redirect'],
  [8, 'echo request'],
  [9, 'router advertisement'],
  [10, 'router solicitation'],
  [11, 'time exceeded'],
  [12, 'parameter problem'],
  [13, 'time stamp request'],
  [14, 'time stamp reply'],
]);

/** Destination-unreachable codes (RFC 792, RFC 1812). */
const UNREACHABLE_CODES: ReadonlyMap<number, string> = new Map([
  [0, 'net unreachable'],
  [1, 'host unreachable'],
  [2, 'protocol unreachable'],
  [3, 'port unreachable'],
  [4, 'fragmentation needed'],
  [6, 'net unknown'],
  [7, 'host unknown'],
  [9, 'net administratively prohibited'],
  [10, 'host administratively prohibited'],
  [13, 'administratively prohibited'],
]);

/** Time-exceeded codes (RFC 792). */
const TIME_EXCEEDED_CODES: ReadonlyMap<number, string> = new Map([
  [0, 'in-transit'],
  [1, 'reassembly'],
]);

/** A decoded ICMP header. `id` and `seq` are there for echo request and reply only. */
export interface IcmpLayer {
  kind: 'icmp';
  type: number;
  code: number;
  /** The type (and code, where it matters) in words: "echo request", "destination unreachable (port unreachable)". */
  name: string;
  id?: number;
  seq?: number;
  /** The ICMP message length (header and data) the IP header declares. */
  length: number;
}

/** The words for an ICMP type and code. */
export function icmpName(type: number, code: number): string {
  const name = TYPE_NAMES.get(type) ?? `type ${type}`;
  const detail = type === 3 ? UNREACHABLE_CODES.get(code) : type === 11 ? TIME_EXCEEDED_CODES.get(code) : undefined;
  if (detail !== undefined) return `${name} (${detail})`;
  return code === 0 ? name : `${name}, code ${code}`;
}

/** The ICMP decoder. */
export const icmp: LayerDecoder = {
  name: 'icmp',
  minLength: ICMP_MIN_HEADER,
  decode(bytes, start, end, length) {
    const type = bytes[start] ?? 0;
    const code = bytes[start + 1] ?? 0;
    const layer: IcmpLayer = { kind: 'icmp', type, code, name: icmpName(type, code), length };
    if (type === ICMP_ECHO_REQUEST || type === ICMP_ECHO_REPLY) {
      if (end - start < ICMP_ECHO_HEADER) return stopAt({ kind: 'truncated', protocol: 'icmp echo', need: ICMP_ECHO_HEADER, have: end - start }, start, end);
      layer.id = u16(bytes, start + 4);
      layer.seq = u16(bytes, start + 6);
    }
    return { layer, payload: start + Math.min(ICMP_ECHO_HEADER, end - start), end, length: length - ICMP_ECHO_HEADER, next: null };
  },
};
