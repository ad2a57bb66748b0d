import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology } from './file';
import { emptyTopology, plan, planDestroy } from './plan';
import { opArgv, OP_RANK } from './op';
import type { Op } from './op';
import type { Topology } from './topology';

function load(yaml: string): Topology {
  const r = parseTopology(yaml);
  assert.ok(r.ok, JSON.stringify(r));
  return r.topology;
}

const lab = load(`
name: demo
nodes:
  host:
    forwarding: true
    interfaces:
      br0: { kind: bridge, addresses: [192.168.1.254/24] }
      veth-ns1: { master: br0 }
      vx0: { kind: vxlan, vni: 42, remote: 10.0.0.2, dev: veth-ns1 }
    nat:
      - { type: masquerade, source: 192.168.1.0/24, out: veth-ns1 }
      - { type: dnat, port: 8080, to: "192.168.1.1:80", local: true }
      - { type: forward, action: drop, source: 192.168.1.0/24 }
  ns1:
    interfaces:
      eth0: { addresses: [192.168.1.1/24], mtu: 1400 }
    routes: [ "default via 192.168.1.254" ]
links:
  - [ns1:eth0, host:veth-ns1]
`);

test('plan from nothing creates everything, in dependency order', () => {
  const ops = plan(lab, emptyTopology('demo'));
  const kinds = ops.map((o) => o.kind);
  for (let i = 1; i < ops.length; i += 1) {
    assert.ok(OP_RANK[kinds[i - 1] as Op['kind']] <= OP_RANK[kinds[i] as Op['kind']], `${kinds[i - 1]} before ${kinds[i]}`);
  }
  assert.deepEqual(new Set(kinds), new Set(['netns.add', 'netns.mark', 'veth.add', 'device.add', 'link.enslave', 'link.mtu', 'addr.add', 'link.up', 'route.add', 'sysctl.set', 'nat.add']));
  // The bridge exists before the vxlan device and before any port is enslaved.
  const bridge = ops.findIndex((o) => o.kind === 'device.add' && o.device.kind === 'bridge');
  const vxlan = ops.findIndex((o) => o.kind === 'device.add' && o.device.kind === 'vxlan');
  const enslave = ops.findIndex((o) => o.kind === 'link.enslave');
  assert.ok(bridge < vxlan && bridge < enslave);
  // Every op says why it exists.
  assert.ok(ops.every((o) => o.reason.length > 0));
});

test('every op kind renders the exact argv it runs', () => {
  const ops = plan(lab, emptyTopology('demo'));
  const argv = (kind: string) => ops.filter((o) => o.kind === kind).map(opArgv);
  assert.deepEqual(argv('netns.add')[0], ['ip', 'netns', 'add', 'nslab.demo.host']);
  assert.deepEqual(argv('netns.mark')[0], ['ip', '-n', 'nslab.demo.host', 'link', 'set', 'lo', 'alias', 'nslab:v1:demo:host']);
  assert.deepEqual(argv('veth.add')[0], ['ip', 'link', 'add', 'name', 'eth0', 'netns', 'nslab.demo.ns1', 'type', 'veth', 'peer', 'name', 'veth-ns1', 'netns', 'nslab.demo.host']);
  assert.deepEqual(argv('device.add'), [
    ['ip', '-n', 'nslab.demo.host', 'link', 'add', 'name', 'br0', 'type', 'bridge'],
    ['ip', '-n', 'nslab.demo.host', 'link', 'add', 'name', 'vx0', 'type', 'vxlan', 'id', '42', 'remote', '10.0.0.2', 'dev', 'veth-ns1', 'dstport', '4789'],
  ]);
  assert.deepEqual(argv('link.enslave'), [['ip', '-n', 'nslab.demo.host', 'link', 'set', 'dev', 'veth-ns1', 'master', 'br0']]);
  assert.deepEqual(argv('link.mtu'), [['ip', '-n', 'nslab.demo.ns1', 'link', 'set', 'dev', 'eth0', 'mtu', '1400']]);
  assert.ok(argv('addr.add').some((a) => a.join(' ') === 'ip -n nslab.demo.ns1 addr add 192.168.1.1/24 dev eth0'));
  assert.deepEqual(argv('route.add'), [['ip', '-n', 'nslab.demo.ns1', 'route', 'add', 'default', 'via', '192.168.1.254']]);
  assert.deepEqual(argv('sysctl.set').filter((a) => a.join(' ').includes('ip_forward')), [['ip', 'netns', 'exec', 'nslab.demo.host', 'sysctl', '-qw', 'net.ipv4.ip_forward=1']]);
  // Every new namespace promotes secondaries, so an address change inside one subnet keeps the new address.
  assert.deepEqual(argv('sysctl.set').filter((a) => a[1] === 'netns' && a[3] === 'nslab.demo.ns1').map((a) => a[6]), [
    'net.ipv4.conf.all.promote_secondaries=1', 'net.ipv4.conf.default.promote_secondaries=1',
  ]);
  assert.deepEqual(argv('nat.add').map((a) => a.slice(4).join(' ')), [
    'iptables -w -t nat -A POSTROUTING -s 192.168.1.0/24 -o veth-ns1 -j MASQUERADE',
    'iptables -w -t nat -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.1:80',
    'iptables -w -t nat -A OUTPUT -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.1:80',
    'iptables -w -t filter -A FORWARD -s 192.168.1.0/24 -j DROP',
  ]);
});

