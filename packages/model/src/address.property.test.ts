/**
 * address.ts cross-checked against an established parser (the `ip-address` package)
 * on generated addresses and prefixes: the same value from every textual form, the
 * same canonical text (RFC 5952 for IPv6), the same network and membership.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { contains, formatIp, networkOf, parseCidr, parseIp, parsePrefix } from './address';

const v4 = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n });
/** IPv6 values with runs of zero groups, so "::" compression is exercised, not only random groups. */
const v6 = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n));

test('IPv4: every address parses to the value ip-address gives it, and prints as it does', () => {
  fc.assert(fc.property(v4, (value) => {
    const theirs = Address4.fromBigInt(value);
    const text = theirs.correctForm();
    assert.deepEqual(parseIp(text), { family: 4, value });
    assert.equal(formatIp({ family: 4, value }), text);
  }), { numRuns: 2000 });
});

test('IPv6: the full, compressed and mixed forms parse to the same value; the compressed form matches RFC 5952 as ip-address prints it', () => {
  fc.assert(fc.property(v6, (value) => {
    const theirs = Address6.fromBigInt(value);
    for (const text of [theirs.canonicalForm(), theirs.correctForm(), theirs.canonicalForm().toUpperCase()]) {
      assert.deepEqual(parseIp(text), { family: 6, value }, text);
    }
    assert.equal(formatIp({ family: 6, value }), theirs.correctForm());
    // The embedded IPv4 tail ("::ffff:192.0.2.1") is the same number.
    const mixed = theirs.to4in6();
    assert.deepEqual(parseIp(mixed), { family: 6, value }, mixed);
  }), { numRuns: 2000 });
});

test('prefixes: the network address and membership agree with ip-address', () => {
  const cidr = fc.oneof(
    fc.tuple(fc.constant(4 as const), v4, fc.integer({ min: 0, max: 32 })),
    fc.tuple(fc.constant(6 as const), v6, fc.integer({ min: 0, max: 128 })),
  );
  fc.assert(fc.property(cidr, v4, v6, ([family, value, prefix], other4, other6) => {
    const ours = parseCidr(`${formatIp({ family, value })}/${prefix}`);
    assert.ok(ours);
    const other = family === 4 ? other4 : other6;
    let start: bigint;
    let inside: boolean;
    if (family === 4) {
      const theirs = new Address4(`${Address4.fromBigInt(value).correctForm()}/${prefix}`);
      start = theirs.startAddress().bigInt();
      inside = Address4.fromBigInt(other).isInSubnet(theirs);
    } else {
      const theirs = new Address6(`${Address6.fromBigInt(value).correctForm()}/${prefix}`);
      start = theirs.startAddress().bigInt();
      inside = Address6.fromBigInt(other).isInSubnet(theirs);
    }
    assert.equal(networkOf(ours).value, start);
    assert.equal(contains(ours, { family, value: other }), inside);
    assert.equal(contains(ours, { family, value }), true);
  }), { numRuns: 2000 });
});

test('prefixes as iptables and ip route write them: a bare address is the host prefix ip-address reads it as', () => {
  const ip = fc.oneof(v4.map((value) => ({ family: 4 as const, value })), v6.map((value) => ({ family: 6 as const, value })));
  fc.assert(fc.property(ip, fc.integer({ min: 0, max: 128 }), (addr, len) => {
    const text = formatIp(addr);
    const theirs = addr.family === 4 ? new Address4(text) : new Address6(text);
    assert.deepEqual(parsePrefix(text), { ...addr, prefix: theirs.subnetMask });
    const prefix = len % (theirs.subnetMask + 1);
    assert.deepEqual(parsePrefix(`${text}/${prefix}`), { ...addr, prefix });
  }), { numRuns: 2000 });
});

test('malformed text is refused by both', () => {
  for (const text of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '1::2::3', '12345::1', 'g::1', '1:2:3:4:5:6:7:8:9', '', ':::']) {
    assert.equal(parseIp(text), undefined, text);
    assert.equal(parsePrefix(text), undefined, text);
    assert.equal(Address4.isValid(text) || Address6.isValid(text), false, text);
  }
});
