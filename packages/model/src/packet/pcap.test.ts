/**
 * The pcap stream parser and writer: round trips in both byte orders and both
 * precisions, records split at every byte, and streams that are not pcap.
 * (Compatibility with tcpdump itself is tested on real captures in
 * apps/server/src/capture/capture.test.ts.)
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  encodePcap,
  encodePcapHeader,
  encodePcapRecord,
  PcapFormatError,
  PcapStreamParser,
  type PcapRecord,
  type PcapRecordInput,
  type PcapWriteOptions,
} from './pcap';
import { prng } from './prng';

function someRecords(count: number, seed: number): PcapRecordInput[] {
  const rand = prng(seed);
  const out: PcapRecordInput[] = [];
  for (let i = 0; i < count; i += 1) {
    const size = i === 0 ? 0 : Math.floor(rand() * 300);
    const data = new Uint8Array(size).map(() => Math.floor(rand() * 256));
    out.push({ sec: 1_700_000_000 + i, nsec: Math.floor(rand() * 1e6) * 1000, origLen: size + (i % 3), data });
  }
  return out;
}

function same(actual: PcapRecord[], expected: PcapRecordInput[], linktype: number): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((r, i) => {
    const e = expected[i] as PcapRecordInput;
    assert.equal(r.sec, e.sec, `record ${i} sec`);
    assert.equal(r.nsec, e.nsec, `record ${i} nsec`);
    assert.equal(r.time, e.sec + e.nsec / 1e9, `record ${i} time`);
    assert.equal(r.origLen, Math.max(e.origLen, e.data.length), `record ${i} origLen`);
    assert.equal(r.caplen, e.data.length, `record ${i} caplen`);
    assert.equal(r.linktype, linktype);
    assert.deepEqual(Array.from(r.data), Array.from(e.data), `record ${i} data`);
  });
}

const FORMATS: PcapWriteOptions[] = [
  { littleEndian: true, precision: 'micro' },
  { littleEndian: false, precision: 'micro' },
  { littleEndian: true, precision: 'nano' },
  { littleEndian: false, precision: 'nano' },
];

test('round trip in both byte orders and both precisions, in one chunk', () => {
  const records = someRecords(50, 1);
  for (const format of FORMATS) {
    const parser = new PcapStreamParser();
    const got = parser.push(encodePcap(276, records, 262144, format));
    assert.equal(parser.header?.littleEndian, format.littleEndian);
    assert.equal(parser.header?.precision, format.precision);
    assert.equal(parser.header?.snaplen, 262144);
    assert.equal(parser.header?.versionMajor, 2);
    assert.equal(parser.header?.versionMinor, 4);
    same(got, records, 276);
    assert.equal(parser.pending, 0);
  }
});

test('a stream cut into two at every byte gives the same records', () => {
  const records = someRecords(4, 2);
  for (const format of FORMATS) {
    const bytes = encodePcap(1, records, 65535, format);
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      const parser = new PcapStreamParser();
      const got = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      same(got, records, 1);
    }
  }
});

test('a stream fed one byte at a time, and in random chunk sizes, gives the same records', () => {
  const records = someRecords(30, 3);
  const rand = prng(4);
  for (const format of FORMATS) {
    const bytes = encodePcap(113, records, 262144, format);
    const byByte = new PcapStreamParser();
    const got: PcapRecord[] = [];
    for (let i = 0; i < bytes.length; i += 1) got.push(...byByte.push(bytes.subarray(i, i + 1)));
    same(got, records, 113);
    for (let round = 0; round < 20; round += 1) {
      const parser = new PcapStreamParser();
      const chunked: PcapRecord[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(rand() * 700);
        chunked.push(...parser.push(bytes.slice(at, at + size)));
        at += size;
      }
      same(chunked, records, 113);
    }
  }
});

test('a partial record waits, and is counted as pending', () => {
  const records = someRecords(2, 5);
  const header = encodePcapHeader(276);
  const first = encodePcapRecord(records[0] as PcapRecordInput);
  const second = encodePcapRecord(records[1] as PcapRecordInput);
  const parser = new PcapStreamParser();
  assert.deepEqual(parser.push(header), []);
  assert.equal(parser.header?.linktype, 276);
  assert.equal(parser.push(first).length, 1);
  assert.deepEqual(parser.push(second.subarray(0, 10)), []);
  assert.equal(parser.pending, 10);
  same(parser.push(second.subarray(10)), [records[1] as PcapRecordInput], 276);
  assert.equal(parser.pending, 0);
});

test('records held across chunks are copies that outlive the chunk', () => {
  const records = someRecords(3, 6);
  const bytes = encodePcap(1, records);
  const parser = new PcapStreamParser();
  const chunk = bytes.slice(0, bytes.length - 5);
  const got = parser.push(chunk);
  chunk.fill(0); // the parser must not have kept a view of the unfinished tail
  got.push(...parser.push(bytes.slice(bytes.length - 5)));
  assert.deepEqual(Array.from((got[2] as PcapRecord).data), Array.from((records[2] as PcapRecordInput).data));
});

test('a stream that is not pcap is refused with the offset and the reason', () => {
  const text = Uint8Array.from('tcpdump: eth9: No such device exists\n', (c) => c.charCodeAt(0));
  assert.throws(() => new PcapStreamParser().push(text), (e: unknown) => e instanceof PcapFormatError && e.offset === 0 && /not a pcap magic/.test(e.message));
  const pcapng = new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, ...new Uint8Array(40)]);
  assert.throws(() => new PcapStreamParser().push(pcapng), /pcapng/);
});

test('an impossible record length is refused as soon as its header arrives', () => {
  const header = encodePcapHeader(276, 65535);
  const bogus = new Uint8Array(16);
  new DataView(bogus.buffer).setUint32(8, 10_000_000, true);
  const parser = new PcapStreamParser();
  parser.push(header);
  assert.throws(() => parser.push(bogus), (e: unknown) => e instanceof PcapFormatError && e.offset === 24 && /10000000 captured bytes/.test(e.message));
});

test('the writer keeps origLen at least caplen and writes microseconds by default', () => {
  const rec = encodePcapRecord({ sec: 7, nsec: 123_456_789, origLen: 0, data: new Uint8Array(9) });
  const view = new DataView(rec.buffer);
  assert.equal(view.getUint32(4, true), 123_456);
  assert.equal(view.getUint32(8, true), 9);
  assert.equal(view.getUint32(12, true), 9);
});