test('plan(x, x) is empty', () => {
  // What the kernel reports: the same lab, with lo up and observed-only details.
  const observed = structuredClone(lab);
  for (const ns of Object.values(observed.nodes)) ns.interfaces['lo'] = { kind: 'loopback', up: true, addresses: [], state: 'unknown' };
  observed.nodes['ns1']!.routes = [{ dst: 'default', gateway: '192.168.1.254', dev: 'eth0' }];
  assert.deepEqual(plan(lab, observed), []);
});

function observedOf(t: Topology): Topology {
  const o = structuredClone(t);
  for (const ns of Object.values(o.nodes)) ns.interfaces['lo'] = { kind: 'loopback', up: true, addresses: [] };
  return o;
}

test('one changed address is one delete and one add, not a rebuild', () => {
  const desired = structuredClone(lab);
  desired.nodes['ns1']!.interfaces['eth0']!.addresses = ['192.168.1.7/24'];
  const ops = plan(desired, observedOf(lab));
  assert.deepEqual(ops.map((o) => opArgv(o).join(' ')), [
    'ip -n nslab.demo.ns1 addr del 192.168.1.1/24 dev eth0',
    'ip -n nslab.demo.ns1 addr add 192.168.1.7/24 dev eth0',
  ]);
});

test('removals run before creations, inner things before outer', () => {
  const desired = structuredClone(lab);
  delete desired.nodes['host']!.interfaces['vx0'];
  desired.nodes['host']!.nat = [];
  desired.nodes['ns1']!.routes = [];
  const ops = plan(desired, observedOf(lab));
  assert.deepEqual(ops.map((o) => o.kind), ['nat.del', 'nat.del', 'nat.del', 'nat.del', 'route.del', 'link.del']);
});

test('a removed node is one netns.del; its contents go with it, and the plan deletes its peers\' ends', () => {
  const desired: Topology = { name: 'demo', nodes: { host: structuredClone(lab.nodes['host']!) }, links: [] };
  delete desired.nodes['host']!.interfaces['veth-ns1'];
  delete desired.nodes['host']!.interfaces['vx0'];
  desired.nodes['host']!.nat = [];
  const ops = plan(desired, observedOf(lab));
  // host:veth-ns1 would die with ns1's namespace: the plan shows it going, before the namespace.
  assert.deepEqual(ops.map((o) => (o.kind === 'link.del' ? `${o.kind} ${o.interface}` : o.kind)), ['nat.del', 'nat.del', 'nat.del', 'nat.del', 'link.del veth-ns1', 'link.del vx0', 'netns.del']);
  assert.match(ops.find((o) => o.kind === 'link.del')?.reason ?? '', /joined to ns1:eth0, and ns1 is being removed/);
});

