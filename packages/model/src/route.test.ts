import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRoute, parseRoute, routeSatisfies } from './route';

test('ip route syntax parses and formats back', () => {
  for (const text of ['default via 192.168.1.254', '10.0.2.0/24 via 10.0.1.1 dev eth0 metric 100', '10.0.3.0/24 dev eth1', '10.0.4.0/24 via 10.0.1.1 src 10.0.1.2', 'fd00:2::/64 via fd00:1::1']) {
    const r = parseRoute(text);
    assert.ok(r.ok, text);
    assert.equal(formatRoute(r.route), text);
  }
  const host = parseRoute('10.0.0.5 dev eth0');
  assert.ok(host.ok && host.route.dst === '10.0.0.5/32');
  const zero = parseRoute('0.0.0.0/0 via 10.0.0.1');
  assert.ok(zero.ok && zero.route.dst === 'default');
});

test('bad routes say what to fix', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['default', /needs a gateway/],
    ['default via', /needs a value/],
    ['default via 1.2.3', /not an IP address/],
    ['10.0.0.1/24 dev eth0', /host bits set: the network is 10.0.0.0\/24/],
    ['default via 1.1.1.1 metric -1', /metric/],
    ['default proto static via 1.1.1.1', /unknown word "proto"/],
    ['default dev a/b', /'\/'/],
  ];
  for (const [text, message] of cases) {
    const r = parseRoute(text);
    assert.ok(!r.ok, text);
    assert.match(r.ok ? '' : r.message, message, text);
  }
});

test('an observed route satisfies a desired one that leaves out the device', () => {
  const want = { dst: 'default', gateway: '10.0.0.1' };
  assert.ok(routeSatisfies({ ...want, dev: 'eth0' }, want));
  assert.ok(!routeSatisfies({ ...want, dev: 'eth0' }, { ...want, dev: 'eth1' }));
  assert.ok(!routeSatisfies({ dst: 'default', gateway: '10.0.0.2' }, want));
  assert.ok(!routeSatisfies({ ...want, metric: 5 }, want));
});
