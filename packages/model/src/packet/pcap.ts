/**
 * The classic libpcap file format, read incrementally and written back:
 * `tcpdump -w -` output arrives in arbitrary pipe chunks (records split anywhere),
 * and the server offers the records it kept as a .pcap that tcpdump and Wireshark
 * open. Format: https://www.tcpdump.org/manpages/pcap-savefile.5.html
 * (also draft-ietf-opsawg-pcap). pcapng is not read.
 */

/** Magic of a file with microsecond timestamps (pcap-savefile(5)). */
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
/** Magic of a file with nanosecond timestamps (pcap-savefile(5); tcpdump --time-stamp-precision=nano). */
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** The 24-byte file header: magic, version 2.4, thiszone, sigfigs, snaplen, linktype. */
export const PCAP_FILE_HEADER_LENGTH = 24;
/** The 16-byte record header: seconds, fraction, captured length, original length. */
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** libpcap's MAXIMUM_SNAPLEN (pcap-int.h), also tcpdump's default -s: no sane record is longer. */
export const PCAP_MAX_SNAPLEN = 262144;

/** Timestamp resolution of a pcap file. */
export type PcapPrecision = 'micro' | 'nano';

/** A parsed pcap file header. */
export interface PcapHeader {
  linktype: number;
  snaplen: number;
  precision: PcapPrecision;
  /** Byte order of the writer: true when the file is little-endian. */
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
}

/** One captured packet. `data` may be a view into the chunk it arrived in: `slice()` it to keep it long. */
export interface PcapRecord {
  /** Seconds since the epoch, as a float (sub-microsecond digits lost for nano files). */
  time: number;
  /** Whole seconds since the epoch. */
  sec: number;
  /** Nanoseconds within the second (microsecond files are scaled up). */
  nsec: number;
  linktype: number;
  /** Bytes captured (data.length). */
  caplen: number;
  /** Bytes the packet had on the wire. */
  origLen: number;
  data: Uint8Array;
}

/** A stream that is not a pcap file, or a record no libpcap writer would produce: carries where it happened. */
export class PcapFormatError extends Error {
  /** Byte offset in the stream where the bad header starts. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`pcap stream at byte ${offset}: ${message}`);
    this.name = 'PcapFormatError';
    this.offset = offset;
  }
}

function readHeader(bytes: Uint8Array, offset: number): PcapHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, PCAP_FILE_HEADER_LENGTH);
  const big = view.getUint32(0, false);
  const little = view.getUint32(0, true);
  let littleEndian: boolean;
  let precision: PcapPrecision;
  if (little === PCAP_MAGIC_MICRO || little === PCAP_MAGIC_NANO) {
    littleEndian = true;
    precision = little === PCAP_MAGIC_NANO ? 'nano' : 'micro';
  } else if (big === PCAP_MAGIC_MICRO || big === PCAP_MAGIC_NANO) {
    littleEndian = false;
    precision = big === PCAP_MAGIC_NANO ? 'nano' : 'micro';
  } else if (big === 0x0a0d0d0a) {
    throw new PcapFormatError('this is pcapng, not classic pcap: capture with tcpdump -w (not --pcapng)', offset);
  } else {
    throw new PcapFormatError(`magic 0x${big.toString(16).padStart(8, '0')} is not a pcap magic (0xa1b2c3d4 or 0xa1b23c4d, either byte order)`, offset);
  }
  return {
    versionMajor: view.getUint16(4, littleEndian),
    versionMinor: view.getUint16(6, littleEndian),
    snaplen: view.getUint32(16, littleEndian),
    // The upper 4 bits (FCS length) and bits 16-27 are flags in newer writers; the link type is the low 16 bits.
    linktype: view.getUint32(20, littleEndian) & 0xffff,
    precision,
    littleEndian,
  };
}

/** The longest record a header allows: its snap length, but never less than libpcap's maximum. */
function maxCaplenOf(header: PcapHeader): number {
  return Math.max(header.snaplen, PCAP_MAX_SNAPLEN);
}

/**
 * One record as `PcapStreamParser.pushEach` hands it over: its data is
 * `bytes.subarray(at, at + caplen)`, not made until someone needs it.
 */
export type PcapRecordVisitor = (bytes: Uint8Array, at: number, caplen: number, sec: number, nsec: number, origLen: number) => void;

/**
 * Reads a pcap byte stream chunk by chunk. Records split across chunks are held
 * until complete; whole records in a chunk are returned as views into it, without
 * copying. Throws `PcapFormatError` when the stream is not pcap or a record header
 * is impossible (after which the stream cannot be resynchronised).
 */
export class PcapStreamParser {
  /** The file header, once its 24 bytes have arrived. */
  header: PcapHeader | null = null;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Stream offset of the first buffered byte, for error messages. */
  private consumed = 0;

  /** Bytes held while waiting for the rest of a header or record. */
  get pending(): number {
    return this.buffered;
  }

