import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology } from './file';

/** Parses a file expected to be invalid and returns its problems as "path: message" lines. */
function problems(yaml: string): string[] {
  const r = parseTopology(yaml);
  assert.equal(r.ok, false, 'expected the file to be refused');
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

function has(list: string[], path: string, words: RegExp): void {
  assert.ok(list.some((l) => l.startsWith(`${path}:`) && words.test(l)), `no problem at ${path} matching ${words}; got:\n${list.join('\n')}`);
}

const ok = `
name: ok
nodes:
  host:
    forwarding: true
    interfaces:
      br0: { kind: bridge, addresses: [192.168.1.254/24] }
      veth-ns1: { master: br0 }
    nat:
      - { type: dnat, proto: tcp, port: 8080, to: "192.168.1.1:80" }
  ns1:
    interfaces:
      eth0: { addresses: [192.168.1.1/24] }
    routes: [ "default via 192.168.1.254" ]
links:
  - [ns1:eth0, host:veth-ns1]
`;

test('a good file parses with its links resolved to veth ends', () => {
  const r = parseTopology(ok);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.topology.nodes['ns1']?.interfaces['eth0']?.kind, 'veth');
  assert.deepEqual(r.topology.nodes['ns1']?.routes, [{ dst: 'default', gateway: '192.168.1.254' }]);
});

test('interface names: too long, slash, whitespace, colon', () => {
  const list = problems(`
name: bad
nodes:
  a:
    interfaces:
      this-name-is-too-long: { kind: bridge }
      "a/b": { kind: bridge }
      "a b": { kind: bridge }
      "a:b": { kind: bridge }
      up: { kind: bridge }
`);
  has(list, 'nodes.a.interfaces.up', /keyword/);
  has(list, 'nodes.a.interfaces.this-name-is-too-long', /21 bytes.*at most 15/);
  has(list, 'nodes.a.interfaces.a/b', /'\/'/);
  has(list, 'nodes.a.interfaces.a b', /whitespace/);
  has(list, 'nodes.a.interfaces.a:b', /':'/);
});

test('node and lab names outside [a-z0-9-] or with ..', () => {
  const list = problems(`
name: Bad_Lab
nodes:
  NS1: {}
  "a..b": {}
  -x: {}
`);
  has(list, 'name', /characters other than/);
  has(list, 'nodes.NS1', /characters other than/);
  has(list, 'nodes.a..b', /"\.\."/);
  has(list, 'nodes.-x', /starts with '-'/);
});

test('malformed CIDRs and the same address twice in a namespace', () => {
  const list = problems(`
name: cidr
nodes:
  a:
    interfaces:
      br0: { kind: bridge, addresses: [10.0.0.1, 10.0.0.300/24, 10.0.0.1/33, 10.0.0.2/24] }
      br1: { kind: bridge, addresses: [10.0.0.2/16] }
`);
  has(list, 'nodes.a.interfaces.br0.addresses[0]', /not an address with a prefix/);
  has(list, 'nodes.a.interfaces.br0.addresses[1]', /not an address/);
  has(list, 'nodes.a.interfaces.br0.addresses[2]', /not an address/);
  has(list, 'nodes.a.interfaces.br1.addresses[0]', /already on br0/);
});

test('links: missing node, veth end used twice, end of another kind', () => {
  const list = problems(`
name: links
nodes:
  a:
    interfaces:
      br0: { kind: bridge }
  b: {}
links:
  - [a:eth0, ghost:eth0]
  - [a:eth0, b:eth0]
  - [a:br0, b:eth1]
  - [nocolon, b:eth2]
`);
  has(list, 'links[0][1]', /"ghost", which is not in nodes/);
  has(list, 'links[1][0]', /already an end of link 1/);
  has(list, 'links[2][0]', /is a bridge, but a link end must be a veth/);
  has(list, 'links[3][0]', /NODE:INTERFACE/);
});

test('master must be a bridge in the same node', () => {
  const list = problems(`
name: master
nodes:
  a:
    interfaces:
      br0: { kind: bridge }
      v1: { master: br9 }
      v2: { master: v1 }
  b:
    interfaces:
      br1: { kind: bridge }
      e1: {}
links:
  - [a:v1, b:e1]
  - [a:v2, b:e2]
`);
  has(list, 'nodes.a.interfaces.v1.master', /"br9" is not an interface of a/);
  has(list, 'nodes.a.interfaces.v2.master', /is a veth, not a bridge/);
});

test('a route whose gateway is on no connected subnet, and bad route syntax', () => {
  const list = problems(`
name: routes
nodes:
  a:
    interfaces:
      br0: { kind: bridge, addresses: [10.0.1.2/24] }
    routes: [ "default via 10.0.2.1", "10.0.3.5/24 via 10.0.1.1", "10.0.4.0/24 gateway 10.0.1.1" ]
`);
  has(list, 'nodes.a.routes[0]', /gateway 10.0.2.1 .* is on no subnet of a \(it has 10.0.1.0\/24\)/);
  has(list, 'nodes.a.routes[1]', /host bits set/);
  has(list, 'nodes.a.routes[2]', /unknown word "gateway"/);
});

