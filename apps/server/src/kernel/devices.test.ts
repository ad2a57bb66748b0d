/**
 * Devices of the kinds nslab builds under `kind: other` (macvlan, macvtap, tun/tap, ifb, and
 * ipvlan, vlan and dummy where the kernel has them), made with `ip` as a learner would type it
 * in a lab shell: exported, destroyed and applied back, they are the same devices on the same
 * parents in the same modes, and a re-apply runs nothing. A kind nslab cannot build is kept and
 * the export says so.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsName, parseTopology, plan, toYaml, type Interface } from '@nslab/model';
import { applyTopology } from './lab';
import { observeLab } from './observe';
import { cleanup, inNode, loadExample, uniqueLab } from '../../test-kit/lab';

const made: string[] = [];
after(() => cleanup(...made));

/** What must survive the round trip of one device. */
function device(i: Interface | undefined) {
  return i && { kind: i.kind, type: i.type, parent: i.parent, mode: i.mode, id: i.id, up: i.up, addresses: i.addresses };
}

describe('devices made in a shell survive export, destroy and apply', () => {
  test('macvlan, macvtap, tap, tun, ifb (and ipvlan, vlan, dummy where the kernel has them)', async () => {
    const lab = uniqueLab('ll-dev');
    made.push(lab);
    await applyTopology(loadExample('veth-pair.yaml', lab));
    const sh = (...argv: string[]) => inNode(lab, 'ns1', ['ip', ...argv]);
    const must = (...argv: string[]) => assert.equal(sh(...argv).code, 0, argv.join(' '));
    // A macvlan on a veth end, with an address, up; a macvtap on the same parent in another mode.
    must('link', 'add', 'link', 'eth0', 'name', 'mv0', 'type', 'macvlan', 'mode', 'bridge');
    must('addr', 'add', '10.77.0.1/24', 'dev', 'mv0');
    must('link', 'set', 'mv0', 'up');
    must('link', 'add', 'link', 'eth0', 'name', 'mt0', 'type', 'macvtap', 'mode', 'private');
    must('tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
    must('tuntap', 'add', 'dev', 'tun0', 'mode', 'tun');
    must('link', 'add', 'name', 'ifb0', 'type', 'ifb');
    // Modules this kernel may lack (DESIGN.md section 9): tested when they are there.
    const optional = [
      sh('link', 'add', 'link', 'eth0', 'name', 'ipv0', 'type', 'ipvlan', 'mode', 'l3').code === 0 ? 'ipv0' : undefined,
      sh('link', 'add', 'link', 'eth0', 'name', 'eth0.7', 'type', 'vlan', 'id', '7').code === 0 ? 'eth0.7' : undefined,
      sh('link', 'add', 'name', 'dm0', 'type', 'dummy').code === 0 ? 'dm0' : undefined,
    ].filter((n): n is string => n !== undefined);
    const names = ['mv0', 'mt0', 'tap0', 'tun0', 'ifb0', ...optional];

    const before = (await observeLab(lab, { sysctls: true })).topology;
    const ns1 = before.nodes['ns1'];
    assert.ok(ns1);
    assert.deepEqual(device(ns1.interfaces['mv0']), { kind: 'other', type: 'macvlan', parent: 'eth0', mode: 'bridge', id: undefined, up: true, addresses: ['10.77.0.1/24'] });
    const exported = toYaml(before);
    assert.match(exported, /mv0:\n\s+kind: other\n\s+type: macvlan\n\s+parent: eth0\n\s+mode: bridge\n/, exported);
    const parsed = parseTopology(exported);
    assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.problems));
    assert.deepEqual(parsed.warnings ?? [], [], 'every device here is built, so the export warns of none');

    await cleanup(lab);
    assert.deepEqual((await observeLab(lab)).topology.nodes, {}, 'destroyed');
    const steps = plan(parsed.topology, { name: lab, nodes: {}, links: [] });
    const order = steps.map((op) => (op.kind === 'veth.add' ? 'veth' : op.kind === 'device.add' ? op.interface : '')).filter(Boolean);
    assert.ok(order.indexOf('veth') < order.indexOf('mv0'), `the parent veth is made before the macvlan on it: ${order.join(', ')}`);
    await applyTopology(parsed.topology);

    const after = (await observeLab(lab, { sysctls: true })).topology.nodes['ns1'];
    assert.ok(after);
    for (const name of names) assert.deepEqual(device(after.interfaces[name]), device(ns1.interfaces[name]), name);
    const again = await applyTopology(parsed.topology);
    assert.equal(again.ran, 0, 'a re-apply runs nothing');
  });

  test('a device on a parent the file recreates is made again on it', async () => {
    const lab = uniqueLab('ll-dev');
    made.push(lab);
    const text = `name: ${lab}\nnodes:\n  a:\n    interfaces:\n      br0: { kind: bridge }\n      mv0: { kind: other, type: macvlan, parent: br0, mode: private }\n  b: {}\n`;
    const first = parseTopology(text);
    assert.ok(first.ok, first.ok ? '' : JSON.stringify(first.problems));
    await applyTopology(first.topology);
    assert.deepEqual(device((await observeLab(lab)).topology.nodes['a']?.interfaces['mv0'])?.mode, 'private');
    // br0 becomes a veth end: the kernel deletes mv0 with the old br0, and the plan makes it again on the new one.
    const second = parseTopology(text.replace('br0: { kind: bridge }', 'br0: {}') + `links:\n  - [a:br0, b:eth0]\n`);
    assert.ok(second.ok, second.ok ? '' : JSON.stringify(second.problems));
    await applyTopology(second.topology);
    const mv0 = (await observeLab(lab)).topology.nodes['a']?.interfaces['mv0'];
    assert.deepEqual([mv0?.type, mv0?.parent, mv0?.mode], ['macvlan', 'br0', 'private']);
    assert.equal((await applyTopology(second.topology)).ran, 0);
  });

  test('a device nslab cannot build is kept by an apply, exported, and the export warns that it is not built', async () => {
    const lab = uniqueLab('ll-dev');
    made.push(lab);
    await applyTopology(loadExample('veth-pair.yaml', lab));
    // A macvlan made on ns2's eth0 and moved to ns1 (Docker's pattern): its parent is in another namespace.
    assert.equal(inNode(lab, 'ns2', ['ip', 'link', 'add', 'link', 'eth0', 'name', 'mvx', 'netns', netnsName(lab, 'ns1'), 'type', 'macvlan', 'mode', 'vepa']).code, 0);
    const observed = (await observeLab(lab)).topology;
    const parsed = parseTopology(toYaml(observed));
    assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.problems));
    assert.deepEqual(device(parsed.topology.nodes['ns1']?.interfaces['mvx'])?.type, 'macvlan', 'exported, not dropped');
    assert.deepEqual((parsed.warnings ?? []).map((w) => w.path), ['nodes.ns1.interfaces.mvx.parent']);
    assert.match(parsed.warnings?.[0]?.message ?? '', /keeps it while the kernel has it but cannot make it again/);
    assert.equal((await applyTopology(parsed.topology)).ran, 0, 'kept as it is');
    assert.ok((await observeLab(lab)).topology.nodes['ns1']?.interfaces['mvx']);
  });
});
