/**
 * The engine on the real kernel: each tutorial topology applied, then checked with
 * the kernel's own tools (ping, curl, tcpdump), never with nslab's own reading.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { netnsName, parseTopology, plan, toYaml } from '@nslab/model';
import { ApplyError } from './apply';
import { applyTopology, destroyLab } from './lab';
import { listLabs, observeLab } from './observe';
import { captureWhile, cleanup, curlUntil, inNode, loadExample, netnsList, pings, uniqueLab } from '../../test-kit/lab';

const made: string[] = [];
after(() => cleanup(...made));

/** Applies an example under a fresh name and remembers it for cleanup. */
async function up(file: string, prefix: string) {
  const lab = uniqueLab(prefix);
  made.push(lab);
  const topology = loadExample(file, lab);
  const outcome = await applyTopology(topology);
  return { lab, topology, outcome };
}

describe('tutorial topologies on the real kernel', () => {
  test('a veth pair: ping both ways, and a re-apply runs zero ops', async () => {
    const { lab, topology } = await up('veth-pair.yaml', 't-veth');
    assert.ok(pings(lab, 'ns1', '172.18.0.3'));
    assert.ok(pings(lab, 'ns2', '172.18.0.2'));
    const again = await applyTopology(topology);
    assert.equal(again.ran, 0, JSON.stringify(again.ops));
  });

  test('three namespaces on a bridge: every pair pings', async () => {
    const { lab, topology } = await up('bridge.yaml', 't-bridge');
    const addr: Record<string, string> = { ns1: '192.168.1.1', ns2: '192.168.1.2', ns3: '192.168.1.3' };
    for (const a of Object.keys(addr)) for (const b of Object.keys(addr)) if (a !== b) assert.ok(pings(lab, a, addr[b] as string), `${a} -> ${b}`);
    const members = execFileSync('ip', ['-n', netnsName(lab, 'host'), '-j', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' });
    assert.deepEqual((JSON.parse(members) as { ifname: string }[]).map((l) => l.ifname).sort(), ['veth-ns1', 'veth-ns2', 'veth-ns3']);
    assert.equal((await applyTopology(topology)).ran, 0);
  });

  test('two subnets and a router: ping across', async () => {
    const { lab, topology } = await up('router.yaml', 't-router');
    assert.ok(pings(lab, 'ns1', '10.0.2.2'));
    assert.equal(inNode(lab, 'router', ['cat', '/proc/sys/net/ipv4/ip_forward']).out.trim(), '1');
    assert.equal((await applyTopology(topology)).ran, 0);
  });

  test('MASQUERADE: the internet sees the host address as the source', async () => {
    const { lab, topology } = await up('masquerade.yaml', 't-masq');
    // The internet has no route back to 192.168.1.0/24: replies arrive only thanks to NAT.
    assert.doesNotMatch(inNode(lab, 'internet', ['ip', 'route']).out, /192\.168\.1/);
    const seen = await captureWhile(lab, 'internet', 1, ['-i', 'eth0', 'icmp[icmptype] == icmp-echo'], () => {
      assert.ok(pings(lab, 'ns1', '203.0.113.1'));
    });
    assert.match(seen, /IP 203\.0\.113\.2 > 203\.0\.113\.1: ICMP echo request/);
    assert.equal((await applyTopology(topology)).ran, 0);
  });

  test('DNAT: the host port 8080 reaches a web server inside', async () => {
    const { lab, topology } = await up('dnat.yaml', 't-dnat');
    const server = spawn('ip', ['netns', 'exec', netnsName(lab, 'web'), 'python3', '-m', 'http.server', '80', '--bind', '192.168.1.1', '--directory', '/usr/share/doc/curl'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      assert.match(await curlUntil(lab, 'internet', 'http://203.0.113.2:8080/', 'Directory listing'), /Directory listing/);
    } finally {
      server.kill('SIGTERM');
    }
    assert.equal((await applyTopology(topology)).ran, 0);
  });
});

describe('lifecycle', () => {
  test('export, destroy, apply the export: the same observed state', async () => {
    const { lab } = await up('dnat.yaml', 't-round');
    const before = await observeLab(lab);
    const exported = parseTopology(toYaml(before.topology));
    assert.ok(exported.ok);
    await destroyLab(lab);
    assert.equal(netnsList().filter((n) => n.startsWith(`nslab.${lab}.`)).length, 0);
    await applyTopology(exported.topology);
    const after = await observeLab(lab);
    assert.deepEqual(plan(exported.topology, after.topology), []);
    assert.deepEqual(Object.keys(after.topology.nodes).sort(), Object.keys(before.topology.nodes).sort());
    assert.deepEqual(after.topology.links.length, before.topology.links.length);
    for (const node of Object.keys(before.topology.nodes)) {
      // MAC addresses are new and carrier state settles a moment after creation: the rest must match.
      const strip = (t: typeof before.topology) => JSON.stringify(t.nodes[node], (k: string, v: unknown) => (k === 'mac' || k === 'state' ? undefined : v));
      assert.equal(strip(after.topology), strip(before.topology), node);
    }
    assert.ok(pings(lab, 'internet', '203.0.113.2'));
  });

  test('destroy removes every namespace of the lab and no other', async () => {
    const { lab } = await up('bridge.yaml', 't-destroy');
    const other = await up('veth-pair.yaml', 't-keep');
    const before = netnsList().filter((n) => !n.startsWith(`nslab.${lab}.`));
    // A namespace named like the lab's but carrying no marker is not the lab's: left alone.
    const stray = netnsName(lab, 'stray');
    execFileSync('ip', ['netns', 'add', stray]);
    try {
      const removed = await destroyLab(lab);
      assert.deepEqual(removed.sort(), ['host', 'ns1', 'ns2', 'ns3']);
      assert.deepEqual(netnsList().filter((n) => n !== stray).sort(), before.sort());
      assert.ok(netnsList().includes(stray));
      assert.ok(pings(other.lab, 'ns1', '172.18.0.3'));
    } finally {
      execFileSync('ip', ['netns', 'del', stray]);
    }
  });

  test('two labs with the same node names live side by side', async () => {
    const a = await up('veth-pair.yaml', 't-twin');
    const b = await up('veth-pair.yaml', 't-twin');
    assert.ok(pings(a.lab, 'ns1', '172.18.0.3'));
    assert.ok(pings(b.lab, 'ns1', '172.18.0.3'));
    const labs = (await listLabs()).map((l) => l.name);
    assert.ok(labs.includes(a.lab) && labs.includes(b.lab));
  });

  test('an apply that fails half-way reports the op and completes on the second apply', async () => {
    const lab = uniqueLab('t-half');
    made.push(lab);
    const topology = loadExample('bridge.yaml', lab);
    let sabotaged = false;
    // After the root batch (namespaces and veths), delete ns2 behind the engine's back.
    const failure = await applyTopology(topology, {
      onEvent: (e) => {
        if (!sabotaged && e.op.kind === 'veth.add') {
          sabotaged = true;
          execFileSync('ip', ['netns', 'del', netnsName(lab, 'ns2')]);
        }
      },
    }).then(() => undefined, (err: unknown) => err);
    assert.ok(failure instanceof ApplyError, String(failure));
    // The failing op is one that needed ns2 (its namespace, or the host end of its veth, which died with it),
    // and the error names the command and the kernel's message.
    assert.match(failure.argv.join(' '), /ns2/);
    assert.match(failure.message, /while running: ip .*ns2.*the kernel said: .+/);
    const second = await applyTopology(topology);
    assert.ok(second.ran > 0);
    assert.ok(pings(lab, 'ns1', '192.168.1.2'));
    assert.equal((await applyTopology(topology)).ran, 0);
  });

  test('the root namespace is never changed', async () => {
    const snapshot = () => [
      execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).replace(/"(stats64|stats)":\{[^}]*\}/g, ''),
      execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' }),
      execFileSync('ip', ['-j', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }),
      execFileSync('cat', ['/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }),
      execFileSync('iptables-save', [], { encoding: 'utf8' }).replace(/^#.*$/gm, ''),
    ];
    const before = snapshot();
    const { lab } = await up('masquerade.yaml', 't-root');
    await destroyLab(lab);
    assert.deepEqual(snapshot(), before);
  });
});
