import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology, parseTopologyData, toFile } from '../file';
import { plan } from '../plan';
import type { Topology } from '../topology';
import { ruleSpecs } from '../nat';
import { hostVethName } from './devices';

const docker = `
name: d
nodes:
  host:
    interfaces:
      uplink: { addresses: [203.0.113.2/24] }
  internet:
    interfaces:
      eth0: { addresses: [203.0.113.1/24] }
links:
  - [internet:eth0, host:uplink]
networks:
  bridge: { subnet: 172.17.0.0/16 }
  backend: { subnet: 10.10.0.0/24, internal: true }
containers:
  web: { networks: [bridge, backend], publish: ["8080:80"] }
  db: { networks: [backend] }
  api: {}
  tool: { network_mode: host }
  batch: { network_mode: none }
`;

function load(text: string, observed?: Topology) {
  const r = parseTopology(text, observed ? { observed } : {});
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r;
}

test('bridge networks expand as Docker builds them', () => {
  const { topology: t, meta } = load(docker);
  const host = t.nodes['host']!;
  assert.deepEqual(host.interfaces['docker0'], { kind: 'bridge', up: true, addresses: ['172.17.0.1/16'] });
  assert.deepEqual(host.interfaces['br-backend'], { kind: 'bridge', up: true, addresses: ['10.10.0.1/24'] });
  assert.equal(host.forwarding, true);
  // web joins two networks: two interfaces, a default route via the first non-internal gateway.
  assert.deepEqual(t.nodes['web']!.interfaces['eth0']!.addresses, ['172.17.0.2/16']);
  assert.deepEqual(t.nodes['web']!.interfaces['eth1']!.addresses, ['10.10.0.2/24']);
  assert.deepEqual(t.nodes['web']!.routes, [{ dst: 'default', gateway: '172.17.0.1' }]);
  // db is only on the internal network: no default route at all.
  assert.deepEqual(t.nodes['db']!.routes, []);
  // api takes the default network, "bridge", and the next address in order.
  assert.deepEqual(t.nodes['api']!.interfaces['eth0']!.addresses, ['172.17.0.3/16']);
  // Host-side veths are named like Docker's and enslaved to the network's bridge.
  assert.equal(host.interfaces[hostVethName('web', 'bridge')]!.master, 'docker0');
  assert.ok(t.links.some((l) => l.a.node === 'web' && l.a.interface === 'eth0' && l.b.interface === hostVethName('web', 'bridge')));
  // The firewall is Docker 24/25's layout, in the order that builds it (-I N inserts at N).
  assert.deepEqual(host.nat.map((r) => ruleSpecs(r).map((x) => `-t ${x.table} ${x.insert ? `-I ${x.chain} ${x.insert}` : `-A ${x.chain}`} ${x.args.join(' ')}`)).flat(), [
    '-t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    '-t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER',
    '-t filter -A FORWARD -j DOCKER-USER',
    '-t filter -A FORWARD -j DOCKER-ISOLATION-STAGE-1',
    '-t filter -A DOCKER-USER -j RETURN',
    '-t filter -A DOCKER-ISOLATION-STAGE-1 -j RETURN',
    '-t filter -A DOCKER-ISOLATION-STAGE-2 -j RETURN',
    '-t nat -I POSTROUTING 1 -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    '-t nat -I DOCKER 1 -i docker0 -j RETURN',
    '-t filter -I FORWARD 3 -i docker0 -o docker0 -j ACCEPT',
    '-t filter -I FORWARD 3 -i docker0 ! -o docker0 -j ACCEPT',
    '-t filter -I FORWARD 3 -o docker0 -j DOCKER',
    '-t filter -I FORWARD 3 -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-t filter -I DOCKER-ISOLATION-STAGE-1 1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2',
    '-t filter -I DOCKER-ISOLATION-STAGE-2 1 -o docker0 -j DROP',
    '-t filter -I DOCKER-ISOLATION-STAGE-1 1 ! -d 10.10.0.0/24 -i br-backend -j DROP',
    '-t filter -I DOCKER-ISOLATION-STAGE-1 1 ! -s 10.10.0.0/24 -o br-backend -j DROP',
    '-t filter -I FORWARD 3 -i br-backend -o br-backend -j ACCEPT',
    '-t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE',
    '-t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
    '-t filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT',
  ]);
  // host mode has no namespace of its own; none mode has one with only lo.
  assert.equal(t.nodes['tool'], undefined);
  assert.deepEqual(t.nodes['batch']!.interfaces, {});
  assert.equal(meta.containers?.containers['tool']?.mode, 'host');
  assert.deepEqual(meta.containers?.containers['web']?.endpoints.map((e) => `${e.network}:${e.interface}:${e.address}`), ['bridge:eth0:172.17.0.2/16', 'backend:eth1:10.10.0.2/24']);
});

