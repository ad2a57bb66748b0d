/**
 * nslab-nsread against `ip` on the real kernel: every namespace read both ways must
 * give the same reading, for every bundled example and for the kernel details the
 * examples lack (IPv6, same-namespace veth pairs, vxlan, metrics, a peer in another
 * lab). `ip` is the reference: the helper replaces it for speed, never for content.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { netnsName, ownerMarker, parseTopologyData, plan } from '@nslab/model';
import type { NamespaceReading } from './iproute';
import { applyTopology } from './lab';
import { createArgv, createWithHelper, NSREAD_PATH, nsreadAvailable, ownersWithHelper, readWithHelper, splitFrames } from './nsread';
import { listNetns, readNetnsWithIp, readOwner } from './observe';
import { HOST_LITTLE_ENDIAN } from './rtnetlink';
import { CommandError, pool } from './runner';
import { cleanup, EXAMPLES, inNode, loadExample, uniqueLab } from '../../test-kit/lab';

const made: string[] = [];
/** Namespaces made by hand (not lab-owned, so destroyLab leaves them): deleted by name. */
const strays: string[] = [];
after(async () => {
  await cleanup(...made);
  for (const n of strays) spawnSync('ip', ['netns', 'del', n]);
});

/** The parts of a reading that must not depend on the reader. */
function comparable(r: NamespaceReading | undefined) {
  if (!r) return r;
  // `ip netns list-id` lists every nsid the namespace has; the helper names only those its devices use.
  const used = new Set([...r.peers.values()].map((p) => p.nsid));
  return {
    namespace: r.namespace,
    owner: r.owner,
    ifindex: [...r.ifindex].sort(([a], [b]) => a - b),
    peers: [...r.peers].sort(([a], [b]) => a.localeCompare(b)),
    nsids: [...r.nsids].filter(([id]) => used.has(id)).sort(([a], [b]) => a - b),
  };
}

async function labNetns(lab: string): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(`nslab.${lab}.`));
}

/**
 * Reads namespaces both ways and checks they agree; returns the helper's readings. A
 * lab just applied is still settling (the kernel moves a new device's operstate from
 * unknown or down to up a moment later), so the two reads, made one after the other,
 * are retried until they agree, for up to 3 s: a decoder that is wrong disagrees every time.
 */
async function sameBothWays(names: string[]): Promise<Map<string, NamespaceReading>> {
  for (let attempt = 1; ; attempt += 1) {
    const helper = await readWithHelper(names, { firewall: true });
    const ip = await pool(names, 8, (n) => readNetnsWithIp(n, true));
    try {
      names.forEach((n, i) => assert.deepEqual(comparable(helper[i]), comparable(ip[i]), n));
      return new Map(names.map((n, i) => [n, helper[i] as NamespaceReading]));
    } catch (err) {
      if (attempt >= SETTLE_ATTEMPTS) throw err;
      await new Promise((ok) => setTimeout(ok, SETTLE_WAIT_MS));
    }
  }
}

/** See sameBothWays: 15 tries 200 ms apart. */
const SETTLE_ATTEMPTS = 15;
const SETTLE_WAIT_MS = 200;

function ipIn(netns: string, ...argv: string[]): void {
  execFileSync('ip', ['-n', netns, ...argv]);
}

