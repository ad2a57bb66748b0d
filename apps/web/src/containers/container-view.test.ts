import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseTopology } from '@nslab/model';
import { containerModel, endpointSelected, networkSelected, selectEndpoint, selectNetwork } from './container-view';
import { edgeId } from '../canvas/derive';

const example = (name: string) => readFileSync(new URL(`../../../../examples/${name}`, import.meta.url), 'utf8');

test('a docker lab: containers, their endpoints, networks, and what implements each endpoint', () => {
  const r = parseTopology(example('docker-modes.yaml'));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const m = containerModel(r.topology, r.meta.containers);
  assert.equal(m.source, 'docker');
  assert.deepEqual(m.sandboxes.map((s) => `${s.name}:${s.mode}`), ['batch:none', 'db:bridge', 'tool:host', 'web:bridge']);
  assert.deepEqual(m.networks.filter((n) => n.kind === 'docker').map((n) => n.name), ['backend', 'bridge']);
  const web = m.sandboxes.find((s) => s.name === 'web')!;
  assert.deepEqual(web.endpoints.map((e) => `${e.interface} ${e.network} ${e.address}`), ['eth0 net:bridge 172.17.0.2/16', 'eth1 net:backend 10.10.0.2/24']);
  const ep = web.endpoints[0]!;
  assert.equal(ep.node, 'web');
  assert.deepEqual(ep.bridge, { node: 'host', name: 'docker0' });
  assert.equal(ep.peer?.node, 'host');
  const link = r.topology.links.find((l) => l.a.node === 'web' && l.a.interface === 'eth0')!;
  assert.equal(ep.edge, edgeId(link));
  assert.match(m.sandboxes.find((s) => s.name === 'tool')!.note ?? '', /shares host's network namespace/);
  assert.deepEqual(m.hosts.map((h) => h.name), ['host']);
  assert.deepEqual(m.others.map((o) => o.name), ['internet']);
  // internet's cable to the host ends in no bridge: a point-to-point network.
  assert.equal(m.networks.find((n) => n.id === m.others[0]!.endpoints[0]!.network)?.kind, 'direct');
  const bridge = m.networks.find((n) => n.name === 'bridge')!;
  assert.deepEqual(bridge.bridges, [{ node: 'host', name: 'docker0' }]);
  assert.equal(bridge.gateway, '172.17.0.1');
});

test('selection is shared with the kernel view: an endpoint selects its interface; its veth pair and bridge port select it back', () => {
  const r = parseTopology(example('docker-modes.yaml'));
  if (!r.ok) throw new Error('bad');
  const m = containerModel(r.topology, r.meta.containers);
  const ep = m.sandboxes.find((s) => s.name === 'db')!.endpoints[0]!;
  assert.deepEqual(selectEndpoint(ep), { kind: 'node', node: 'db', interface: 'eth0' });
  assert.equal(endpointSelected(ep, { kind: 'node', node: 'db', interface: 'eth0' }), true);
  assert.equal(endpointSelected(ep, { kind: 'node', node: ep.peer!.node, interface: ep.peer!.interface }), true);
  assert.equal(endpointSelected(ep, { kind: 'link', key: ep.edge!.replace(/^link:/, '') }), true);
  assert.equal(endpointSelected(ep, { kind: 'node', node: 'db' }), false);
  const backend = m.networks.find((n) => n.name === 'backend')!;
  assert.deepEqual(selectNetwork(backend), { kind: 'node', node: 'host', interface: 'br-backend' });
  assert.equal(networkSelected(backend, { kind: 'node', node: 'host', interface: 'br-backend' }), true);
});

test('a plain lab, generically: namespaces without bridges are sandboxes, bridges are networks', () => {
  const r = parseTopology(example('bridge.yaml'));
  if (!r.ok) throw new Error('bad');
  const m = containerModel(r.topology, r.meta.containers);
  assert.equal(m.source, 'kernel');
  assert.deepEqual(m.sandboxes.map((s) => s.name), ['ns1', 'ns2', 'ns3']);
  assert.deepEqual(m.hosts.map((s) => s.name), ['host']);
  assert.deepEqual(m.networks.map((n) => `${n.kind} ${n.name}`), ['bridge br0 (host)']);
  const ep = m.sandboxes[0]!.endpoints[0]!;
  assert.deepEqual({ network: ep.network, bridge: ep.bridge, peer: ep.peer }, { network: 'bridge:host/br0', bridge: { node: 'host', name: 'br0' }, peer: { node: 'host', interface: 'veth-ns1' } });
});

test('a veth pair with no bridge is a point-to-point network', () => {
  const r = parseTopology(example('veth-pair.yaml'));
  if (!r.ok) throw new Error('bad');
  const m = containerModel(r.topology, undefined);
  assert.equal(m.networks.length, 1);
  assert.equal(m.networks[0]!.kind, 'direct');
  assert.deepEqual(selectNetwork(m.networks[0]!), { kind: 'link', key: m.networks[0]!.link });
  assert.equal(m.sandboxes.every((s) => s.endpoints[0]?.network === m.networks[0]!.id), true);
});

test('an overlay is one network spanning its hosts, with the VXLAN device of each host; its containers also have docker_gwbridge', () => {
  const r = parseTopology(example('overlay.yaml'));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const m = containerModel(r.topology, r.meta.containers);
  const overlays = m.networks.filter((n) => n.driver === 'overlay');
  assert.equal(overlays.length, 1);
  const ov = overlays[0]!;
  assert.deepEqual({ name: ov.name, subnet: ov.subnet, vni: ov.vni }, { name: 'ov', subnet: '10.0.9.0/24', vni: 4096 });
  assert.deepEqual(ov.bridges, [{ node: 'host1', name: 'br-ov' }, { node: 'host2', name: 'br-ov' }]);
  assert.deepEqual(ov.vxlans, [
    { node: 'host1', name: 'vx-ov', vni: 4096, remote: '192.0.2.2', local: '192.0.2.1' },
    { node: 'host2', name: 'vx-ov', vni: 4096, remote: '192.0.2.1', local: '192.0.2.2' },
  ]);
  // No network of its own for either host's br-ov: both are the overlay.
  assert.deepEqual(m.networks.map((n) => n.name), ['docker_gwbridge', 'ov', 'br0 (switch)']);
  // c1 and c2, on two hosts, are on the same network; each also has its host's docker_gwbridge for the way out.
  for (const name of ['c1', 'c2']) {
    const s = m.sandboxes.find((x) => x.name === name)!;
    assert.deepEqual(s.endpoints.map((e) => `${e.interface} ${e.network}`), ['eth0 net:ov', 'eth1 net:docker_gwbridge']);
  }
  assert.notEqual(m.sandboxes.find((x) => x.name === 'c1')!.endpoints[0]!.bridge?.node, m.sandboxes.find((x) => x.name === 'c2')!.endpoints[0]!.bridge?.node);
  const gw = m.networks.find((n) => n.name === 'docker_gwbridge')!;
  assert.deepEqual({ driver: gw.driver, gateway: gw.gateway, vxlans: gw.vxlans }, { driver: 'bridge', gateway: '172.18.0.1', vxlans: [] });
});

test('a bridge with a VXLAN port, read from the kernel alone, shows the device', () => {
  const r = parseTopology(example('overlay.yaml'));
  if (!r.ok) throw new Error('bad');
  const m = containerModel(r.topology, undefined);
  const br = m.networks.find((n) => n.id === 'bridge:host1/br-ov')!;
  assert.deepEqual(br.vxlans.map((v) => `${v.node}/${v.name} -> ${v.remote}`), ['host1/vx-ov -> 192.0.2.2']);
});

test('container mode: the sharing containers are in the sandbox they share, not sandboxes of their own', () => {
  const r = parseTopology(`name: shared
nodes:
  host: {}
networks:
  bridge: { subnet: 172.17.0.0/16 }
containers:
  web: {}
  side: { network_mode: "container:web" }
  probe: { network_mode: "container:side" }
  other: {}
`);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const m = containerModel(r.topology, r.meta.containers);
  assert.deepEqual(m.sandboxes.map((s) => `${s.name} ${s.node} [${(s.joined ?? []).join(',')}]`), ['other other []', 'web web [probe,side]']);
  assert.deepEqual(m.sandboxes.find((s) => s.name === 'web')!.endpoints.map((e) => `${e.interface} ${e.address}`), ['eth0 172.17.0.2/16']);
});
