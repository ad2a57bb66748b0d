import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LINKTYPE_LINUX_SLL2 } from './sll2';
import { encodePcapng, PCAPNG_ENHANCED_PACKET, PCAPNG_INTERFACE_DESCRIPTION, PCAPNG_SECTION_HEADER, readPcapng } from './pcapng';

const packet = (iface: string, sec: number, nsec: number, length: number) => ({
  interface: iface, sec, nsec, origLen: length + 10, data: Uint8Array.from({ length }, (_, i) => i & 255),
});

describe('pcapng writer', () => {
  const records = [packet('eth0', 1_700_000_000, 123_456_789, 61), packet('veth-ns1', 1_700_000_001, 5, 60), packet('eth0', 1_700_000_002, 999_999_999, 1)];
  const bytes = encodePcapng(LINKTYPE_LINUX_SLL2, records, 262144);

  test('a section, one interface block per interface in order of appearance, one packet block per packet', () => {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const types: number[] = [];
    for (let at = 0; at < bytes.length; ) {
      const length = v.getUint32(at + 4, true);
      assert.equal(length % 4, 0, 'blocks are 32-bit aligned');
      assert.equal(v.getUint32(at + length - 4, true), length, 'the trailing length repeats the leading one');
      types.push(v.getUint32(at, true));
      at += length;
    }
    assert.deepEqual(types, [PCAPNG_SECTION_HEADER, PCAPNG_INTERFACE_DESCRIPTION, PCAPNG_ENHANCED_PACKET, PCAPNG_INTERFACE_DESCRIPTION, PCAPNG_ENHANCED_PACKET, PCAPNG_ENHANCED_PACKET]);
  });

  test('read back: names, link type, interface of each packet, nanosecond stamps, lengths', () => {
    const back = readPcapng(bytes);
    assert.deepEqual(back.interfaces, [{ name: 'eth0', linktype: LINKTYPE_LINUX_SLL2 }, { name: 'veth-ns1', linktype: LINKTYPE_LINUX_SLL2 }]);
    assert.deepEqual(back.packets, [
      { interface: 0, sec: 1_700_000_000, nsec: 123_456_789, length: 61 },
      { interface: 1, sec: 1_700_000_001, nsec: 5, length: 60 },
      { interface: 0, sec: 1_700_000_002, nsec: 999_999_999, length: 1 },
    ]);
  });

  test('non-ASCII interface names survive as UTF-8', () => {
    assert.equal(readPcapng(encodePcapng(1, [packet('wlan-é', 1, 0, 4)], 65535)).interfaces[0]?.name, 'wlan-é');
  });

  test('an empty capture is a valid section with no interfaces', () => {
    assert.deepEqual(readPcapng(encodePcapng(1, [], 65535)), { interfaces: [], packets: [] });
  });

  test('a block whose length runs past the end is refused', () => {
    assert.throws(() => readPcapng(bytes.subarray(0, bytes.length - 2)), /bad block length/);
  });
});
