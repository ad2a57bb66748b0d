/**
 * pcapng (the IETF draft "PCAP Next Generation Dump File Format", Wireshark's own
 * format): unlike .pcap it names the interface of every packet, so a capture of a lab
 * namespace opened in Wireshark or `tcpdump -r` says "eth0" or "veth-ns1" rather than
 * an ifindex that only means something inside that namespace.
 *
 * Written: one Section Header Block, one Interface Description Block per interface
 * (if_name, if_tsresol = 9: nanoseconds, as captured), one Enhanced Packet Block per
 * packet. Little-endian, 32-bit aligned, as the format requires.
 */
import type { PcapRecordInput } from './pcap';

/** Block types (pcapng section 4 and 11.1). */
export const PCAPNG_SECTION_HEADER = 0x0a0d0d0a;
export const PCAPNG_INTERFACE_DESCRIPTION = 0x00000001;
export const PCAPNG_ENHANCED_PACKET = 0x00000006;
/** Written in the byte order of the section, it tells readers which one that is. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_END = 0;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;

/** A packet and the name of the interface it was seen on. */
export interface PcapngRecordInput extends PcapRecordInput {
  interface: string;
}

const pad4 = (n: number) => (n + 3) & ~3;

/** One option: code, length, value padded to 4. */
function option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + pad4(value.length));
  const v = new DataView(out.buffer);
  v.setUint16(0, code, true);
  v.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

/** A block: type, total length, body, total length again. */
function block(type: number, body: Uint8Array[]): Uint8Array {
  const bodyLength = body.reduce((n, b) => n + b.length, 0);
  const total = 12 + bodyLength;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, total, true);
  let at = 8;
  for (const b of body) {
    out.set(b, at);
    at += b.length;
  }
  v.setUint32(total - 4, total, true);
  return out;
}

function fixed(length: number, fill: (v: DataView) => void): Uint8Array {
  const out = new Uint8Array(length);
  fill(new DataView(out.buffer));
  return out;
}

/** UTF-8 bytes of a string (the model has no TextEncoder: it runs without DOM or Node types). */
function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

/** A string from UTF-8 bytes (throws on bytes that are not UTF-8). */
function utf8Text(bytes: Uint8Array): string {
  return decodeURIComponent(Array.from(bytes, (b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
}
const endOfOptions = () => new Uint8Array(4); // opt_endofopt: code 0, length 0

/**
 * A whole pcapng file of packets of one link type. Interfaces are described in the
 * order they first appear; `application` goes in the section header (shb_userappl).
 */
export function encodePcapng(linktype: number, records: Iterable<PcapngRecordInput>, snaplen: number, application = 'nslab'): Uint8Array {
  const parts: Uint8Array[] = [
    block(PCAPNG_SECTION_HEADER, [
      fixed(16, (v) => {
        v.setUint32(0, PCAPNG_BYTE_ORDER_MAGIC, true);
        v.setUint16(4, 1, true); // version 1.0
        v.setUint16(6, 0, true);
        v.setBigInt64(8, -1n, true); // section length: not given
      }),
      option(SHB_USERAPPL, utf8(application)),
      endOfOptions(),
    ]),
  ];
  const ids = new Map<string, number>();
  for (const r of records) {
    let id = ids.get(r.interface);
    if (id === undefined) {
      id = ids.size;
      ids.set(r.interface, id);
      parts.push(block(PCAPNG_INTERFACE_DESCRIPTION, [
        fixed(8, (v) => {
          v.setUint16(0, linktype, true);
          v.setUint32(4, snaplen, true);
        }),
        option(IF_NAME, utf8(r.interface)),
        option(IF_TSRESOL, new Uint8Array([9])),
        endOfOptions(),
      ]));
    }
    const stamp = BigInt(r.sec) * 1_000_000_000n + BigInt(r.nsec);
    const data = new Uint8Array(pad4(r.data.length));
    data.set(r.data);
    parts.push(block(PCAPNG_ENHANCED_PACKET, [
      fixed(20, (v) => {
        v.setUint32(0, id, true);
        v.setUint32(4, Number(stamp >> 32n), true);
        v.setUint32(8, Number(stamp & 0xffffffffn), true);
        v.setUint32(12, r.data.length, true);
        v.setUint32(16, Math.max(r.origLen, r.data.length), true);
      }),
      data,
    ]));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What a reader of nslab's pcapng needs: the interface names and each packet's interface and stamp. */
export interface PcapngSummary {
  interfaces: { name: string; linktype: number }[];
  packets: { interface: number; sec: number; nsec: number; length: number }[];
}

/**
 * Reads back the blocks `encodePcapng` writes (little-endian, one section); other
 * blocks are skipped. For tests and for checking a download, not a general reader.
 */
export function readPcapng(bytes: Uint8Array): PcapngSummary {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const summary: PcapngSummary = { interfaces: [], packets: [] };
  let at = 0;
  while (at + 12 <= bytes.length) {
    const type = v.getUint32(at, true);
    const length = v.getUint32(at + 4, true);
    if (length < 12 || length % 4 !== 0 || at + length > bytes.length) throw new Error(`pcapng: bad block length ${length} at byte ${at}`);
    if (type === PCAPNG_SECTION_HEADER && v.getUint32(at + 8, true) !== PCAPNG_BYTE_ORDER_MAGIC) throw new Error('pcapng: not a little-endian section');
    if (type === PCAPNG_INTERFACE_DESCRIPTION) {
      let name = '';
      for (let o = at + 16; o + 4 <= at + length - 4; ) {
        const code = v.getUint16(o, true);
        const len = v.getUint16(o + 2, true);
        if (code === OPT_END) break;
        if (code === IF_NAME) name = utf8Text(bytes.subarray(o + 4, o + 4 + len));
        o += 4 + pad4(len);
      }
      summary.interfaces.push({ name, linktype: v.getUint16(at + 8, true) });
    } else if (type === PCAPNG_ENHANCED_PACKET) {
      const stamp = (BigInt(v.getUint32(at + 12, true)) << 32n) | BigInt(v.getUint32(at + 16, true));
      summary.packets.push({
        interface: v.getUint32(at + 8, true),
        sec: Number(stamp / 1_000_000_000n),
        nsec: Number(stamp % 1_000_000_000n),
        length: v.getUint32(at + 20, true),
      });
    }
    at += length;
  }
  return summary;
}