  /** Adds a chunk and returns every record it completes, in order. */
  push(chunk: Uint8Array): PcapRecord[] {
    const records: PcapRecord[] = [];
    this.pushEach(chunk, (bytes, at, caplen, sec, nsec, origLen) => {
      records.push({ time: sec + nsec / 1e9, sec, nsec, linktype: (this.header as PcapHeader).linktype, caplen, origLen, data: bytes.subarray(at, at + caplen) });
    });
    return records;
  }

  /**
   * Adds a chunk and hands every record it completes to `visit`, in order, as a place in
   * the bytes: no object per record (a capture under a flood keeps thousands of them).
   */
  pushEach(chunk: Uint8Array, visit: PcapRecordVisitor): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed()) return;
    const bytes = this.take();
    let at = 0;
    if (this.header === null) {
      this.header = readHeader(bytes, this.consumed);
      at = PCAP_FILE_HEADER_LENGTH;
    }
    const header = this.header;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = header.littleEndian;
    const nanoScale = header.precision === 'nano' ? 1 : 1000;
    const maxCaplen = maxCaplenOf(header);
    while (bytes.length - at >= PCAP_RECORD_HEADER_LENGTH) {
      const caplen = view.getUint32(at + 8, le);
      if (caplen > maxCaplen) {
        throw new PcapFormatError(`record claims ${caplen} captured bytes, more than the snap length ${maxCaplen}`, this.consumed + at);
      }
      if (bytes.length - at < PCAP_RECORD_HEADER_LENGTH + caplen) break;
      visit(bytes, at + PCAP_RECORD_HEADER_LENGTH, caplen, view.getUint32(at, le), view.getUint32(at + 4, le) * nanoScale, view.getUint32(at + 12, le));
      at += PCAP_RECORD_HEADER_LENGTH + caplen;
    }
    this.consumed += at;
    if (at < bytes.length) {
      // Copy the remainder: holding a view would pin the whole chunk until the record completes.
      const rest = bytes.slice(at);
      this.chunks = [rest];
      this.buffered = rest.length;
    } else {
      this.chunks = [];
      this.buffered = 0;
    }
  }

  /** Bytes that must be buffered before anything can be parsed. */
  private needed(): number {
    if (this.header === null) return PCAP_FILE_HEADER_LENGTH;
    const first = this.chunks[0];
    if (this.buffered < PCAP_RECORD_HEADER_LENGTH || first === undefined) return PCAP_RECORD_HEADER_LENGTH;
    const head = first.length >= PCAP_RECORD_HEADER_LENGTH ? first : this.take();
    const caplen = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(8, this.header.littleEndian);
    // An impossible length is reported by push() as soon as its header is here.
    return caplen > maxCaplenOf(this.header) ? PCAP_RECORD_HEADER_LENGTH : PCAP_RECORD_HEADER_LENGTH + caplen;
  }

  /** All buffered bytes as one array (concatenating only when there is more than one chunk). */
  private take(): Uint8Array {
    if (this.chunks.length === 1 && this.chunks[0] !== undefined) return this.chunks[0];
    const all = new Uint8Array(this.buffered);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    this.chunks = [all];
    return all;
  }
}

/** How `encodePcapHeader` and `encodePcapRecord` write: defaults are little-endian microseconds, what tcpdump writes on x86. */
export interface PcapWriteOptions {
  precision?: PcapPrecision;
  littleEndian?: boolean;
}

/** The 24-byte header of a pcap file holding records of one link type. */
export function encodePcapHeader(linktype: number, snaplen: number = PCAP_MAX_SNAPLEN, options: PcapWriteOptions = {}): Uint8Array {
  const le = options.littleEndian ?? true;
  const out = new Uint8Array(PCAP_FILE_HEADER_LENGTH);
  const view = new DataView(out.buffer);
  view.setUint32(0, options.precision === 'nano' ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, le);
  view.setUint16(4, 2, le); // version 2.4, the only one there is
  view.setUint16(6, 4, le);
  view.setUint32(16, snaplen, le);
  view.setUint32(20, linktype, le);
  return out;
}

/** What the writer needs of a record. */
export interface PcapRecordInput {
  sec: number;
  nsec: number;
  origLen: number;
  data: Uint8Array;
}

/** One record (16-byte header and data), in the file's precision. */
export function encodePcapRecord(record: PcapRecordInput, options: PcapWriteOptions = {}): Uint8Array {
  const le = options.littleEndian ?? true;
  const out = new Uint8Array(PCAP_RECORD_HEADER_LENGTH + record.data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, record.sec, le);
  view.setUint32(4, options.precision === 'nano' ? record.nsec : Math.floor(record.nsec / 1000), le);
  view.setUint32(8, record.data.length, le);
  view.setUint32(12, Math.max(record.origLen, record.data.length), le);
  out.set(record.data, PCAP_RECORD_HEADER_LENGTH);
  return out;
}

/** A whole pcap file: header and records, in one array. */
export function encodePcap(linktype: number, records: Iterable<PcapRecordInput>, snaplen: number = PCAP_MAX_SNAPLEN, options: PcapWriteOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [encodePcapHeader(linktype, snaplen, options)];
  let total = PCAP_FILE_HEADER_LENGTH;
  for (const r of records) {
    const part = encodePcapRecord(r, options);
    parts.push(part);
    total += part.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
