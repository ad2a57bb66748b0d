/** The `conntrack -L` parser: both directions, flags, TCP state, ICMP, IPv6, and lines that are not entries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConntrackLine, parseConntrackTable } from './conntrack';

test('a DNATed TCP connection: the original asks the host, the reply comes from the server behind it', () => {
  const e = parseConntrackLine('host', 'tcp      6 431999 ESTABLISHED src=203.0.113.1 dst=203.0.113.2 sport=40000 dport=8080 src=192.168.1.1 dst=203.0.113.1 sport=80 dport=40000 [ASSURED] mark=0 use=1');
  assert.deepEqual(e, {
    node: 'host', proto: 'tcp', state: 'ESTABLISHED', timeout: 431999, flags: ['ASSURED'],
    original: { src: '203.0.113.1', dst: '203.0.113.2', sport: 40000, dport: 8080 },
    reply: { src: '192.168.1.1', dst: '203.0.113.1', sport: 80, dport: 40000 },
  });
});

test('an unreplied UDP datagram: no state, the flag between the tuples', () => {
  const e = parseConntrackLine('host', 'udp      17 29 src=192.168.1.1 dst=203.0.113.1 sport=5353 dport=53 [UNREPLIED] src=203.0.113.1 dst=203.0.113.2 sport=53 dport=5353 mark=0 use=1');
  assert.equal(e?.state, '');
  assert.deepEqual(e?.flags, ['UNREPLIED']);
  assert.deepEqual(e?.reply, { src: '203.0.113.1', dst: '203.0.113.2', sport: 53, dport: 5353 });
});

test('ICMP has addresses only: its type, code and id are not ports', () => {
  const e = parseConntrackLine('ns1', 'icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=21753 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=21753 mark=0 use=1');
  assert.deepEqual(e?.original, { src: '10.0.0.1', dst: '10.0.0.2' });
  assert.deepEqual(e?.reply, { src: '10.0.0.2', dst: '10.0.0.1' });
  assert.equal(e?.timeout, 29);
});

test('IPv6 addresses keep their colons', () => {
  const e = parseConntrackLine('ns1', 'tcp      6 117 SYN_SENT src=fd00::1 dst=fd00::2 sport=33000 dport=80 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=80 dport=33000 mark=0 use=1');
  assert.equal(e?.original.src, 'fd00::1');
  assert.equal(e?.state, 'SYN_SENT');
});

test('the summary line, blank lines and a half entry are not entries', () => {
  assert.equal(parseConntrackLine('n', 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.'), null);
  assert.equal(parseConntrackLine('n', ''), null);
  assert.equal(parseConntrackLine('n', 'tcp 6 10 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2'), null);
});

test('a table keeps the first entries up to the limit and counts them all', () => {
  const line = (i: number) => `udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=${1000 + i} dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=${1000 + i} mark=0 use=1`;
  const text = [line(0), line(1), 'garbage', line(2), ''].join('\n');
  const t = parseConntrackTable('n', text, 2);
  assert.equal(t.total, 3);
  assert.deepEqual(t.entries.map((e) => e.original.sport), [1000, 1001]);
});
