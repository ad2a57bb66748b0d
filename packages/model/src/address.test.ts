import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalCidr, canonicalIp, contains, nthAddress, parseCidr, parseIp, formatIp } from './address';

test('IPv4 and IPv6 parse and format canonically', () => {
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIp('010.0.0.1'), undefined);
  assert.equal(canonicalIp('256.0.0.1'), undefined);
  assert.equal(canonicalIp('FD00:0:0:0:0:0:0:1'), 'fd00::1');
  assert.equal(canonicalIp('::'), '::');
  assert.equal(canonicalIp('1::2::3'), undefined);
  assert.equal(canonicalIp('::ffff:10.0.0.1'), '::ffff:a00:1');
  assert.equal(canonicalCidr('10.0.0.1/24'), '10.0.0.1/24');
  assert.equal(canonicalCidr('10.0.0.1/33'), undefined);
  assert.equal(canonicalCidr('10.0.0.1'), undefined);
});

test('containment and allocation', () => {
  const net = parseCidr('192.168.1.0/24')!;
  assert.ok(contains(net, parseIp('192.168.1.200')!));
  assert.ok(!contains(net, parseIp('192.168.2.1')!));
  assert.ok(!contains(net, parseIp('fd00::1')!));
  assert.equal(formatIp(nthAddress(net, 1n)!), '192.168.1.1');
  assert.equal(nthAddress(net, 256n), undefined);
});