test('IPAM keeps running containers\' addresses and hands a removed one to the next new container', () => {
  const first = load(docker).topology;
  // db removed, cache added: cache gets db's old backend address, web and api keep theirs.
  const edited = docker.replace('  db: { networks: [backend] }\n', '').replace('  api: {}\n', '  api: {}\n  cache: { networks: [backend] }\n');
  const second = load(edited, first).topology;
  assert.deepEqual(second.nodes['web']!.interfaces['eth1']!.addresses, ['10.10.0.2/24']);
  assert.deepEqual(second.nodes['api']!.interfaces['eth0']!.addresses, ['172.17.0.3/16']);
  assert.deepEqual(second.nodes['cache']!.interfaces['eth0']!.addresses, ['10.10.0.3/24']);
  // Without the kernel's state the order decides: a container added before web would push web along.
  const reordered = docker.replace('containers:\n', 'containers:\n  early: {}\n');
  assert.deepEqual(load(reordered, first).topology.nodes['web']!.interfaces['eth0']!.addresses, ['172.17.0.2/16']);
  assert.deepEqual(load(reordered, first).topology.nodes['early']!.interfaces['eth0']!.addresses, ['172.17.0.4/16']);
});

test('overlay: one subnet across hosts, a VXLAN device per host pointed at the other', () => {
  const { topology: t } = load(`
name: o
nodes:
  h1: { interfaces: { eth0: { addresses: [192.0.2.1/24] } } }
  h2: { interfaces: { eth0: { addresses: [192.0.2.2/24] } } }
links: [ [h1:eth0, h2:eth0] ]
networks:
  ov: { driver: overlay, subnet: 10.0.9.0/24, vni: 42 }
containers:
  c1: { networks: [ov], host: h1 }
  c2: { networks: [ov], host: h2 }
`);
  assert.deepEqual(t.nodes['c1']!.interfaces['eth0'], { kind: 'veth', up: true, addresses: ['10.0.9.2/24'], mtu: 1450 });
  assert.deepEqual(t.nodes['c2']!.interfaces['eth0']!.addresses, ['10.0.9.3/24']);
  assert.deepEqual(t.nodes['h1']!.interfaces['vx-ov'], { kind: 'vxlan', up: true, addresses: [], master: 'br-ov', vxlan: { vni: 42, port: 4789, dev: 'eth0', local: '192.0.2.1', remote: '192.0.2.2' } });
  assert.equal(t.nodes['h2']!.interfaces['vx-ov']!.vxlan!.remote, '192.0.2.1');
  // The way out is docker_gwbridge on each host (Docker's second endpoint of an overlay container), NATed like docker0.
  assert.deepEqual(t.nodes['c1']!.interfaces['eth1']!.addresses, ['172.18.0.2/16']);
  assert.deepEqual(t.nodes['c2']!.interfaces['eth1']!.addresses, ['172.18.0.2/16']);
  assert.deepEqual(t.nodes['c1']!.routes, [{ dst: 'default', gateway: '172.18.0.1' }]);
  assert.deepEqual(t.nodes['h1']!.interfaces['docker_gwbridge']!.addresses, ['172.18.0.1/16']);
  assert.ok(t.nodes['h1']!.nat.some((r) => r.type === 'other' && r.args.join(' ') === '-i docker_gwbridge -o docker_gwbridge -j DROP'));
});

