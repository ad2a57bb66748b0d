/**
 * IP addresses and prefixes, IPv4 and IPv6, parsed without any platform API.
 * An `Address` in nslab is an interface address in CIDR form ("192.168.1.1/24"),
 * as `ip addr add` takes it.
 */

/** A parsed IP address: the family and its bytes as a bigint (network order). */
export interface IpValue {
  family: 4 | 6;
  value: bigint;
}

/** A parsed CIDR: the address as written and its prefix length. */
export interface Cidr extends IpValue {
  prefix: number;
}

const V4_PART = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses a dotted IPv4 address ("10.0.0.1"); undefined when malformed. */
export function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!V4_PART.test(part)) return undefined;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

/** Parses an IPv6 address with optional "::" and an optional embedded IPv4 tail. */
export function parseIpv6(text: string): bigint | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): bigint[] | undefined => {
    if (half === '') return [];
    const out: bigint[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i += 1) {
      const part = parts[i] ?? '';
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (V6_GROUP.test(part)) {
        out.push(BigInt(parseInt(part, 16)));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<bigint>(halves.length === 2 ? missing : 0).fill(0n), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses an IPv4 or IPv6 address literal. */
export function parseIp(text: string): IpValue | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  if (v6 !== undefined) return { family: 6, value: v6 };
  return undefined;
}

/** Bits in an address of the family. */
export function familyBits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** Parses "ADDR/LEN"; undefined when either part is malformed or the length is out of range. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(lenText)) return undefined;
  const prefix = Number(lenText);
  if (prefix > familyBits(ip.family)) return undefined;
  return { ...ip, prefix };
}

/** Parses "ADDR/LEN", or a bare address as its host prefix (/32, /128), as `ip` and iptables read one. */
export function parsePrefix(text: string): Cidr | undefined {
  if (text.includes('/')) return parseCidr(text);
  const ip = parseIp(text);
  return ip ? { ...ip, prefix: familyBits(ip.family) } : undefined;
}

/** The mask of a prefix length for the family, as a bigint. */
function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(familyBits(family));
  const p = BigInt(prefix);
  return ((1n << bits) - 1n) ^ ((1n << (bits - p)) - 1n);
}

/** The network address of a CIDR (host bits cleared). */
export function networkOf(cidr: Cidr): Cidr {
  return { family: cidr.family, prefix: cidr.prefix, value: cidr.value & mask(cidr.family, cidr.prefix) };
}

/** True when the address lies inside the prefix. */
export function contains(prefix: Cidr, ip: IpValue): boolean {
  if (prefix.family !== ip.family) return false;
  const m = mask(prefix.family, prefix.prefix);
  return (prefix.value & m) === (ip.value & m);
}

/** True when the CIDR has no host bits set (a valid route destination). */
export function isNetworkAddress(cidr: Cidr): boolean {
  return networkOf(cidr).value === cidr.value;
}

/** Formats an address the way `ip` prints it (IPv6 compressed, lower case). */
export function formatIp(ip: IpValue): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i -= 1) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of zero groups (length >= 2) becomes "::", as RFC 5952 says.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i += 1; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Formats a CIDR as "ADDR/LEN" in canonical form. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr)}/${cidr.prefix}`;
}

/** Canonical text of an address or CIDR as written by a user ("10.0.0.01" is rejected, "FE80::1" lowers). */
export function canonicalCidr(text: string): string | undefined {
  const c = parseCidr(text);
  return c ? formatCidr(c) : undefined;
}

/** Canonical "ADDR/LEN" text of a prefix or bare address (a host prefix), as iptables and `ip route` print it. */
export function canonicalPrefix(text: string): string | undefined {
  const c = parsePrefix(text);
  return c ? formatCidr(c) : undefined;
}

/** Canonical text of an address literal. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

/** The address `offset` places after the network address of the CIDR (for allocators). */
export function nthAddress(network: Cidr, offset: bigint): IpValue | undefined {
  const size = 1n << BigInt(familyBits(network.family) - network.prefix);
  if (offset < 0n || offset >= size) return undefined;
  return { family: network.family, value: networkOf(network).value + offset };
}

/** Number of addresses in the prefix. */
export function prefixSize(network: Cidr): bigint {
  return 1n << BigInt(familyBits(network.family) - network.prefix);
}