describe('nslab-nsread reads what ip reads', { skip: !nsreadAvailable() && 'nslab-nsread is not built (node apps/server/native/build.mjs)' }, () => {
  test('every bundled example, firewall included', async () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();
    assert.ok(files.length >= 8, `examples: ${files.join(', ')}`);
    let nat = 0;
    let vxlan = 0;
    for (const file of files) {
      const lab = uniqueLab(`t-nsr-${file.slice(0, 4)}`);
      made.push(lab);
      await applyTopology(loadExample(file, lab));
      const readings = await sameBothWays(await labNetns(lab));
      for (const r of readings.values()) {
        nat += r.namespace.nat.length;
        vxlan += Object.values(r.namespace.interfaces).filter((i) => i.kind === 'vxlan').length;
      }
    }
    // The comparison covered the firewall and vxlan paths, not only empty namespaces.
    assert.ok(nat >= 3, `NAT rules read: ${nat}`);
    assert.ok(vxlan >= 2, `vxlan devices read: ${vxlan}`);
  });

  test('kernel details the examples lack, and a peer in another lab', async () => {
    const lab = uniqueLab('t-nsr-detail');
    const other = uniqueLab('t-nsr-other');
    made.push(lab, other);
    await applyTopology(loadExample('veth-pair.yaml', lab));
    await applyTopology(loadExample('veth-pair.yaml', other));
    const ns1 = netnsName(lab, 'ns1');
    const ns2 = netnsName(lab, 'ns2');
    ipIn(ns1, 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0');
    ipIn(ns1, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
    ipIn(ns1, 'link', 'add', 'br9', 'type', 'bridge');
    ipIn(ns1, 'link', 'set', 'va', 'master', 'br9');
    ipIn(ns1, 'link', 'set', 'vb', 'mtu', '1400');
    ipIn(ns1, 'link', 'set', 'vb', 'up');
    ipIn(ns1, 'route', 'add', '10.9.0.0/16', 'via', '172.18.0.3', 'metric', '50', 'proto', 'static');
    ipIn(ns1, 'route', 'add', '10.8.0.0/16', 'dev', 'eth0', 'src', '172.18.0.2');
    ipIn(ns1, 'route', 'add', '10.7.0.1', 'dev', 'eth0');
    ipIn(ns1, 'link', 'add', 'vx42', 'type', 'vxlan', 'id', '42', 'group', '239.1.1.1', 'dev', 'eth0', 'dstport', '4789');
    ipIn(ns1, 'link', 'add', 'vx7', 'type', 'vxlan', 'id', '7', 'remote', '172.18.0.3', 'local', '172.18.0.2', 'dstport', '8472');
    ipIn(ns1, 'link', 'set', 'eth0', 'alias', 'uplink to ns2');
    // Devices nslab rebuilds under kind other: their parent, mode and id are read alike.
    ipIn(ns1, 'link', 'add', 'link', 'eth0', 'name', 'mv0', 'type', 'macvlan', 'mode', 'bridge');
    ipIn(ns1, 'link', 'add', 'link', 'vb', 'name', 'mt0', 'type', 'macvtap', 'mode', 'private');
    ipIn(ns1, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
    ipIn(ns1, 'tuntap', 'add', 'dev', 'tun0', 'mode', 'tun');
    ipIn(ns1, 'link', 'add', 'name', 'ifb0', 'type', 'ifb');
    // A macvlan whose parent is in another namespace (Docker's pattern): no parent here.
    ipIn(ns2, 'link', 'add', 'link', 'eth0', 'name', 'mvx', 'netns', ns1, 'type', 'macvlan', 'mode', 'vepa');
    // Modules this kernel may lack (DESIGN.md section 9): read when they are there.
    const ipvlan = spawnSync('ip', ['-n', ns1, 'link', 'add', 'link', 'eth0', 'name', 'ipv0', 'type', 'ipvlan', 'mode', 'l3']).status === 0;
    const vlan = spawnSync('ip', ['-n', ns1, 'link', 'add', 'link', 'eth0', 'name', 'eth0.5', 'type', 'vlan', 'id', '5']).status === 0;
    assert.equal(inNode(lab, 'ns1', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']).code, 0);
    // A veth from this lab to the other: its peer is in none of the namespaces read.
    ipIn(ns2, 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1', 'netns', netnsName(other, 'ns1'));
    assert.equal(inNode(lab, 'ns2', ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE']).code, 0);

    const names = [ns1, ns2];
    const read = await sameBothWays(names);
    const one = read.get(ns1)?.namespace;
    assert.ok(one);
    assert.ok(one.forwarding);
    assert.deepEqual(one.interfaces['eth0']?.addresses, ['172.18.0.2/24', '2001:db8::1/64']);
    assert.equal(one.interfaces['vb']?.mtu, 1400);
    assert.equal(one.interfaces['va']?.master, 'br9');
    assert.deepEqual(one.interfaces['vx42']?.vxlan, { vni: 42, port: 4789, group: '239.1.1.1', dev: 'eth0' });
    assert.deepEqual(one.interfaces['vx7']?.vxlan, { vni: 7, port: 8472, remote: '172.18.0.3', local: '172.18.0.2' });
    const device = (name: string) => {
      const i = one.interfaces[name];
      return i && { kind: i.kind, type: i.type, parent: i.parent, mode: i.mode, id: i.id };
    };
    assert.deepEqual(device('mv0'), { kind: 'other', type: 'macvlan', parent: 'eth0', mode: 'bridge', id: undefined });
    assert.deepEqual(device('mt0'), { kind: 'other', type: 'macvtap', parent: 'vb', mode: 'private', id: undefined });
    assert.deepEqual(device('tap0'), { kind: 'other', type: 'tun', parent: undefined, mode: 'tap', id: undefined });
    assert.deepEqual(device('tun0'), { kind: 'other', type: 'tun', parent: undefined, mode: 'tun', id: undefined });
    assert.deepEqual(device('ifb0'), { kind: 'other', type: 'ifb', parent: undefined, mode: undefined, id: undefined });
    assert.deepEqual(device('mvx'), { kind: 'other', type: 'macvlan', parent: undefined, mode: 'vepa', id: undefined });
    if (ipvlan) assert.deepEqual(device('ipv0'), { kind: 'other', type: 'ipvlan', parent: 'eth0', mode: 'l3', id: undefined });
    if (vlan) assert.deepEqual(device('eth0.5'), { kind: 'other', type: 'vlan', parent: 'eth0', mode: undefined, id: 5 });
    assert.ok(one.routes.some((r) => r.dst === '10.9.0.0/16' && r.gateway === '172.18.0.3' && r.metric === 50));
    assert.ok(one.routes.some((r) => r.dst === '10.8.0.0/16' && r.src === '172.18.0.2'));
    assert.ok(one.routes.some((r) => r.dst === '10.7.0.1/32'));
    // Same-namespace pair: each end names the other by ifindex, with no nsid.
    const r1 = read.get(ns1);
    const vb = [...(r1?.ifindex ?? [])].find(([, n]) => n === 'vb')?.[0];
    assert.deepEqual(r1?.peers.get('va'), { ifindex: vb });
    // The cross-lab peer was found by looking through /run/netns.
    const r2 = read.get(ns2);
    const x0 = r2?.peers.get('x0');
    assert.equal(x0?.nsid !== undefined && r2?.nsids.get(x0.nsid), netnsName(other, 'ns1'));
    assert.deepEqual(read.get(ns2)?.namespace.nat.map((r) => r.type), ['masquerade']);

    // Rules flushed but tables left: still read (the table check only skips namespaces with none).
    assert.equal(inNode(lab, 'ns2', ['iptables', '-t', 'nat', '-F']).code, 0);
    assert.deepEqual((await sameBothWays(names)).get(ns2)?.namespace.nat, []);
  });

  test('a namespace that is gone reads as nothing; the others still read', async () => {
    const lab = uniqueLab('t-nsr-gone');
    made.push(lab);
    await applyTopology(loadExample('veth-pair.yaml', lab));
    const names = [netnsName(lab, 'ns1'), netnsName(lab, 'nope'), netnsName(lab, 'ns2')];
    const read = await readWithHelper(names, { firewall: true });
    assert.equal(read[1], undefined);
    assert.equal(read[0]?.owner?.node, 'ns1');
    assert.equal(read[2]?.owner?.node, 'ns2');
    assert.deepEqual(await ownersWithHelper(names), [{ lab, node: 'ns1' }, undefined, { lab, node: 'ns2' }]);
  });

  test('ownership markers: own, missing and foreign, as ip reads them', async () => {
    const lab = uniqueLab('t-nsr-own');
    made.push(lab);
    await applyTopology(loadExample('veth-pair.yaml', lab));
    const unmarked = netnsName(lab, 'stray');
    const foreign = netnsName(lab, 'alien');
    strays.push(unmarked, foreign);
    execFileSync('ip', ['netns', 'add', unmarked]);
    execFileSync('ip', ['netns', 'add', foreign]);
    ipIn(foreign, 'link', 'set', 'lo', 'alias', ownerMarker('someone-else', 'alien'));
    const names = [netnsName(lab, 'ns1'), unmarked, foreign, netnsName(lab, 'ns2')];
    const helper = await ownersWithHelper(names);
    const ip = await Promise.all(names.map((n) => readOwner(n)));
    assert.deepEqual(helper, ip);
    assert.deepEqual(helper, [{ lab, node: 'ns1' }, undefined, { lab: 'someone-else', node: 'alien' }, { lab, node: 'ns2' }]);
  });

  test('names that could leave /run/netns are refused before anything is read', () => {
    for (const bad of ['..', 'a/b', '.', '']) {
      const r = spawnSync(NSREAD_PATH, ['read', 'x', bad], { encoding: 'utf8' });
      assert.equal(r.status, 2, bad);
      assert.equal(r.stdout, '');
    }
    const usage = spawnSync(NSREAD_PATH, ['exec', 'x', 'true'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage/);
  });
});

/** The one `nslab-nsread create` argv of a node alone in its lab's plan (what addNode runs). */
function createFor(lab: string, node: string): string[] {
  const one = parseTopologyData({ name: lab, nodes: { [node]: {} } });
  assert.ok(one.ok);
  const argv = createArgv(plan(one.topology, { name: lab, nodes: {}, links: [] }));
  assert.ok(argv, 'a new node\'s plan is one create');
  return argv;
}

/** The CommandError a promise rejects with. */
async function commandError(p: Promise<unknown>): Promise<CommandError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof CommandError, `expected a CommandError, got ${String(err)}`);
  return err;
}

describe('nslab-nsread create makes a node as ip would', { skip: !nsreadAvailable() && 'nslab-nsread is not built (node apps/server/native/build.mjs)' }, () => {
  test('the namespace is made, marked, lo up, its sysctls written, and its reading is what ip reads', async () => {
    const lab = uniqueLab('sy-nsr');
    made.push(lab);
    const netns = netnsName(lab, 'x');
    const reading = await createWithHelper(createFor(lab, 'x'));
    assert.deepEqual(reading?.owner, { lab, node: 'x' });
    assert.equal(reading?.namespace.interfaces['lo']?.up, true);
    assert.deepEqual(comparable(reading), comparable(await readNetnsWithIp(netns)));
    assert.deepEqual(await readOwner(netns), { lab, node: 'x' });
    assert.equal(inNode(lab, 'x', ['sysctl', '-n', 'net.ipv4.conf.all.promote_secondaries']).out.trim(), '1');
  });

  test('a name that exists is refused and left as it was; a failure after the namespace was made leaves no namespace', async () => {
    const lab = uniqueLab('sy-nsr');
    made.push(lab);
    const netns = netnsName(lab, 'x');
    await createWithHelper(createFor(lab, 'x'));
    assert.match((await commandError(createWithHelper(createFor(lab, 'x')))).stderr, /File exists/);
    assert.deepEqual(await readOwner(netns), { lab, node: 'x' }, 'the first x is untouched');

    const other = netnsName(lab, 'y');
    const bad = [NSREAD_PATH, 'create', other, ownerMarker(lab, 'y'), 'net.ipv4.conf.all.sy_no_such_sysctl=1'];
    assert.match((await commandError(createWithHelper(bad))).stderr, /sy_no_such_sysctl/);
    assert.ok(!existsSync(`/run/netns/${other}`), 'the half-made namespace is undone');
    assert.ok(!(await listNetns()).includes(other));
  });
});

describe('nslab-nsread output framing', () => {
  test('a truncated output is an error, not a short read', () => {
    const frame = new Uint8Array(12 + 3);
    new DataView(frame.buffer).setUint32(8, 3, HOST_LITTLE_ENDIAN);
    assert.equal(splitFrames(frame).length, 1);
    assert.throws(() => splitFrames(frame.subarray(0, 14)), /truncated frame/);
    assert.throws(() => splitFrames(frame.subarray(0, 5)), /truncated frame header/);
  });
});