test('a veth joined to the wrong peer is recreated; its routes are not deleted separately', () => {
  const observed = observedOf(lab);
  observed.links = [];
  observed.nodes['ns1']!.routes = [{ dst: 'default', gateway: '192.168.1.254', dev: 'eth0' }];
  const ops = plan(lab, observed);
  const kinds = ops.map((o) => o.kind);
  assert.ok(kinds.includes('veth.add'));
  assert.ok(!kinds.includes('route.del'), kinds.join(','));
  assert.ok(kinds.includes('route.add'));
  assert.ok(kinds.includes('link.del'));
});

test('changing vxlan settings recreates the device', () => {
  const desired = structuredClone(lab);
  desired.nodes['host']!.interfaces['vx0']!.vxlan!.vni = 43;
  const ops = plan(desired, observedOf(lab));
  assert.deepEqual(ops.map((o) => o.kind), ['link.del', 'device.add', 'link.up']);
});

test('forwarding off and up/down changes are single ops', () => {
  const desired = structuredClone(lab);
  desired.nodes['host']!.forwarding = false;
  desired.nodes['host']!.interfaces['br0']!.up = false;
  const ops = plan(desired, observedOf(lab)).map((o) => opArgv(o).join(' '));
  assert.deepEqual(ops, ['ip -n nslab.demo.host link set dev br0 down', 'ip netns exec nslab.demo.host sysctl -qw net.ipv4.ip_forward=0']);
});

test('bridge membership changes are enslave/release', () => {
  const desired = structuredClone(lab);
  delete desired.nodes['host']!.interfaces['veth-ns1']!.master;
  const ops = plan(desired, observedOf(lab));
  assert.deepEqual(ops.map((o) => opArgv(o).join(' ')), ['ip -n nslab.demo.host link set dev veth-ns1 nomaster']);
});

test('planDestroy is one netns.del per node', () => {
  assert.deepEqual(planDestroy(lab).map(opArgv), [['ip', 'netns', 'del', 'nslab.demo.host'], ['ip', 'netns', 'del', 'nslab.demo.ns1']]);
});

test('plan names namespaces as asked (standalone scripts use node names)', () => {
  const ops = plan(lab, emptyTopology('demo'), { netns: (_l, n) => n });
  assert.deepEqual(opArgv(ops[0]!), ['ip', 'netns', 'add', 'host']);
});

test('an apply never removes implicitly what the model cannot express; a file listing firewall: owns the raw rules', () => {
  const observed = observedOf(lab);
  observed.nodes['ns1']!.interfaces['mv0'] = { kind: 'other', type: 'macvlan', up: true, addresses: [] };
  observed.nodes['ns1']!.nat.push({ type: 'other', table: 'filter', chain: 'INPUT', args: ['-p', 'icmp', '-j', 'DROP'] });
  // The file says nothing of mv0 or the INPUT rule: both stay.
  assert.deepEqual(plan(lab, observed), []);
  // A file that lists firewall: for ns1 owns its raw rules: the INPUT rule goes, the listed one comes.
  const owning = load(`
name: demo
nodes:
  ns1:
    firewall: ["-t filter -A OUTPUT -p tcp --dport 80 -j DROP"]
`);
  const ops = plan(owning, { name: 'demo', nodes: { ns1: observed.nodes['ns1']! }, links: [] });
  assert.deepEqual(ops.filter((o) => o.kind === 'nat.add' || o.kind === 'nat.del').map((o) => opArgv(o).slice(4).join(' ')), [
    'iptables -w -t filter -D INPUT -p icmp -j DROP',
    'iptables -w -t filter -A OUTPUT -p tcp -m tcp --dport 80 -j DROP',
  ]);
  assert.ok(!ops.some((o) => o.kind === 'link.del' && o.interface === 'mv0'), 'mv0 is kept');
});
