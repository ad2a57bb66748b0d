/**
 * The rtnetlink decoder on messages built by hand (the kernel tests in nsread.test.ts
 * compare it with `ip` on real dumps): layouts, byte order, and input cut anywhere.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLinks, decodeNetconf, decodeRoutes, HOST_LITTLE_ENDIAN, linkNames, loopbackAlias } from './rtnetlink';

/** An attribute: u16 length, u16 type, payload, padded to 4. */
function attr(type: number, payload: Uint8Array): Uint8Array {
  const len = 4 + payload.length;
  const out = new Uint8Array((len + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint16(0, len, HOST_LITTLE_ENDIAN);
  v.setUint16(2, type, HOST_LITTLE_ENDIAN);
  out.set(payload, 4);
  return out;
}
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const text = (s: string) => new TextEncoder().encode(`${s}\0`);
const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0, HOST_LITTLE_ENDIAN); return b; };
const be16 = (n: number) => new Uint8Array([n >> 8, n & 255]);
const ip4 = (s: string) => new Uint8Array(s.split('.').map(Number));

/** A netlink message: header (length, type, flags, seq, pid) then body. */
function message(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, out.length, HOST_LITTLE_ENDIAN);
  v.setUint16(4, type, HOST_LITTLE_ENDIAN);
  out.set(body, 16);
  return out;
}

/** struct ifinfomsg then attributes. */
function link(index: number, type: number, flags: number, ...attrs: Uint8Array[]): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint16(2, type, HOST_LITTLE_ENDIAN);
  v.setInt32(4, index, HOST_LITTLE_ENDIAN);
  v.setUint32(8, flags, HOST_LITTLE_ENDIAN);
  return message(16, concat(h, ...attrs));
}

const LO = link(1, 772, 0x49, attr(3, text('lo')), attr(20, text('nslab:v1:demo:ns1')));
const ETH0 = link(2, 1, 0x11043, attr(3, text('eth0')), attr(4, u32(1500)), attr(16, new Uint8Array([6])),
  attr(1, new Uint8Array([2, 0x42, 0xac, 0x11, 0, 2])), attr(5, u32(7)), attr(37, u32(3)),
  attr(18, attr(1, text('veth'))));
const VX = link(3, 1, 0x1003, attr(3, text('vx0')), attr(10, u32(4)),
  attr(18, concat(attr(1, text('vxlan')), attr(2, concat(attr(1, u32(42)), attr(2, ip4('10.0.0.2')), attr(3, u32(2)), attr(15, be16(4789)))))));
const BR = link(4, 1, 0x1003, attr(3, text('br0')), attr(18, attr(1, text('bridge'))));
const DUMP = concat(LO, ETH0, VX, BR);

describe('rtnetlink decoding', () => {
  test('links come out as ip -j -d prints them', () => {
    const links = decodeLinks(DUMP, new Uint8Array(0));
    assert.deepEqual(links.map((l) => l.ifname), ['lo', 'eth0', 'vx0', 'br0']);
    const eth0 = links[1];
    assert.equal(eth0?.mtu, 1500);
    assert.equal(eth0?.operstate, 'UP');
    assert.equal(eth0?.address, '02:42:ac:11:00:02');
    assert.deepEqual(eth0?.flags, ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP']);
    assert.equal(eth0?.link_index, 7);
    assert.equal(eth0?.link_netnsid, 3);
    assert.equal(eth0?.linkinfo?.info_kind, 'veth');
    // The vxlan port is big-endian on the wire; its underlay device is named, and so is the master.
    assert.deepEqual(links[2]?.linkinfo?.info_data, { id: 42, remote: '10.0.0.2', link: 'eth0', port: 4789 });
    assert.equal(links[2]?.master, 'br0');
    assert.equal(links[2]?.flags?.[0], 'NO-CARRIER');
    assert.equal(links[0]?.link_type, 'loopback');
    assert.equal(loopbackAlias(DUMP), 'nslab:v1:demo:ns1');
  });

  test('routes of the main table only, with ip’s names for protocol and type', () => {
    const rtmsg = (dstLen: number, table: number, protocol: number, type: number, ...attrs: Uint8Array[]) =>
      message(24, concat(new Uint8Array([2, dstLen, 0, 0, table, protocol, 0, type, 0, 0, 0, 0]), ...attrs));
    const dump = concat(
      rtmsg(0, 254, 4, 1, attr(5, ip4('10.0.0.1')), attr(4, u32(2))),
      rtmsg(24, 254, 2, 1, attr(1, ip4('10.0.0.0')), attr(4, u32(2)), attr(7, ip4('10.0.0.2'))),
      rtmsg(32, 255, 2, 2, attr(1, ip4('10.0.0.2')), attr(4, u32(2))),
      rtmsg(32, 254, 3, 1, attr(1, ip4('10.9.9.9')), attr(6, u32(50))),
    );
    assert.deepEqual(decodeRoutes(dump, linkNames(DUMP)), [
      { dst: 'default', type: 'unicast', gateway: '10.0.0.1', dev: 'eth0', protocol: 'static' },
      { dst: '10.0.0.0/24', type: 'unicast', dev: 'eth0', protocol: 'kernel', prefsrc: '10.0.0.2' },
      { dst: '10.9.9.9', type: 'unicast', protocol: 'boot', metric: 50 },
    ]);
  });

  test('netconf rows: all, default, and per device', () => {
    const row = (index: number, forwarding: number) => message(80, concat(new Uint8Array([2, 0, 0, 0]), attr(1, u32(index)), attr(2, u32(forwarding))));
    assert.deepEqual(decodeNetconf(concat(row(-1, 1), row(-2, 0), row(2, 1)), linkNames(DUMP)), [
      { family: 'inet', interface: 'all', forwarding: true },
      { family: 'inet', interface: 'default', forwarding: false },
      { family: 'inet', interface: 'eth0', forwarding: true },
    ]);
  });

  test('input cut at any byte decodes what is whole and never throws', () => {
    const whole = decodeLinks(DUMP, new Uint8Array(0)).length;
    for (let cut = 0; cut <= DUMP.length; cut += 1) {
      const links = decodeLinks(DUMP.subarray(0, cut), new Uint8Array(0));
      assert.ok(links.length <= whole);
      loopbackAlias(DUMP.subarray(0, cut));
    }
    // A header that claims more than there is stops the walk.
    const lying = DUMP.slice();
    new DataView(lying.buffer).setUint32(0, 1 << 20, HOST_LITTLE_ENDIAN);
    assert.deepEqual(decodeLinks(lying, new Uint8Array(0)), []);
  });
});
