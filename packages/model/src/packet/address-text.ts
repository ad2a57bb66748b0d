/**
 * Addresses as text, written the way tcpdump and iproute2 write them, straight from
 * packet bytes (the model's address.ts parses text into bigints; here the hot path
 * goes the other way and must not allocate bigints per packet).
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A MAC (or any link-layer address) as colon-separated lower-case hex: "02:42:ac:11:00:02". */
export function macText(bytes: Uint8Array, at: number, length = 6): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += (i === 0 ? '' : ':') + HEX[bytes[at + i] ?? 0];
  return out;
}

/** An IPv4 address as dotted quad. */
export function ipv4Text(bytes: Uint8Array, at: number): string {
  return `${bytes[at] ?? 0}.${bytes[at + 1] ?? 0}.${bytes[at + 2] ?? 0}.${bytes[at + 3] ?? 0}`;
}

/**
 * An IPv6 address in RFC 5952 form, as glibc's inet_ntop (and so tcpdump) prints it:
 * lower case, no leading zeros, the longest run of two or more zero groups (the first
 * on a tie) as "::", and IPv4-mapped addresses as "::ffff:a.b.c.d".
 */
export function ipv6Text(bytes: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i += 1) groups.push(((bytes[at + 2 * i] ?? 0) << 8) | (bytes[at + 2 * i + 1] ?? 0));
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${ipv4Text(bytes, at + 12)}`;
  }
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLength).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}
