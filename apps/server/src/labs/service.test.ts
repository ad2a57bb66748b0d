// Kernel tests of edits as deltas, through the real server's doors (HTTP + WebSocket on 127.0.0.1,
// a real `ws` client) against real namespaces of labs named le-<random>: what a shell made (a filter
// rule, a macvlan, a kube-proxy DNAT) survives canvas edits and an export/apply; a node leaves with
// everything that joins it; an address change inside one subnet keeps the new address; a duplicate
// address is a warning; a client reads its own writes while a ping flood runs. Kernel effects are
// checked with `ip` and `iptables-save` themselves. Every lab is destroyed in `finally`. Needs root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { Edit, ServerMessage, Topology } from '@nslab/model';
import { applyChanges, netnsName, parseTopology } from '@nslab/model';
import { startServer } from '../main';
import type { Running } from '../main';
import { applyTopology } from '../kernel/lab';
import { cleanup, inNode, uniqueLab } from '../../test-kit/lab';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const TOKEN = `tle${randomBytes(16).toString('hex')}`;
/** Bounds a failure only (a patch takes tens of milliseconds); generous because the machine is shared. */
const EVENT_TIMEOUT_MS = 20_000;

type Msg<K extends ServerMessage['type']> = Extract<ServerMessage, { type: K }>;

/** A WebSocket client that keeps every message and waits for the one a test expects. */
class Peer {
  readonly messages: ServerMessage[] = [];
  private readonly wake = new Set<() => void>();
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse((data as Buffer).toString()) as ServerMessage);
      for (const w of [...this.wake]) w();
    });
  }

  static open(port: number): Promise<Peer> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` }, origin: `http://127.0.0.1:${port}` });
      const peer = new Peer(ws);
      ws.once('open', () => ok(peer));
      ws.once('error', fail);
    });
  }

  next<K extends ServerMessage['type']>(type: K, test: (m: Msg<K>) => boolean, from: number): Promise<Msg<K>> {
    return new Promise((ok, fail) => {
      let i = from;
      const check = () => {
        for (; i < this.messages.length; i += 1) {
          const m = this.messages[i] as ServerMessage;
          if (m.type === type && test(m as Msg<K>)) {
            clearTimeout(timer);
            this.wake.delete(check);
            ok(m as Msg<K>);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        this.wake.delete(check);
        fail(new Error(`timed out waiting for ${type}; got: ${this.messages.slice(from).map((m) => JSON.stringify(m).slice(0, 300)).join('\n  ')}`));
      }, EVENT_TIMEOUT_MS);
      this.wake.add(check);
      check();
    });
  }

  async subscribe(lab: string): Promise<void> {
    const from = this.messages.length;
    this.ws.send(JSON.stringify({ type: 'subscribe', lab }));
    await this.next('snapshot', (m) => m.lab === lab, from);
  }

  /** The lab as this client knows it: the last snapshot with every later patch applied. */
  state(lab: string): Topology | undefined {
    let t: Topology | undefined;
    for (const m of this.messages) {
      if (m.type === 'snapshot' && m.lab === lab) t = m.topology;
      else if (m.type === 'patch' && m.lab === lab && t) t = applyChanges(t, m.changes);
    }
    return t;
  }

  /** Waits until this client's state of the lab passes `test` (patches arrive as the kernel changes). */
  async until(lab: string, test: (t: Topology) => boolean): Promise<Topology> {
    const t = this.state(lab);
    if (t && test(t)) return t;
    await this.next('patch', () => {
      const s = this.state(lab);
      return s !== undefined && test(s);
    }, 0);
    return this.state(lab) as Topology;
  }

  /** Sends an edit and resolves with its plan and its result, or its error. */
  async edit(lab: string, edits: Edit[], dryRun = false): Promise<{ plan?: Msg<'plan'>; result?: Msg<'result'>; error?: Msg<'error'> }> {
    const id = `e${randomBytes(4).toString('hex')}`;
    const from = this.messages.length;
    this.ws.send(JSON.stringify({ type: 'edit', id, lab, edits, dryRun }));
    const end = await Promise.race([
      this.next('result', (m) => m.id === id, from).then((result) => ({ result })),
      this.next('error', (m) => m.id === id, from).then((error) => ({ error })),
    ]);
    const plan = this.messages.slice(from).find((m): m is Msg<'plan'> => m.type === 'plan' && m.id === id);
    return { ...(plan ? { plan } : {}), ...end };
  }
}

