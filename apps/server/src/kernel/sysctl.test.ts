/**
 * Kernel knobs as lab state: a topology file's `sysctls:` map is applied, read back,
 * exported and re-applied to the same kernel values; so are net.* sysctls off the
 * allow-list that a shell changed; names no namespace has and bad values are refused
 * before anything runs; and net.bridge.bridge-nf-call-iptables
 * is shown, decides whether a FORWARD rule sees bridged frames (the trace names the
 * rule and the knob), and is toggled by an edit.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isOtherSysctl, netnsName, parseTopology, toYaml, type Op, type Topology } from '@nslab/model';
import { ApplyError, applyOps, type OpEvent } from './apply';
import { NSREAD_PATH, nsreadAvailable } from './nsread';
import { LabService } from '../labs/service';
import { traceInLab } from '../capture/index';
import { applyTopology } from './lab';
import { observeLab } from './observe';
import { cleanup, EXAMPLES, inNode, loadExample, uniqueLab } from '../../test-kit/lab';

const NSLAB = fileURLToPath(new URL('../../bin/nslab.mjs', import.meta.url));
const made: string[] = [];
after(() => cleanup(...made));

function withKnobs(lab: string): Topology {
  const topology = loadExample('bridge.yaml', lab);
  const text = toYaml(topology).replace('  host:\n', '  host:\n    sysctls:\n      net.bridge.bridge-nf-call-iptables: 0\n      net.ipv4.conf.all.rp_filter: 2\n      net.ipv4.conf.veth-ns1.proxy_arp: 1\n      net.ipv4.conf.br0.route_localnet: true\n');
  const parsed = parseTopology(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.topology;
}

function knob(lab: string, node: string, name: string): string {
  return inNode(lab, node, ['sysctl', '-n', name]).out.trim();
}

describe('sysctls in the topology file', () => {
  test('applied, read back, exported, and the same after destroy and re-apply', async () => {
    const lab = uniqueLab('tr');
    made.push(lab);
    await applyTopology(withKnobs(lab));
    const expected = { 'net.bridge.bridge-nf-call-iptables': '0', 'net.ipv4.conf.all.rp_filter': '2', 'net.ipv4.conf.veth-ns1.proxy_arp': '1', 'net.ipv4.conf.br0.route_localnet': '1' };
    for (const [name, value] of Object.entries(expected)) assert.equal(knob(lab, 'host', name), value, name);
    const observed = await observeLab(lab, { sysctls: true });
    assert.equal(observed.topology.nodes.host?.sysctls?.['net.ipv4.conf.all.rp_filter'], '2');
    assert.equal(observed.topology.nodes.ns1?.sysctls?.['net.ipv4.conf.eth0.rp_filter'], '0', 'every knob is read, defaults too');
    const exported = toYaml(observed.topology);
    const reparsed = parseTopology(exported);
    assert.ok(reparsed.ok, exported);
    assert.deepEqual({ ...reparsed.topology.nodes.host?.sysctls }, expected, exported);
    assert.equal(reparsed.topology.nodes.ns1?.sysctls, undefined, 'a node at its defaults exports no sysctls');
    await cleanup(lab);
    await applyTopology({ ...reparsed.topology, name: lab });
    for (const [name, value] of Object.entries(expected)) assert.equal(knob(lab, 'host', name), value, `${name} after the round trip`);
    const again = await applyTopology({ ...reparsed.topology, name: lab });
    assert.equal(again.ran, 0, 'applying the same knobs again changes nothing');
  });

  test('names off the allow-list and bad values are refused with a path and a sentence', () => {
    const text = 'name: x\nnodes:\n  a:\n    interfaces: { eth0: { kind: bridge } }\n    sysctls:\n      kernel.panic: 1\n      net.ipv4.conf.all.rp_filter: 7\n      net.ipv4.ip_forward: 1\n      net.ipv4.conf.eth9.proxy_arp: 1\n      net.ipv4.conf.eth0.proxy_arp: 1\n';
    const parsed = parseTopology(text);
    assert.equal(parsed.ok, false);
    const problems = parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`);
    assert.ok(problems.some((p) => p.startsWith('nodes.a.sysctls.kernel.panic: nslab does not manage the sysctl "kernel.panic"')), problems.join('\n'));
    assert.ok(problems.includes('nodes.a.sysctls.net.ipv4.conf.all.rp_filter: net.ipv4.conf.all.rp_filter must be one of 0, 1, 2, not "7"'), problems.join('\n'));
    assert.ok(problems.includes('nodes.a.sysctls.net.ipv4.ip_forward: write forwarding: true (or false) on the node instead of net.ipv4.ip_forward'), problems.join('\n'));
    assert.ok(problems.includes('nodes.a.sysctls.net.ipv4.conf.eth9.proxy_arp: a has no interface "eth9": add it, or set the knob on all'), problems.join('\n'));
    assert.equal(problems.length, 4, problems.join('\n'));
  });
});

describe('sysctls outside the allow-list', () => {
  test('typed in a shell: shown, exported, and the same after destroy and apply; a re-apply runs nothing', async () => {
    const lab = uniqueLab('tr');
    made.push(lab);
    await applyTopology(loadExample('bridge.yaml', lab));
    const typed = { 'net.ipv4.tcp_syncookies': '0', 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.conf.eth0.arp_accept': '1', 'net.ipv6.conf.eth0.disable_ipv6': '1' };
    for (const [name, value] of Object.entries(typed)) assert.equal(inNode(lab, 'ns1', ['sysctl', '-qw', `${name}=${value}`]).code, 0, name);
    const observed = await observeLab(lab, { sysctls: true });
    const ns1 = observed.topology.nodes.ns1?.sysctls ?? {};
    // Only what differs from a fresh namespace, and nothing the kernel moves by itself (counters, mtu, forwarding).
    const other = Object.fromEntries(Object.entries(ns1).filter(([k]) => isOtherSysctl(k)));
    assert.deepEqual(other, { 'net.ipv4.tcp_syncookies': '0', 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.conf.eth0.arp_accept': '1' });
    assert.deepEqual(Object.keys(observed.topology.nodes.ns2?.sysctls ?? {}).filter(isOtherSysctl), [], 'an untouched namespace has none');
    // `nslab show`, as a process: every knob with its value (defaults too), and the other sysctls changed.
    const shown = spawnSync(process.execPath, [NSLAB, 'show', lab, '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(shown.status, 0, shown.stderr);
    const shownNs1 = (JSON.parse(shown.stdout) as { nodes: Record<string, { sysctls?: Record<string, string> }> }).nodes['ns1']?.sysctls ?? {};
    assert.equal(shownNs1['net.ipv4.conf.all.rp_filter'], '0', 'a knob at its default is shown');
    assert.equal(shownNs1['net.ipv6.conf.eth0.disable_ipv6'], '1');
    assert.equal(shownNs1['net.ipv4.tcp_syncookies'], '0');
    assert.equal(shownNs1['net.ipv4.ping_group_range'], '0 2147483647');
    const exported = toYaml(observed.topology);
    const reparsed = parseTopology(exported);
    assert.ok(reparsed.ok, exported);
    assert.deepEqual({ ...reparsed.topology.nodes.ns1?.sysctls }, typed, exported);
    await cleanup(lab);
    await applyTopology({ ...reparsed.topology, name: lab });
    for (const [name, value] of Object.entries(typed)) assert.equal(knob(lab, 'ns1', name).split(/\s+/).join(' '), value, `${name} after the round trip`);
    const again = await applyTopology({ ...reparsed.topology, name: lab });
    assert.equal(again.ran, 0, 'applying the same sysctls again changes nothing');
  });

  test('a name the kernel lacks, a read-only one and a bad value are refused before anything runs', async () => {
    const lab = uniqueLab('tr');
    made.push(lab);
    const file = (sysctls: string) => `name: ${lab}\nnodes:\n  a:\n    sysctls:\n${sysctls}`;
    const service = new LabService(EXAMPLES);
    await assert.rejects(service.apply(file('      net.ipv4.tcp_no_such_knob: 1\n      net.core.rmem_max: 1000\n')), (err: Error & { problems?: Array<{ path: string; message: string }> }) => {
      const problems = (err.problems ?? []).map((p) => `${p.path}: ${p.message}`);
      assert.ok(problems.includes('nodes.a.sysctls.net.ipv4.tcp_no_such_knob: a network namespace on this kernel has no sysctl net.ipv4.tcp_no_such_knob: check the name (sysctl -a in a lab shell lists them)'), problems.join('\n'));
      assert.ok(problems.includes('nodes.a.sysctls.net.core.rmem_max: net.core.rmem_max is read-only in a network namespace: the kernel sets it'), problems.join('\n'));
      return true;
    });
    assert.deepEqual((await observeLab(lab)).topology.nodes, {}, 'nothing was created');
    const parsed = parseTopology(file('      net.ipv4.tcp_syncookies: "0; reboot"\n      net.ipv4.conf.all.forwarding: 1\n      vm.swappiness: 1\n'));
    const problems = parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`);
    assert.ok(problems.some((p) => p.startsWith('nodes.a.sysctls.net.ipv4.tcp_syncookies: net.ipv4.tcp_syncookies must be a value as sysctl prints it')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('nodes.a.sysctls.net.ipv4.conf.all.forwarding: write forwarding: true on the node')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('nodes.a.sysctls.vm.swappiness: nslab does not manage the sysctl "vm.swappiness"')), problems.join('\n'));
  });
});

describe('sysctls written by the apply', () => {
  test('several in one namespace are written together, and a value the kernel refuses names its key', async () => {
    const lab = uniqueLab('tr');
    made.push(lab);
    const file = (cookies: number, timeout: string) => `name: ${lab}\nnodes:\n  a:\n    sysctls: { net.ipv4.tcp_syncookies: ${cookies}, net.ipv4.tcp_fin_timeout: ${timeout} }\n`;
    const service = new LabService(EXAMPLES);
    await service.apply(file(0, '45'));
    assert.deepEqual(['net.ipv4.tcp_syncookies', 'net.ipv4.tcp_fin_timeout'].map((k) => knob(lab, 'a', k)), ['0', '45']);
    // Written together they fail; one by one, the key before the refused one lands and the refused one is named.
    await assert.rejects(service.apply(file(2, 'soon')), (err: Error) => {
      assert.match(err.message, /net\.ipv4\.tcp_fin_timeout/, err.message);
      return true;
    });
    assert.deepEqual(['net.ipv4.tcp_syncookies', 'net.ipv4.tcp_fin_timeout'].map((k) => knob(lab, 'a', k)), ['2', '45']);
  });
});

describe('sysctls of many namespaces from one process', () => {
  test('nslab-nsread sysctls writes each namespace\'s keys, an interface name with "-" included, and names a refused key', { skip: !nsreadAvailable() && 'nslab-nsread is not built' }, async () => {
    const lab = uniqueLab('ll');
    made.push(lab);
    await applyTopology(loadExample('bridge.yaml', lab));
    const out = spawnSync(NSREAD_PATH, [
      'sysctls', netnsName(lab, 'host'), 'net.ipv4.conf.veth-ns1.proxy_arp=1', 'net.ipv4.conf.no-such-if.rp_filter=1', 'net.ipv4.conf.all.rp_filter=2',
      '--', netnsName(lab, 'ns1'), 'net.ipv4.conf.eth0.arp_ignore=1',
    ], { encoding: 'utf8' });
    assert.equal(out.status, 1, out.stderr);
    assert.equal(out.stdout, `${netnsName(lab, 'host')}\tnet.ipv4.conf.no-such-if.rp_filter\tNo such file or directory\n`);
    assert.equal(knob(lab, 'host', 'net.ipv4.conf.veth-ns1.proxy_arp'), '1', 'a name with "-" is written');
    assert.equal(knob(lab, 'host', 'net.ipv4.conf.all.rp_filter'), '0', 'a namespace stops at its refused key');
    assert.equal(knob(lab, 'ns1', 'net.ipv4.conf.eth0.arp_ignore'), '1', 'the next namespace is still written');
  });

  test('an apply writing two namespaces\' sysctls names the refused key and writes the rest of the other namespace', async () => {
    const lab = uniqueLab('ll');
    made.push(lab);
    await applyTopology(loadExample('bridge.yaml', lab));
    const at = (node: string) => ({ node, netns: netnsName(lab, node) });
    const ops: Op[] = [
      { kind: 'sysctl.set', ...at('host'), key: 'net.ipv4.conf.veth-ns2.proxy_arp', value: '1', reason: 'test' },
      { kind: 'sysctl.set', ...at('host'), key: 'net.ipv4.conf.veth-gone.proxy_arp', value: '1', reason: 'test' },
      { kind: 'sysctl.set', ...at('ns2'), key: 'net.ipv4.conf.eth0.arp_announce', value: '2', reason: 'test' },
    ];
    const events: OpEvent[] = [];
    await assert.rejects(applyOps(ops, (e) => events.push(e)), (err: Error) => {
      assert.ok(err instanceof ApplyError, String(err));
      assert.equal(err.op.kind === 'sysctl.set' ? err.op.key : '', 'net.ipv4.conf.veth-gone.proxy_arp');
      assert.match(err.message, /veth-gone/);
      return true;
    });
    assert.equal(knob(lab, 'host', 'net.ipv4.conf.veth-ns2.proxy_arp'), '1');
    assert.equal(knob(lab, 'ns2', 'net.ipv4.conf.eth0.arp_announce'), '2');
    assert.deepEqual(events.map((e) => `${e.index} ${e.status}`).sort(), ['0 done', '1 failed', '2 done']);
  });
});

describe('net.bridge.bridge-nf-call-iptables', () => {
  test('shown, naming the FORWARD rule that drops bridged frames, and toggled off by an edit', async () => {
    const lab = uniqueLab('tr');
    made.push(lab);
    await applyTopology(loadExample('bridge.yaml', lab));
    assert.equal(inNode(lab, 'host', ['iptables', '-A', 'FORWARD', '-p', 'icmp', '-j', 'DROP']).code, 0);
    const before = await observeLab(lab, { sysctls: true });
    assert.equal(before.topology.nodes.host?.sysctls?.['net.bridge.bridge-nf-call-iptables'], '1', 'this kernel sends bridged frames through iptables by default');
    const nodes = Object.keys(before.topology.nodes);
    const dropped = await traceInLab({ lab, nodes, source: 'ns1', destination: '192.168.1.3', waitSeconds: 1 });
    assert.equal(dropped.ok, false);
    assert.equal(dropped.droppedBy?.chain, 'FORWARD');
    assert.equal(
      dropped.cause,
      'the echo request was dropped in host by the rule "-A FORWARD -p icmp -j DROP" (ip filter, chain FORWARD); net.bridge.bridge-nf-call-iptables = 1 in host, so frames its bridges switch cross iptables too',
    );
    const service = new LabService(EXAMPLES);
    await service.edit(lab, [{ kind: 'sysctl.set', node: 'host', name: 'net.bridge.bridge-nf-call-iptables', value: '0' }]);
    assert.equal(knob(lab, 'host', 'net.bridge.bridge-nf-call-iptables'), '0');
    const passed = await traceInLab({ lab, nodes, source: 'ns1', destination: '192.168.1.3' });
    assert.equal(passed.ok, true, passed.cause ?? '');
    assert.equal(passed.droppedBy, null);
  });
});