test('bad container layers are refused with paths', () => {
  const r = parseTopology(`
name: bad
nodes:
  web: {}
networks:
  a: { subnet: 10.0.0.0/24 }
  b: { subnet: 10.0.0.128/25 }
  c: { subnet: nonsense }
  a-very-long-name: { subnet: 10.9.0.0/24 }
containers:
  web: {}
  x: { networks: [missing], publish: ["80"] }
  y: { networks: [a], publish: ["8080:80", "8080:81"] }
  z: { network_mode: host, networks: [a] }
  s1: { network_mode: "container:nobody" }
  s2: { network_mode: "container:s3" }
  s3: { network_mode: "container:s2" }
`);
  assert.ok(!r.ok);
  const text = r.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  for (const re of [
    /^networks\.b\.subnet: .*overlaps network a/m,
    /^networks\.c\.subnet: .*not an IPv4 prefix/m,
    /^networks\.a-very-long-name: .*too long for its bridge/m,
    /^containers\.web: "web" is both a node and a container/m,
    /^containers\.x\.networks\[0\]: network "missing" is not defined/m,
    /^containers\.x\.publish\[0\]: "80" is not HOSTPORT:CONTAINERPORT/m,
    /^containers\.y\.publish\[1\]: host's port 8080\/tcp is already published by y/m,
    /^containers\.z\.networks: a container in host mode/m,
    /^containers\.s1\.network_mode: container "nobody" is not defined/m,
    /^containers\.s2\.network_mode: .*in a circle/m,
  ]) assert.match(text, re);
});

test('container mode: no namespace of its own, the shared container\'s node', () => {
  const { topology: t, meta } = load(docker.replace('  api: {}\n', '  api: {}\n  sidecar: { network_mode: "container:web" }\n'));
  assert.equal(t.nodes['sidecar'], undefined);
  assert.equal(meta.containers?.containers['sidecar']?.node, 'web');
  assert.equal(meta.containers?.containers['sidecar']?.shares, 'web');
});

test('export gives the container layer back, not its expansion; parsing the export plans nothing', () => {
  const { topology: t, meta } = load(docker);
  const file = toFile(t, meta);
  assert.deepEqual(Object.keys(file.nodes ?? {}).sort(), ['host', 'internet']);
  assert.deepEqual(file.nodes?.['host']?.interfaces, { uplink: { addresses: ['203.0.113.2/24'] } });
  assert.equal(file.nodes?.['host']?.nat, undefined);
  assert.deepEqual(file.links, [['internet:eth0', 'host:uplink']]);
  assert.deepEqual(Object.keys(file.containers ?? {}), ['web', 'db', 'api', 'tool', 'batch']);
  assert.deepEqual(file.networks?.['backend'], { subnet: '10.10.0.0/24', internal: true });
  const again = parseTopologyData(file, { observed: t });
  assert.ok(again.ok, JSON.stringify(!again.ok && again.problems));
  // (lo is not in a parsed file, so `t` standing for the kernel lacks it: only its link.up is planned.)
  assert.deepEqual(plan(again.topology, t).filter((op) => !(op.kind === 'link.up' && op.interface === 'lo')), []);
});

test('a dnat target behind a route is accepted quietly; one no route leads to earns a warning', () => {
  const file = (route: string) => `
name: r
nodes:
  node1:
    interfaces:
      eth0: { kind: bridge, addresses: [192.168.56.11/24] }
    routes: [ "${route}" ]
    nat:
      - { type: dnat, port: 80, to: "10.244.2.2:8080" }
`;
  const routed = parseTopology(file('10.244.2.0/24 via 192.168.56.12'));
  assert.ok(routed.ok && routed.warnings === undefined);
  const r = parseTopology(file('10.9.0.0/24 via 192.168.56.12'));
  assert.ok(r.ok && (r.warnings ?? []).some((p) => /no route of node1 leads to it/.test(p.message)));
});
