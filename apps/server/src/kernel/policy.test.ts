/**
 * Chain policies as lab state: `iptables -P FORWARD DROP` typed in a lab's namespace is
 * read into the model, exported, and kept by a re-apply and by an edit that does not name
 * it; a file's `policies:` sets it and sets it back; bad policies are refused before
 * anything runs.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opArgv, parseTopology, toYaml, type Topology } from '@nslab/model';
import { LabService } from '../labs/service';
import { traceInLab } from '../capture/index';
import { applyTopology } from './lab';
import { observeLab } from './observe';
import { cleanup, EXAMPLES, inNode, loadExample, pings, uniqueLab } from '../../test-kit/lab';

const made: string[] = [];
after(() => cleanup(...made));

function parsed(text: string, lab: string): Topology {
  const r = parseTopology(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { ...r.topology, name: lab };
}

/** The router's FORWARD policy as iptables itself says it ("-P FORWARD DROP"). */
function forwardPolicy(lab: string): string {
  return inNode(lab, 'router', ['iptables', '-w', '-S', 'FORWARD']).out.split('\n')[0]?.trim() ?? '';
}

describe('chain policies', () => {
  test('a policy set in a shell is read, exported, and kept by a re-apply of the export and by an edit', async () => {
    const lab = uniqueLab('pol');
    made.push(lab);
    await applyTopology(loadExample('router.yaml', lab));
    assert.ok(pings(lab, 'ns1', '10.0.2.2'), 'the router forwards before the policy is set');
    assert.equal(inNode(lab, 'router', ['iptables', '-w', '-P', 'FORWARD', 'DROP']).code, 0);
    assert.ok(!pings(lab, 'ns1', '10.0.2.2'), 'the DROP policy stops forwarding');
    const trace = await traceInLab({ lab, nodes: ['ns1', 'router', 'ns2'], source: 'ns1', destination: '10.0.2.2', waitSeconds: 1 });
    assert.equal(trace.ok, false);
    assert.match(trace.cause ?? '', /^the echo request was dropped in router by the DROP policy of chain FORWARD \(ip filter\)/, trace.cause ?? '');

    const observed = (await observeLab(lab)).topology;
    assert.equal(observed.nodes.router?.policies?.['filter/FORWARD'], 'DROP');
    assert.equal(observed.nodes.router?.policies?.['filter/INPUT'], 'ACCEPT', 'every built-in chain of the table is read');
    const exported = toYaml(observed);
    assert.match(exported, /policies: \{ filter\/FORWARD: DROP \}/, exported);

    const again = await applyTopology(parsed(exported, lab));
    assert.equal(again.ops.length, 0, 'a re-apply of the export is 0 ops');
    assert.equal(forwardPolicy(lab), '-P FORWARD DROP');

    // The example's own file does not name policies: applying it leaves the kernel's alone.
    const plain = await applyTopology(loadExample('router.yaml', lab));
    assert.equal(plain.ops.length, 0);
    assert.equal(forwardPolicy(lab), '-P FORWARD DROP');

    // A canvas edit that names something else plans only that.
    const service = new LabService(EXAMPLES);
    const result = await service.edit(lab, [{ kind: 'address.add', node: 'ns2', interface: 'eth0', address: '10.0.2.3/24' }]);
    assert.deepEqual(result.ops.map((o) => o.op.kind), ['addr.add']);
    assert.equal(forwardPolicy(lab), '-P FORWARD DROP');
  });

  test('a file sets a policy and sets it back; applying it twice runs nothing the second time', async () => {
    const lab = uniqueLab('pol');
    made.push(lab);
    const base = readRouter();
    const drop = parsed(base.replace('    forwarding: true\n', '    forwarding: true\n    policies: { filter/FORWARD: DROP, filter/INPUT: DROP }\n'), lab);
    const first = await applyTopology(drop);
    assert.deepEqual(first.ops.filter((o) => o.kind === 'chain.policy').map((o) => `${o.table}/${o.chain} ${o.policy}`), ['filter/FORWARD DROP', 'filter/INPUT DROP']);
    assert.equal(forwardPolicy(lab), '-P FORWARD DROP');
    assert.ok(!pings(lab, 'ns1', '10.0.2.2'));
    assert.equal((await applyTopology(drop)).ops.length, 0);

    const accept = parsed(base.replace('    forwarding: true\n', '    forwarding: true\n    policies: { filter/FORWARD: ACCEPT }\n'), lab);
    const back = await applyTopology(accept);
    assert.deepEqual(back.ops.map((o) => o.kind), ['chain.policy']);
    assert.equal(forwardPolicy(lab), '-P FORWARD ACCEPT');
    assert.ok(pings(lab, 'ns1', '10.0.2.2'), 'forwarding works again');
    // INPUT was not named this time: it keeps the DROP the first file set.
    assert.equal(inNode(lab, 'router', ['iptables', '-w', '-S', 'INPUT']).out.split('\n')[0]?.trim(), '-P INPUT DROP');
  });

  test('REJECT, a user chain and an unknown table are refused before anything runs', async () => {
    const lab = uniqueLab('pol');
    made.push(lab);
    const service = new LabService(EXAMPLES);
    for (const [policies, words] of [
      ['{ filter/FORWARD: REJECT }', /ACCEPT or DROP, not "REJECT"/],
      ['{ filter/DOCKER-USER: DROP }', /only built-in chains have a policy/],
      ['{ filtre/FORWARD: DROP }', /not a table nslab sets policies in/],
    ] as const) {
      const text = readRouter().replace('name: router', `name: ${lab}`).replace('    forwarding: true\n', `    forwarding: true\n    policies: ${policies}\n`);
      await assert.rejects(service.apply(text), (err: Error & { problems?: { path: string; message: string }[] }) => {
        assert.ok(err.problems?.some((p) => p.path.startsWith('nodes.router.policies.') && words.test(p.message)), JSON.stringify(err.problems));
        return true;
      });
    }
    assert.equal(Object.keys((await observeLab(lab)).topology.nodes).length, 0, 'nothing was made');
  });
});

