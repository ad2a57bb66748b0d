/**
 * The packet list's filter box. Words separated by spaces must all match; a word
 * with `|` matches when any of its parts does; `!` or `not` negates the next word.
 *
 *   icmp  arp  tcp  udp  vxlan  icmpv6  ip  ip6     protocol (ip = any IPv4)
 *   node:ns1  iface:eth0  (if: dev: too)              where it was seen
 *   src:10.0.0.1  dst:10.0.0.2  host:10.0.0.1        an address (any layer for host:)
 *   10.0.0.1  10.0.0.0/24  02:42:ac:11:00:02        an address, a prefix or a MAC, either side
 *   port:80                                          a TCP or UDP port
 *   in  out                                          the direction at the interface
 *   ns1  eth0  anything                              a node or interface name, else text in the info column
 *
 * Parse, then match: the text becomes a predicate once; problems are sentences.
 */
import { PACKET_PROTOCOLS, contains, parseIp, parsePrefix } from '@nslab/model';
import type { PacketProtocol } from '@nslab/model';
import type { PacketRow } from './row';

/** What a filter looks at: a row's columns. */
export type FilterTarget = Pick<PacketRow, 'protocol' | 'src' | 'dst' | 'info' | 'addresses' | 'ports'> & { event: Pick<PacketRow['event'], 'node' | 'interface' | 'direction'> };

/** A parsed filter: a predicate, and the problems of words it could not read (those words are ignored). */
export interface PacketFilter {
  match(row: FilterTarget): boolean;
  problems: string[];
  /** True when the filter lets everything through. */
  empty: boolean;
}

type Test = (row: FilterTarget) => boolean;

/** Protocol words, with the aliases tcpdump users type. */
const PROTOCOL_WORDS: Record<string, (p: PacketProtocol) => boolean> = {
  ...Object.fromEntries(PACKET_PROTOCOLS.map((p) => [p, (q: PacketProtocol) => q === p])),
  ip: (p) => p === 'ipv4' || p === 'icmp' || p === 'tcp' || p === 'udp' || p === 'vxlan',
  ip4: (p) => p === 'ipv4' || p === 'icmp' || p === 'tcp' || p === 'udp' || p === 'vxlan',
  ip6: (p) => p === 'ipv6' || p === 'icmpv6',
  icmp6: (p) => p === 'icmpv6',
  ping: (p) => p === 'icmp' || p === 'icmpv6',
};

/** A test for an address or prefix (an address alone is its host prefix) against a list of addresses. */
function addressTest(text: string): ((addresses: readonly string[]) => boolean) | undefined {
  const prefix = parsePrefix(text);
  if (!prefix) return undefined;
  return (addresses) => addresses.some((a) => {
    const ip = parseIp(a);
    return ip !== undefined && contains(prefix, ip);
  });
}

const looksLikeAddress = (w: string) => /^[0-9a-f:.]+(\/\d+)?$/i.test(w) && (w.includes('.') || w.includes(':'));

/** One word (no `|`, no `!`) as a test, or a problem. */
function wordTest(word: string): Test | string {
  const lower = word.toLowerCase();
  const proto = PROTOCOL_WORDS[lower];
  if (proto) return (r) => proto(r.protocol);
  if (lower === 'in' || lower === 'out') return (r) => r.event.direction === lower;
  const colon = word.indexOf(':');
  const key = colon > 0 ? lower.slice(0, colon) : '';
  const value = colon > 0 ? word.slice(colon + 1) : '';
  switch (key) {
    case 'node':
    case 'n':
      return (r) => r.event.node === value;
    case 'iface':
    case 'if':
    case 'dev':
    case 'interface':
      return (r) => r.event.interface === value;
    case 'port': {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return `"${word}": a port is a number from 0 to 65535`;
      return (r) => r.ports.includes(port);
    }
    case 'src':
    case 'dst':
    case 'host':
    case 'addr': {
      const test = addressTest(value);
      if (!test) return `"${word}": ${value || 'nothing'} is not an IP address or prefix (like 10.0.0.1 or 10.0.0.0/24)`;
      if (key === 'src') return (r) => test([r.src]);
      if (key === 'dst') return (r) => test([r.dst]);
      return (r) => test(r.addresses);
    }
    case 'proto':
    case 'protocol': {
      const p = PROTOCOL_WORDS[value.toLowerCase()];
      if (!p) return `"${word}": unknown protocol; use one of ${PACKET_PROTOCOLS.join(', ')}`;
      return (r) => p(r.protocol);
    }
    default:
      break;
  }
  if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(word)) return (r) => r.addresses.includes(lower);
  if (looksLikeAddress(word)) {
    const test = addressTest(word);
    if (test) return (r) => test(r.addresses);
    // An IPv6 literal is also "key:value" shaped; anything else address-like that does not parse is a typo.
    return `"${word}" is not an IP address or prefix`;
  }
  if (key !== '') return `"${word}": unknown filter "${key}:"; use node:, iface:, src:, dst:, host:, port: or proto:`;
  return (r) => r.event.node === word || r.event.interface === word || r.info.toLowerCase().includes(lower);
}

/** Parses the filter box's text. */
export function parseFilter(text: string): PacketFilter {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const tests: Test[] = [];
  const problems: string[] = [];
  let negate = false;
  for (const raw of words) {
    if (raw.toLowerCase() === 'not' || raw === '!') {
      negate = !negate;
      continue;
    }
    let word = raw;
    let not = negate;
    negate = false;
    while (word.startsWith('!')) {
      not = !not;
      word = word.slice(1);
    }
    const alternatives: Test[] = [];
    for (const part of word.split('|').filter(Boolean)) {
      const t = wordTest(part);
      if (typeof t === 'string') problems.push(t);
      else alternatives.push(t);
    }
    if (alternatives.length === 0) continue;
    const any: Test = alternatives.length === 1 ? alternatives[0]! : (r) => alternatives.some((t) => t(r));
    tests.push(not ? (r) => !any(r) : any);
  }
  return { match: (row) => tests.every((t) => t(row)), problems, empty: tests.length === 0 };
}
