// What the kernel (or iptables) would refuse, or take to mean something else, is refused by
// validation first with a sentence: a half-built lab is never the way a learner finds out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology } from './file';
import { firewallRuleKey, parseIptablesSave, ruleSpecs } from './nat';

function problems(yaml: string): string[] {
  const r = parseTopology(yaml);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}
const node = (body: string) => `name: t\nnodes:\n  n:\n${body}`;
const withIf = (extra: string) => node(`    interfaces:\n      br0: { kind: bridge, addresses: [10.0.0.1/24] }\n${extra}`);

test('addresses ::/0, ::1/128 on a device, and multicast are refused', () => {
  for (const a of ['::/0', '::1/128', '224.0.0.5/24', 'ff02::1/64', '0.0.0.0/0', '0.0.0.0/8']) {
    assert.ok(problems(node(`    interfaces:\n      br0: { kind: bridge, addresses: ["${a}"] }\n`)).some((p) => p.includes('interfaces.br0.addresses[0]')), a);
  }
});

test('IPv6 values in iptables rules are refused: snat to ::1, masquerade source ::/0', () => {
  assert.ok(problems(withIf('    nat:\n      - { type: snat, to: "::1" }\n')).some((p) => /IPv4/.test(p)));
  assert.ok(problems(withIf('    nat:\n      - { type: masquerade, source: "::/0" }\n')).some((p) => /IPv6/.test(p)));
  assert.ok(problems(withIf('    nat:\n      - { type: forward, action: drop, destination: "fe80::/64" }\n')).some((p) => /IPv6/.test(p)));
});

test('NAT in/out values ending in + are checked like names', () => {
  for (const out of ['a b c+', 'x;reboot+', '--help+', '-j DROP+', '+', 'averyveryverylongname+']) {
    assert.ok(problems(withIf(`    nat:\n      - { type: masquerade, out: "${out}" }\n`)).some((p) => p.includes('nat[0].out')), out);
  }
  assert.deepEqual(problems(withIf('    nat:\n      - { type: masquerade, out: "veth+" }\n      - { type: forward, action: accept, in: "!br+" }\n')), []);
});

test('host bits and 0.0.0.0/0 in a rule are normalised as iptables stores them, so a re-apply converges', () => {
  const r = parseTopology(withIf('    nat:\n      - { type: masquerade, source: 10.0.0.1/24, destination: 0.0.0.0/0 }\n'));
  assert.ok(r.ok);
  const rule = r.topology.nodes['n']!.nat[0]!;
  assert.deepEqual(rule, { type: 'masquerade', source: '10.0.0.0/24' });
  // What iptables-save prints for that rule reads back as the same rule.
  const saved = `*nat\n-A POSTROUTING ${ruleSpecs(rule)[0]!.args.join(' ')}\nCOMMIT\n`;
  assert.equal(firewallRuleKey(parseIptablesSave(saved)[0]!), firewallRuleKey(rule));
});

test('route src not on the node, a route duplicating the connected one, default plus 0.0.0.0/0 are refused', () => {
  assert.ok(problems(withIf('    routes: ["10.9.0.0/24 via 10.0.0.2 src 10.0.0.7"]\n')).some((p) => /src 10\.0\.0\.7/.test(p)));
  assert.deepEqual(problems(withIf('    routes: ["10.9.0.0/24 via 10.0.0.2 src 10.0.0.1"]\n')), []);
  assert.ok(problems(withIf('    routes: ["10.0.0.0/24 dev br0"]\n')).some((p) => /own subnet/.test(p)));
  assert.deepEqual(problems(withIf('    routes: ["10.0.0.0/24 dev br0 metric 10"]\n')), []);
  assert.ok(problems(withIf('    routes: ["default via 10.0.0.2", "0.0.0.0/0 via 10.0.0.3"]\n')).some((p) => /routes\[1\]/.test(p)));
});

test('a vxlan with both remote and group, and a bridge inside a bridge, are refused', () => {
  const vx = node('    interfaces:\n      eth0: { kind: bridge, addresses: [10.0.0.1/24] }\n      vx0: { kind: vxlan, vni: 5, remote: 10.0.0.2, group: 239.1.1.1, dev: eth0 }\n');
  assert.ok(problems(vx).some((p) => /not both/.test(p)));
  const nested = node('    interfaces:\n      br0: { kind: bridge }\n      br1: { kind: bridge, master: br0 }\n');
  assert.ok(problems(nested).some((p) => /bridge inside another bridge/.test(p)));
});

test('an IPv6 route, which nslab would add but never read back, is refused', () => {
  assert.ok(problems(withIf('    routes: ["50d5::/128 dev br0"]\n')).some((p) => /IPv6/.test(p)));
});