/** An HTTP answer (text and, when it is JSON, the decoded body, typed by the caller as the fields it reads). */
function http<J = unknown>(port: number, method: string, path: string, body?: string): Promise<{ status: number; text: string; json: J }> {
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/yaml' } : {}) };
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        ok({ status: res.statusCode ?? 0, text, json: json as J });
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** Runs a command in a node's namespace as a learner's shell would, and fails loudly if it fails. */
function shell(lab: string, node: string, argv: string[]): string {
  const r = inNode(lab, node, argv);
  assert.equal(r.code, 0, `${argv.join(' ')} in ${node}: ${r.out}`);
  return r.out;
}

function addresses(lab: string, node: string, dev: string): string[] {
  const out = execFileSync('ip', ['-j', '-n', netnsName(lab, node), 'addr', 'show', 'dev', dev], { encoding: 'utf8' });
  const links = JSON.parse(out) as Array<{ addr_info?: Array<{ family: string; local: string; prefixlen: number }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).sort();
}

function hasDevice(lab: string, node: string, dev: string): boolean {
  return inNode(lab, node, ['ip', 'link', 'show', 'dev', dev]).code === 0;
}

/** A host namespace with bridge br0 and `n` nodes, each joined to it by a veth (the Docker bridge shape). */
function bridgeLab(lab: string, n: number, extra: string[] = []): Topology {
  const lines = [`name: ${lab}`, 'nodes:', '  host:', '    interfaces:', '      br0: { kind: bridge, addresses: [10.77.0.254/24] }'];
  for (let i = 1; i <= n; i += 1) lines.push(`      veth-ns${i}: { master: br0 }`);
  for (let i = 1; i <= n; i += 1) lines.push(`  ns${i}:`, '    interfaces:', `      eth0: { addresses: [10.77.0.${i}/24] }`);
  lines.push(...extra, 'links:');
  for (let i = 1; i <= n; i += 1) lines.push(`  - [ns${i}:eth0, host:veth-ns${i}]`);
  const parsed = parseTopology(lines.join('\n') + '\n');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.topology;
}

describe('edits as deltas (kernel, real server)', { concurrency: false }, () => {
  let server: Running;
  let peer: Peer;

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', token: TOKEN, examplesDir: join(repo, 'examples'), webDir: '/nonexistent', maxTerminals: 4 }, () => {});
    peer = await Peer.open(server.port);
  });

  after(async () => {
    peer?.ws.terminate();
    await server?.stop();
  });

  it('a filter rule and a macvlan made in shells survive ten unrelated canvas edits and an export/apply', async () => {
    const lab = uniqueLab('le');
    try {
      await applyTopology(bridgeLab(lab, 3));
      await peer.subscribe(lab);
      shell(lab, 'ns2', ['iptables', '-A', 'INPUT', '-p', 'icmp', '-j', 'DROP']);
      shell(lab, 'ns3', ['ip', 'link', 'add', 'mv0', 'link', 'eth0', 'type', 'macvlan', 'mode', 'bridge']);
      const seen = await peer.until(lab, (t) => t.nodes['ns3']?.interfaces['mv0'] !== undefined
        && (t.nodes['ns2']?.nat ?? []).some((r) => r.type === 'other' && r.chain === 'INPUT'));
      assert.equal(seen.nodes['ns3']?.interfaces['mv0']?.kind, 'other');
      assert.equal(seen.nodes['ns3']?.interfaces['mv0']?.type, 'macvlan', 'the live model names the kernel\'s kind');

      const edits: Edit[][] = [
        [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.77.1.1/24' }],
        [{ kind: 'route.add', node: 'host', route: '10.99.0.0/16 via 10.77.0.1' }],
        [{ kind: 'forwarding.set', node: 'host', value: true }],
        [{ kind: 'node.add', node: 'ns9' }],
        [{ kind: 'interface.add', node: 'ns9', name: 'br9', interface: { kind: 'bridge' } }],
        [{ kind: 'interface.set', node: 'ns1', name: 'eth0', mtu: 1400 }],
        [{ kind: 'nat.add', node: 'host', rule: { type: 'masquerade', source: '10.77.0.0/24' } }],
        [{ kind: 'address.remove', node: 'ns1', interface: 'eth0', address: '10.77.1.1/24' }],
        [{ kind: 'route.remove', node: 'host', route: '10.99.0.0/16 via 10.77.0.1' }],
        [{ kind: 'node.remove', node: 'ns9' }],
      ];
      for (const e of edits) {
        const { plan, result, error } = await peer.edit(lab, e);
        assert.ok(result?.ok, `edit ${JSON.stringify(e)} failed: ${error?.message}`);
        const elsewhere = (plan?.ops ?? []).filter((o) => o.argv.join(' ').includes(netnsName(lab, 'ns2')) || o.argv.join(' ').includes(netnsName(lab, 'ns3')));
        assert.deepEqual(elsewhere.map((o) => o.argv.join(' ')), [], `edit ${JSON.stringify(e)} planned ops in ns2/ns3`);
      }
      const kept = () => {
        assert.match(shell(lab, 'ns2', ['iptables-save', '-t', 'filter']), /^-A INPUT -p icmp -j DROP$/m);
        assert.ok(hasDevice(lab, 'ns3', 'mv0'), 'mv0 is still in ns3');
      };
      kept();

      // nslab show lists both; export then apply keeps both, and a second apply has nothing to do.
      const show = execFileSync(process.execPath, [join(repo, 'apps/server/bin/nslab.mjs'), 'show', lab], { encoding: 'utf8' });
      assert.match(show, /firewall: \[ -t filter -A INPUT -p icmp -j DROP \]/);
      assert.match(show, /mv0:\n\s+kind: other\n\s+type: macvlan\n\s+parent: eth0\n\s+mode: bridge\n\s+up: false\n/, 'shown with what rebuilds it');
      const exported = await http(server.port, 'GET', `/api/labs/${lab}/export`);
      assert.equal(exported.status, 200);
      const applied = await http(server.port, 'PUT', `/api/labs/${lab}`, exported.text);
      assert.equal(applied.status, 200, applied.text);
      kept();
      const again = await http<{ ops: unknown[] }>(server.port, 'PUT', `/api/labs/${lab}?dryRun=1`, exported.text);
      assert.deepEqual(again.json.ops, [], 'export then apply is lossless: nothing left to change');
    } finally {
      await cleanup(lab);
    }
  });

  it('a kube-proxy DNAT typed in a shell leaves canvas edits and export | apply --dry-run working', async () => {
    const lab = uniqueLab('le');
    try {
      await applyTopology(bridgeLab(lab, 2));
      await peer.subscribe(lab);
      shell(lab, 'host', ['iptables', '-t', 'nat', '-A', 'PREROUTING', '-d', '10.96.0.10/32', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '10.244.2.2:80']);
      await peer.until(lab, (t) => (t.nodes['host']?.nat ?? []).some((r) => r.type === 'dnat' && r.to === '10.244.2.2:80'));
      const { plan, result, error } = await peer.edit(lab, [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.77.0.11/24' }]);
      assert.ok(result?.ok, `the edit failed: ${error?.message}`);
      assert.ok(plan?.warnings?.some((w) => /10\.244\.2\.2/.test(w.message)), 'the observed DNAT earns a warning');
      assert.deepEqual(addresses(lab, 'ns1', 'eth0'), ['10.77.0.1/24', '10.77.0.11/24']);
      const exported = await http(server.port, 'GET', `/api/labs/${lab}/export`);
      const dry = await http<{ ops: unknown[] }>(server.port, 'PUT', `/api/labs/${lab}?dryRun=1`, exported.text);
      assert.equal(dry.status, 200, dry.text);
      assert.deepEqual(dry.json.ops, []);
      assert.match(shell(lab, 'host', ['iptables-save', '-t', 'nat']), /--to-destination 10\.244\.2\.2:80/);
    } finally {
      await cleanup(lab);
    }
  });

  it('removing a node on a bridge removes its peer port, shown in the plan; no stray port is left', async () => {
    const lab = uniqueLab('le');
    try {
      await applyTopology(bridgeLab(lab, 2));
      await peer.subscribe(lab);
      const { plan, result, error } = await peer.edit(lab, [{ kind: 'node.remove', node: 'ns1' }]);
      assert.ok(result?.ok, `node.remove failed: ${error?.message}`);
      const lines = (plan?.ops ?? []).map((o) => o.argv.join(' '));
      assert.ok(lines.includes(`ip -n ${netnsName(lab, 'host')} link del dev veth-ns1`), lines.join('\n'));
      assert.ok(lines.includes(`ip netns del ${netnsName(lab, 'ns1')}`), lines.join('\n'));
      const ports = execFileSync('ip', ['-j', '-n', netnsName(lab, 'host'), 'link', 'show', 'master', 'br0'], { encoding: 'utf8' });
      assert.deepEqual((JSON.parse(ports) as Array<{ ifname: string }>).map((l) => l.ifname), ['veth-ns2']);
      assert.ok(!hasDevice(lab, 'host', 'veth-ns1'));
    } finally {
      await cleanup(lab);
    }
  });

  it('an address change inside one subnet keeps the new address; where the kernel differs, the result says so', async () => {
    const lab = uniqueLab('le');
    try {
      await applyTopology(bridgeLab(lab, 1));
      await peer.subscribe(lab);
      assert.equal(shell(lab, 'ns1', ['sysctl', '-n', 'net.ipv4.conf.all.promote_secondaries']).trim(), '1');
      // 10.77.0.1/24 -> 10.77.0.5/24, as two edits: add the new one, then remove the old (the primary).
      const add = await peer.edit(lab, [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.77.0.5/24' }]);
      assert.ok(add.result?.ok, add.error?.message);
      const del = await peer.edit(lab, [{ kind: 'address.remove', node: 'ns1', interface: 'eth0', address: '10.77.0.1/24' }]);
      assert.ok(del.result?.ok, del.error?.message);
      assert.deepEqual(addresses(lab, 'ns1', 'eth0'), ['10.77.0.5/24']);
      assert.deepEqual(del.result?.warnings ?? [], []);

      // A namespace that does not promote (made by hand): the kernel drops .6 with .5, and the result says so.
      shell(lab, 'ns1', ['sysctl', '-qw', 'net.ipv4.conf.all.promote_secondaries=0']);
      shell(lab, 'ns1', ['sysctl', '-qw', 'net.ipv4.conf.eth0.promote_secondaries=0']);
      assert.ok((await peer.edit(lab, [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.77.0.6/24' }])).result?.ok);
      const lost = await peer.edit(lab, [{ kind: 'address.remove', node: 'ns1', interface: 'eth0', address: '10.77.0.5/24' }]);
      assert.deepEqual(addresses(lab, 'ns1', 'eth0'), []);
      assert.ok(lost.result?.ok, lost.error?.message);
      assert.ok(lost.result?.warnings?.some((w) => /dropped 10\.77\.0\.6\/24 from ns1:eth0/.test(w.message)), JSON.stringify(lost.result?.warnings));
    } finally {
      await cleanup(lab);
    }
  });

  it('a duplicate address on one link is a warning, and the edit is applied', async () => {
    const lab = uniqueLab('le');
    try {
      await applyTopology(bridgeLab(lab, 2));
      await peer.subscribe(lab);
      const { plan, result, error } = await peer.edit(lab, [{ kind: 'address.add', node: 'ns2', interface: 'eth0', address: '10.77.0.1/24' }]);
      assert.ok(result?.ok, error?.message);
      assert.ok(plan?.warnings?.some((w) => /10\.77\.0\.1 is on ns1:eth0 and on ns2:eth0/.test(w.message)), JSON.stringify(plan?.warnings));
      assert.deepEqual(addresses(lab, 'ns2', 'eth0'), ['10.77.0.1/24', '10.77.0.2/24']);
    } finally {
      await cleanup(lab);
    }
  });

  it('a client reads its own writes: add-then-remove edits during a ping flood all succeed', async () => {
    const lab = uniqueLab('le');
    const flood = { pid: 0 };
    try {
      await applyTopology(bridgeLab(lab, 2));
      await peer.subscribe(lab);
      const child = spawn('ip', ['netns', 'exec', netnsName(lab, 'ns1'), 'ping', '-f', '-q', '10.77.0.2'], { stdio: 'ignore' });
      flood.pid = child.pid ?? 0;
      const failures: string[] = [];
      // 14 pairs: without the confirming read, about one remove in four failed here under this flood.
      for (let i = 0; i < 14; i += 1) {
        const address = `10.77.${100 + i}.2/24`;
        for (const kind of ['address.add', 'address.remove'] as const) {
          const { result, error } = await peer.edit(lab, [{ kind, node: 'ns2', interface: 'eth0', address }]);
          if (!result?.ok) failures.push(`${kind} ${address}: ${error?.message}`);
        }
      }
      assert.deepEqual(failures, []);
      assert.deepEqual(addresses(lab, 'ns2', 'eth0'), ['10.77.0.2/24']);
    } finally {
      if (flood.pid) process.kill(flood.pid, 'SIGTERM');
      await cleanup(lab);
    }
  });
});