test('dnat: target outside every subnet, port outside 1-65535', () => {
  const list = problems(`
name: nat
nodes:
  host:
    interfaces:
      br0: { kind: bridge, addresses: [192.168.1.254/24] }
    nat:
      - { type: dnat, port: 8080, to: "10.9.9.9:80" }
      - { type: dnat, port: 70000, to: "192.168.1.1:80" }
      - { type: dnat, port: 80, to: "192.168.1.1:0" }
      - { type: masquerade, source: 192.168.1.0/24, out: uplnk }
`);
  // A target beyond the node's subnets is a warning (kube-proxy DNATs to other nodes' pods), never a refusal.
  assert.ok(!list.some((l) => l.startsWith('nodes.host.nat[0].to:')), list.join('\n'));
  has(list, 'nodes.host.nat[1].port', /outside 1-65535/);
  has(list, 'nodes.host.nat[2].to', /outside 1-65535/);
  has(list, 'nodes.host.nat[3].out', /names no interface of host/);
});

test('unknown keys are errors, at every level', () => {
  const list = problems(`
name: keys
colour: blue
nodes:
  a:
    forwardng: true
    interfaces:
      br0: { kind: bridge, adress: [10.0.0.1/24] }
`);
  has(list, '', /unknown key "colour"/);
  has(list, 'nodes.a', /unknown key "forwardng"/);
  has(list, 'nodes.a.interfaces.br0', /unknown key "adress"/);
});

test('duplicate node names are refused', () => {
  const list = problems(`
name: dup
nodes:
  a: {}
  a: {}
`);
  assert.match(list.join('\n'), /defined twice \(line 5/);
});

test('every problem is reported at once, not just the first', () => {
  const list = problems(`
name: many
nodes:
  a:
    interfaces:
      br0: { kind: bridge, addresses: [bad, 10.0.0.1/24, 10.0.0.1/24] }
      "x/y": { kind: bridge }
    routes: [ "default via 9.9.9.9" ]
`);
  assert.ok(list.length >= 4, list.join('\n'));
});

test('vxlan: vni range, remote or group, dev in the node', () => {
  const list = problems(`
name: vx
nodes:
  a:
    interfaces:
      vx0: { kind: vxlan, vni: 0, dev: eth9 }
      vx1: { kind: vxlan, vni: 42, remote: nope }
`);
  has(list, 'nodes.a.interfaces.vx0.vni', /1 to 16777215/);
  has(list, 'nodes.a.interfaces.vx0.remote', /needs "remote"/);
  has(list, 'nodes.a.interfaces.vx0.dev', /"eth9" is not an interface/);
  has(list, 'nodes.a.interfaces.vx1.remote', /not an IP address/);
});

test('devices built under kind other: a bad type, a parent not in the node, a bad mode, a missing id are refused with their paths', () => {
  const list = problems(`
name: dev
nodes:
  a:
    interfaces:
      br0: { kind: bridge }
      mv0: { kind: other, type: macvlan, parent: eth9, mode: fast }
      t0: { type: tun }
      v0: { kind: other, type: vlan, parent: br0 }
      w0: { kind: other, type: wireguard, parent: br0 }
      x0: { kind: other, type: "Mac Vlan" }
      i0: { kind: other, type: ifb, parent: br0 }
`);
  has(list, 'nodes.a.interfaces.mv0.parent', /a has no interface "eth9" for mv0 to sit on/);
  has(list, 'nodes.a.interfaces.mv0.mode', /"fast" is not a macvlan mode: use one of vepa, private, bridge, passthru, source/);
  has(list, 'nodes.a.interfaces.t0.mode', /a:t0 is a tun: give it "mode", one of tun, tap/);
  has(list, 'nodes.a.interfaces.v0.id', /give it "id", a VLAN id from 0 to 4095/);
  has(list, 'nodes.a.interfaces.w0.parent', /nslab builds only .*, not a wireguard: remove "parent"/);
  has(list, 'nodes.a.interfaces.x0.type', /is not a device type the kernel has/);
  has(list, 'nodes.a.interfaces.i0.parent', /an ifb has no parent device/);
  assert.equal(list.length, 7, list.join('\n'));
});

test('a macvlan with no parent and a type nslab does not build are accepted with a warning each', () => {
  const r = parseTopology('name: dev\nnodes:\n  a:\n    interfaces:\n      mv0: { kind: other, type: macvlan }\n      w0: { kind: other, type: wireguard }\n      t0: { kind: other, type: tun, mode: tap }\n');
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems));
  assert.deepEqual((r.warnings ?? []).map((w) => w.path), ['nodes.a.interfaces.mv0.parent', 'nodes.a.interfaces.w0']);
});
