/**
 * UTF-8 character boundaries in byte streams: output frames and the replay buffer are cut here
 * so that no frame starts or ends inside a multi-byte character.
 */

/**
 * Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence.
 * At most 3 trailing bytes are held back; bytes that are not valid UTF-8 are never held back.
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: keep looking for the lead byte
    const need = b >= 0xf8 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Index of the first character boundary at or after `from` (skips at most 3 continuation bytes). */
export function nextUtf8Boundary(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && i < from + 3 && ((bytes[i] as number) & 0xc0) === 0x80) i++;
  return i;
}

/** Splits `bytes` into pieces of at most `max` bytes (max >= 4), each ending on a character boundary when it can. */
export function splitUtf8(bytes: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (bytes.length - start > max) {
    let end = start + completeUtf8Length(bytes.subarray(start, start + max));
    if (end === start) end = start + max; // not UTF-8 at all: cut anywhere rather than loop
    out.push(bytes.subarray(start, end));
    start = end;
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

/**
 * Holds back an incomplete trailing UTF-8 sequence of one chunk and prepends it to the next,
 * so each emitted chunk ends on a character boundary.
 */
export class Utf8Framer {
  private carry: Buffer | undefined;

  /** The part of `chunk` (with any carried bytes in front) that ends on a boundary; may be empty. */
  push(chunk: Buffer): Buffer {
    const bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const end = completeUtf8Length(bytes);
    this.carry = end < bytes.length ? Buffer.from(bytes.subarray(end)) : undefined;
    return bytes.subarray(0, end);
  }

  /** Whatever is still held back (an incomplete sequence at the end of the stream). */
  flush(): Buffer {
    const rest = this.carry ?? Buffer.alloc(0);
    this.carry = undefined;
    return rest;
  }
}