describe('native nftables tables and ip6tables rules', () => {
  test('made by hand: shown, exported, and the same after destroy and apply; a re-apply, another file and an edit elsewhere leave them alone', async () => {
    const lab = uniqueLab('ll-nft');
    made.push(lab);
    await applyTopology(loadExample('router.yaml', lab));
    for (const argv of [
      ['nft', 'add', 'table', 'inet', 'filter'],
      ['nft', 'add', 'chain', 'inet', 'filter', 'input', '{ type filter hook input priority 0; policy accept; }'],
      ['nft', 'add', 'rule', 'inet', 'filter', 'input', 'tcp', 'dport', '2222', 'drop'],
      ['ip6tables', '-w', '-A', 'INPUT', '-p', 'ipv6-icmp', '-j', 'ACCEPT'],
    ]) assert.equal(inNode(lab, 'router', argv).code, 0, argv.join(' '));
    const listed = inNode(lab, 'router', ['nft', 'list', 'table', 'inet', 'filter']).out;

    const observed = (await observeLab(lab)).topology;
    assert.deepEqual(Object.keys(observed.nodes.router?.nftables ?? {}), ['inet filter'], 'iptables-nft\'s own tables (ip6 filter) are not listed');
    assert.equal(observed.nodes.router?.nftables?.['inet filter'], listed);
    assert.deepEqual(observed.nodes.router?.ip6tables, ['-t filter -A INPUT -p ipv6-icmp -j ACCEPT']);
    assert.equal(observed.nodes.ns1?.nftables, undefined);

    // A file that does not list them, applied over the router: they are left alone.
    const owned = parsed(readRouter().replace('    forwarding: true\n', '    forwarding: true\n    firewall: [ "-A INPUT -p icmp -j ACCEPT" ]\n    policies: { filter/INPUT: ACCEPT }\n'), lab);
    const applied = await applyTopology(owned);
    assert.ok(applied.ops.every((o) => !opArgv(o).some((w) => w === 'nft' || w === 'ip6tables')), 'no op touches nft or ip6tables');
    const service = new LabService(EXAMPLES);
    const edited = await service.edit(lab, [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.0.1.3/24' }]);
    assert.ok(edited.ops.every((o) => !o.argv.some((w) => w === 'nft' || w === 'ip6tables')), 'an edit elsewhere touches neither');

    // Export, destroy, apply: the same table text and the same rule.
    const exported = toYaml((await observeLab(lab)).topology);
    assert.match(exported, /nftables:\n\s+inet filter: \|/, exported);
    assert.match(exported, /firewall6: \[ -t filter -A INPUT -p ipv6-icmp -j ACCEPT \]/, exported);
    await cleanup(lab);
    const result = await service.apply(exported);
    assert.equal(result.lab, lab);
    assert.equal(inNode(lab, 'router', ['nft', 'list', 'table', 'inet', 'filter']).out, listed);
    assert.match(inNode(lab, 'router', ['ip6tables', '-w', '-S', 'INPUT']).out, /-A INPUT -p ipv6-icmp -j ACCEPT/);
    const again = await applyTopology(parsed(exported, lab));
    assert.equal(again.ran, 0, 'a re-apply runs nothing');
  });

  test('a table nft refuses and an ip6tables rule ip6tables refuses are problems with their paths, and nothing runs', async () => {
    const lab = uniqueLab('ll-nft');
    made.push(lab);
    const service = new LabService(EXAMPLES);
    const file = `name: ${lab}\nnodes:\n  a:\n    nftables:\n      inet f: |\n        table inet f {\n          chain c {\n            tcp dport 99999 drop\n          }\n        }\n    firewall6: [ "-A INPUT -p ipv6-icmp -j ACCEPT", "-A INPUT -m nosuchmatch -j DROP" ]\n`;
    await assert.rejects(service.apply(file), (err: Error & { problems?: Array<{ path: string; message: string }> }) => {
      const problems = (err.problems ?? []).map((p) => `${p.path}: ${p.message}`);
      assert.ok(problems.some((p) => p.startsWith('nodes.a.nftables.inet f: nft refuses table inet f of a at line 3: Service out of range')), problems.join('\n'));
      assert.ok(problems.some((p) => p.startsWith('nodes.a.firewall6[1]: ip6tables refuses this rule of a:')), problems.join('\n'));
      return true;
    });
    assert.deepEqual((await observeLab(lab)).topology.nodes, {}, 'nothing was created');
  });
});

function readRouter(): string {
  return toYaml(loadExample('router.yaml', 'router'));
}
