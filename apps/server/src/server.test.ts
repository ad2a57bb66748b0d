// Kernel tests of the server through its real doors: an HTTP + WebSocket server on 127.0.0.1
// (a random port), a real `ws` client, real namespaces named nslab.tsrv-<random>.<node>. Each
// test makes its own labs and removes them in `finally`, even when it fails; the last test
// checks that no namespace of the suite is left. Kernel effects are checked with `ip` itself,
// never with nslab's own reading. Needs root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { Change, FirewallRule, Route, ServerMessage, Topology } from '@nslab/model';
import { applyChanges, MAX_MESSAGE_BYTES, netnsName, parseTopology, PROTOCOL_VERSION } from '@nslab/model';
import { startServer } from './main';
import { freePort, startServerProcess, stopServerProcess } from '../test-kit/child-server';
import type { Running } from './main';
import { applyTopology, destroyLab } from './kernel/lab';
import { writeMeta } from './kernel/meta';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TOKEN = `tsrv${randomBytes(16).toString('hex')}`;

/**
 * How long any one awaited event may take. A patch arrives in tens of milliseconds; this only bounds a
 * failure, and is generous because the machine is shared (another run building a 300-namespace lab
 * made a subscribe take several seconds here).
 */
const EVENT_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Kernel helpers: `ip` itself, with argv arrays.

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function ipJson<T>(args: string[]): T {
  const out = ip(['-j', ...args]).trim();
  return (out ? JSON.parse(out) : []) as T;
}

/** Every named namespace, as `ip netns list` reports them. */
function netnsList(): string[] {
  return ipJson<Array<{ name: string }>>(['netns', 'list']).map((n) => n.name);
}

/** The namespaces named like a lab's nodes. */
function labNetns(lab: string, list = netnsList()): string[] {
  return list.filter((n) => n.startsWith(`nslab.${lab}.`)).sort();
}

/** Addresses of one device, as `ip -j addr` reports them (CIDR text). */
function addresses(netns: string, dev: string): string[] {
  const links = ipJson<Array<{ addr_info?: Array<{ local: string; prefixlen: number; scope?: string }> }>>(['-n', netns, 'addr', 'show', 'dev', dev]);
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`)).sort();
}

/**
 * What an edit could change in a namespace, read with `ip -j`: each device's name, master, admin state
 * and global addresses (not carrier or link-local addresses, which the kernel changes by itself).
 */
function kernelState(netns: string): Array<{ ifname: string; master?: string; up: boolean; addresses: string[] }> {
  const links = ipJson<Array<{ ifname: string; master?: string; flags?: string[]; addr_info?: Array<{ local: string; prefixlen: number; scope?: string }> }>>(['-n', netns, 'addr']);
  return links.map((l) => ({
    ifname: l.ifname,
    ...(l.master ? { master: l.master } : {}),
    up: (l.flags ?? []).includes('UP'),
    addresses: (l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`).sort(),
  }));
}

/** The ownership marker on a namespace's lo, read directly. */
function marker(netns: string): string | undefined {
  try {
    return ipJson<Array<{ ifalias?: string }>>(['-n', netns, '-d', 'link', 'show', 'dev', 'lo'])[0]?.ifalias;
  } catch {
    return undefined;
  }
}

/** Every lab name the suite used, so the last test can check that none is left. */
const labsUsed = new Set<string>();

/** A fresh lab name (tsrv-<4 hex>) that has no namespace on this machine. */
function newLab(): string {
  for (;;) {
    const lab = `tsrv-${randomBytes(2).toString('hex')}`;
    if (labsUsed.has(lab) || labNetns(lab).length > 0) continue;
    labsUsed.add(lab);
    return lab;
  }
}

/** Removes a lab: nslab's destroy, then any namespace with the lab's (random, suite-owned) name left unmarked by a crash. */
async function removeLab(lab: string): Promise<void> {
  await destroyLab(lab).catch(() => []);
  for (const n of labNetns(lab)) {
    try {
      ip(['netns', 'del', n]);
    } catch {
      // already gone
    }
  }
}

/** Applies a topology file straight through the kernel engine (not the server). */
async function makeLab(yaml: string): Promise<Topology> {
  const parsed = parseTopology(yaml);
  if (!parsed.ok) throw new Error(`test topology is invalid: ${JSON.stringify(parsed.problems)}`);
  await applyTopology(parsed.topology);
  return parsed.topology;
}

/** Two namespaces joined by a veth, 10.1.0.0/24. */
function pairYaml(lab: string): string {
  return [
    `name: ${lab}`,
    'nodes:',
    '  ns1:',
    '    interfaces:',
    '      eth0: { addresses: [10.1.0.1/24] }',
    '  ns2:',
    '    interfaces:',
    '      eth0: { addresses: [10.1.0.2/24] }',
    'links:',
    '  - [ns1:eth0, ns2:eth0]',
    '',
  ].join('\n');
}

/** A host namespace with a bridge and `n` nodes, each with a veth to it (the Docker bridge shape). */
function bridgeYaml(lab: string, n: number): string {
  const lines = [`name: ${lab}`, 'nodes:', '  host:', '    interfaces:', '      br0: { kind: bridge, addresses: [10.50.0.254/24] }'];
  for (let i = 1; i <= n; i += 1) lines.push(`      v${i}: { master: br0 }`);
  for (let i = 1; i <= n; i += 1) lines.push(`  n${i}:`, '    interfaces:', `      eth0: { addresses: [10.50.${Math.floor(i / 250)}.${(i % 250) + 1}/16] }`);
  lines.push('links:');
  for (let i = 1; i <= n; i += 1) lines.push(`  - [n${i}:eth0, host:v${i}]`);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// A WebSocket client that keeps every message and waits for the one a test expects.

type Msg<K extends ServerMessage['type']> = Extract<ServerMessage, { type: K }>;

class Peer {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly wake = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse((data as Buffer).toString()) as ServerMessage);
      for (const w of [...this.wake]) w();
    });
    this.closed = new Promise((ok) => ws.on('close', (code, reason) => {
      ok({ code, reason: reason.toString() });
      for (const w of [...this.wake]) w();
    }));
  }

  /** Connects with the token (Authorization: Bearer) and waits for the socket to open. */
  static open(port: number): Promise<Peer> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` }, origin: `http://127.0.0.1:${port}` });
      const peer = new Peer(ws); // listens before open, so hello is never missed
      ws.once('open', () => ok(peer));
      ws.once('error', fail);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message at or after index `from` of this type that passes `test`, waiting for it if needed. */
  next<K extends ServerMessage['type']>(type: K, test: (m: Msg<K>) => boolean = () => true, options: { from?: number; timeoutMs?: number } = {}): Promise<Msg<K>> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? EVENT_TIMEOUT_MS;
    return new Promise((ok, fail) => {
      let i = from;
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.wake.delete(check);
      };
      const check = () => {
        for (; i < this.messages.length; i += 1) {
          const m = this.messages[i] as ServerMessage;
          if (m.type === type && test(m as Msg<K>)) {
            done();
            ok(m as Msg<K>);
            return;
          }
        }
        if (this.ws.readyState === WebSocket.CLOSED) {
          done();
          fail(new Error(`the socket closed while waiting for ${type}`));
        }
      };
      timer = setTimeout(() => {
        done();
        const got = this.messages.slice(from).map((m) => JSON.stringify(m).slice(0, 200));
        fail(new Error(`timed out after ${timeoutMs} ms waiting for ${type}; received since: ${got.join('\n  ') || 'nothing'}`));
      }, timeoutMs);
      this.wake.add(check);
      check();
    });
  }

  /** Subscribes to a lab and resolves with its snapshot. */
  async subscribe(lab: string): Promise<Topology> {
    const from = this.messages.length;
    this.send({ type: 'subscribe', lab });
    return (await this.next('snapshot', (m) => m.lab === lab, { from })).topology;
  }

  /** The lab as this client knows it: its last snapshot with every later patch applied. */
  state(lab: string): Topology | undefined {
    let t: Topology | undefined;
    for (const m of this.messages) {
      if (m.type === 'snapshot' && m.lab === lab) t = m.topology;
      else if (m.type === 'patch' && m.lab === lab && t) t = applyChanges(t, m.changes);
    }
    return t;
  }

  /** A ping answered by a pong: the socket is open and the server reads it. */
  async alive(): Promise<void> {
    const id = `p${randomBytes(3).toString('hex')}`;
    const from = this.messages.length;
    this.send({ type: 'ping', id });
    await this.next('pong', (m) => m.id === id, { from });
  }
}

const samePath = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A patch predicate: some change at exactly `path` whose value (undefined for a removal) passes `test`. */
function touches(lab: string, path: string[], test: (value: unknown) => boolean) {
  return (m: Msg<'patch'>) => m.lab === lab && m.changes.some((c: Change) => samePath(c.path, path) && test(c.value));
}

/** Runs a command (argv) the way a learner's terminal would, and waits for the patch that shows it. */
async function viaKernel(peer: Peer, lab: string, argv: string[], path: string[], test: (value: unknown) => boolean): Promise<Msg<'patch'>> {
  const from = peer.messages.length;
  execFileSync(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  return peer.next('patch', touches(lab, path, test), { from });
}

/** What a WebSocket upgrade is answered with: 101 when it opened, else the HTTP status. */
function upgradeStatus(port: number, options: { headers?: Record<string, string>; origin?: string; query?: string; protocols?: string[] } = {}): Promise<number> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${options.query ?? ''}`, options.protocols ?? [], { headers: options.headers ?? {}, ...(options.origin !== undefined ? { origin: options.origin } : {}) });
    ws.once('open', () => {
      ws.close();
      ok(101);
    });
    ws.once('unexpected-response', (req, res) => {
      ok(res.statusCode ?? 0);
      res.resume();
      req.destroy();
    });
    ws.on('error', (err) => fail(err));
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP with node:http, so that the Host header is ours to set.

/** An HTTP answer; `json` is the decoded body, typed by the caller as the fields it reads and asserts (unchecked). */
interface Reply<J = unknown> { status: number; headers: IncomingHttpHeaders; text: string; json: J }

/** The answer of a PUT of a lab (apps/server/src/http/api.ts), as far as these tests read it. */
interface ChangeJson { lab: string; ran: number; ops: Array<{ argv: unknown; description: unknown }> }
/** The answer to a file that does not validate: every problem with its path. */
interface ProblemsJson { problems: Array<{ path: string; message: string }> }

function http<J = unknown>(port: number, method: string, path: string, options: { headers?: Record<string, string>; body?: string; auth?: boolean; timeoutMs?: number } = {}): Promise<Reply<J>> {
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...(options.auth === false ? {} : { authorization: `Bearer ${TOKEN}` }), ...options.headers };
  return new Promise((ok, fail) => {
    // A fresh connection per request (agent: false): a kept-alive socket the server is closing would reset.
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: options.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        ok({ status: res.statusCode ?? 0, headers: res.headers, text, json: json as J });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', fail);
    req.end(options.body);
  });
}

const yamlHeaders = { 'content-type': 'application/yaml' };

// ---------------------------------------------------------------------------------------------

describe('nslab server (kernel, real sockets)', { concurrency: false }, () => {
  let server: Running;
  let port: number;
  const peers: Peer[] = [];
  const open = async () => {
    const p = await Peer.open(port);
    peers.push(p);
    return p;
  };

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', token: TOKEN, examplesDir: join(repo, 'examples'), webDir: '/nonexistent', maxTerminals: 16 }, () => {});
    port = server.port;
  });

  after(async () => {
    for (const p of peers) p.ws.terminate();
    await server?.stop();
    for (const lab of labsUsed) await removeLab(lab);
  });

  describe('WebSocket protocol', () => {
    it('says hello with the protocol version on connect and sends a snapshot of the kernel on subscribe', async () => {
      const lab = newLab();
      try {
        await makeLab(pairYaml(lab));
        const peer = await open();
        const hello = await peer.next('hello');
        assert.equal(peer.messages[0], hello, 'hello is the first message');
        assert.equal(hello.protocol, PROTOCOL_VERSION);
        assert.equal(typeof hello.server, 'string');
        assert.ok(Array.isArray(hello.labs));

        const snapshot = await peer.subscribe(lab);
        assert.equal(snapshot.name, lab);
        assert.deepEqual(Object.keys(snapshot.nodes).sort(), ['ns1', 'ns2']);
        assert.equal(snapshot.links.length, 1);
        for (const node of ['ns1', 'ns2']) {
          assert.deepEqual(snapshot.nodes[node]?.interfaces['eth0']?.addresses, addresses(netnsName(lab, node), 'eth0'));
        }
      } finally {
        await removeLab(lab);
      }
    });

    it('a lab\'s metadata rewritten with no kernel change (docker run --net=container: in a shell) is resent to subscribers', async () => {
      const lab = newLab();
      try {
        await makeLab(pairYaml(lab));
        const peer = await open();
        await peer.subscribe(lab);
        // The new veths' own changes (carrier, IPv6 link-local addresses) arrive first: wait for a second without any.
        for (let seen = -1; seen !== peer.messages.length;) {
          seen = peer.messages.length;
          await new Promise((r) => setTimeout(r, 1_000));
        }
        const from = peer.messages.length;
        await writeMeta(lab, { description: 'rewritten behind the kernel\'s back' });
        const again = await peer.next('snapshot', (m) => m.lab === lab, { from, timeoutMs: 10_000 });
        assert.equal(again.meta?.description, 'rewritten behind the kernel\'s back');
      } finally {
        await removeLab(lab);
      }
    });

    it('changes made with ip, iptables and sysctl arrive as patches naming the object', async () => {
      const lab = newLab();
      try {
        await makeLab(pairYaml(lab));
        const ns1 = netnsName(lab, 'ns1');
        const peer = await open();
        await peer.subscribe(lab);
        const br9 = ['nodes', 'ns1', 'interfaces', 'br9'];
        const iface = (v: unknown) => v as { kind: string; up: boolean; addresses: string[]; master?: string } | undefined;

        await viaKernel(peer, lab, ['ip', '-n', ns1, 'link', 'add', 'br9', 'type', 'bridge'], br9, (v) => iface(v)?.kind === 'bridge');
        await viaKernel(peer, lab, ['ip', '-n', ns1, 'addr', 'add', '10.9.0.1/24', 'dev', 'br9'], br9, (v) => iface(v)?.addresses.includes('10.9.0.1/24') === true);
        await viaKernel(peer, lab, ['ip', '-n', ns1, 'link', 'set', 'br9', 'up'], br9, (v) => iface(v)?.up === true);
        await viaKernel(peer, lab, ['ip', '-n', ns1, 'link', 'set', 'eth0', 'master', 'br9'], ['nodes', 'ns1', 'interfaces', 'eth0'], (v) => iface(v)?.master === 'br9');
        await viaKernel(peer, lab, ['ip', '-n', ns1, 'route', 'add', '10.99.0.0/16', 'via', '10.9.0.254', 'dev', 'br9'], ['nodes', 'ns1', 'routes'],
          (v) => (v as Route[]).some((r) => r.dst === '10.99.0.0/16' && r.gateway === '10.9.0.254'));
        await viaKernel(peer, lab, ['ip', 'netns', 'exec', ns1, 'iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.9.0.0/24', '-j', 'MASQUERADE'], ['nodes', 'ns1', 'nat'],
          (v) => (v as FirewallRule[]).some((r) => r.type === 'masquerade' && r.source === '10.9.0.0/24'));
        await viaKernel(peer, lab, ['ip', 'netns', 'exec', ns1, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], ['nodes', 'ns1', 'forwarding'], (v) => v === true);
        // Removals name the object and carry no value.
        await viaKernel(peer, lab, ['ip', '-n', ns1, 'link', 'del', 'br9'], br9, (v) => v === undefined);
        await viaKernel(peer, lab, ['ip', 'netns', 'del', netnsName(lab, 'ns2')], ['nodes', 'ns2'], (v) => v === undefined);

        // The client's view (snapshot + patches) is what the kernel has now.
        const state = peer.state(lab);
        assert.deepEqual(Object.keys(state?.nodes ?? {}), ['ns1']);
        assert.equal(state?.nodes['ns1']?.forwarding, true);
        assert.equal(state?.nodes['ns1']?.interfaces['br9'], undefined);
        assert.deepEqual(state?.links, []);
      } finally {
        await removeLab(lab);
      }
    });

    it('an edit gets plan, progress and result, changes the kernel, and two subscribers converge', async () => {
      const lab = newLab();
      try {
        await makeLab(pairYaml(lab));
        const ns1 = netnsName(lab, 'ns1');
        const a = await open();
        const b = await open();
        await a.subscribe(lab);
        await b.subscribe(lab);
        const fromA = a.messages.length;
        const fromB = b.messages.length;
        a.send({ type: 'edit', id: 'e1', lab, edits: [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.1.0.5/24' }] });

        const result = await a.next('result', (m) => m.id === 'e1', { from: fromA });
        assert.equal(result.ok, true);
        assert.equal(result.ran, 1);
        const mine = a.messages.slice(fromA).filter((m) => 'id' in m && m.id === 'e1');
        assert.deepEqual(mine.map((m) => m.type), ['plan', 'progress', 'result']);
        const plan = mine[0] as Msg<'plan'>;
        const progress = mine[1] as Msg<'progress'>;
        const argv = ['ip', '-n', ns1, 'addr', 'add', '10.1.0.5/24', 'dev', 'eth0'];
        assert.equal(plan.dryRun, false);
        assert.deepEqual(plan.ops.map((o) => o.argv), [argv]);
        assert.deepEqual(progress.argv, argv);
        assert.equal(progress.status, 'done');
        assert.equal(progress.code, 0);
        assert.ok(!b.messages.slice(fromB).some((m) => m.type === 'plan' || m.type === 'progress' || m.type === 'result'), 'plan, progress and result go to the requester only');

        assert.deepEqual(addresses(ns1, 'eth0'), ['10.1.0.1/24', '10.1.0.5/24']);

        const eth0 = ['nodes', 'ns1', 'interfaces', 'eth0'];
        const has = (v: unknown) => (v as { addresses?: string[] } | undefined)?.addresses?.includes('10.1.0.5/24') === true;
        await a.next('patch', touches(lab, eth0, has), { from: fromA });
        await b.next('patch', touches(lab, eth0, has), { from: fromB });
        // Patches sent between the two subscriptions reach only the first client, so counts may differ;
        // the states must not. Wait (on the clients' own copies) until they agree, then compare.
        const same = () => JSON.stringify(a.state(lab)) === JSON.stringify(b.state(lab));
        for (let i = 0; i < 100 && !same(); i += 1) await new Promise((ok) => setTimeout(ok, 50));
        assert.deepEqual(a.state(lab), b.state(lab));
        assert.deepEqual(a.state(lab)?.nodes['ns1']?.interfaces['eth0']?.addresses, ['10.1.0.1/24', '10.1.0.5/24']);
        // A third client's fresh snapshot is the same state.
        const c = await open();
        assert.deepEqual(await c.subscribe(lab), a.state(lab));
      } finally {
        await removeLab(lab);
      }
    });

    it('an invalid edit is answered with an error listing problems, and the kernel is unchanged', async () => {
      const lab = newLab();
      try {
        await makeLab(pairYaml(lab));
        const ns1 = netnsName(lab, 'ns1');
        const before = kernelState(ns1);
        const peer = await open();
        await peer.subscribe(lab);
        const from = peer.messages.length;
        peer.send({ type: 'edit', id: 'bad1', lab, edits: [{ kind: 'address.add', node: 'ns1', interface: 'eth0', address: '10.1.0.300/24' }] });
        const error = await peer.next('error', (m) => m.id === 'bad1', { from });
        assert.equal(error.code, 'invalid');
        assert.equal(error.lab, lab);
        assert.ok(error.problems && error.problems.length > 0, 'the error lists problems');
        assert.ok(error.problems.some((p) => p.path.startsWith('nodes.ns1.interfaces.eth0.addresses') && p.message.includes('10.1.0.300/24')), JSON.stringify(error.problems));

        peer.send({ type: 'edit', id: 'bad2', lab, edits: [{ kind: 'address.add', node: 'nope', interface: 'eth0', address: '10.1.0.9/24' }] });
        const error2 = await peer.next('error', (m) => m.id === 'bad2', { from });
        assert.deepEqual(error2.problems?.map((p) => p.path), ['edits[0]']);

        await peer.alive();
        assert.ok(!peer.messages.slice(from).some((m) => m.type === 'plan' || m.type === 'progress' || m.type === 'result'), 'nothing was planned or run');
        assert.deepEqual(kernelState(ns1), before);
      } finally {
        await removeLab(lab);
      }
    });

    it('malformed JSON and an unknown message type get an error and the socket stays open', async () => {
      const peer = await open();
      await peer.next('hello');
      let from = peer.messages.length;
      peer.send('{"type": "subscribe", lab');
      const e1 = await peer.next('error', () => true, { from });
      assert.equal(e1.code, 'bad-message');
      from = peer.messages.length;
      peer.send({ type: 'frobnicate', lab: 'x' });
      const e2 = await peer.next('error', () => true, { from });
      assert.equal(e2.code, 'bad-message');
      assert.match(e2.message, /frobnicate/);
      from = peer.messages.length;
      peer.send({ type: 'subscribe', lab: 'Not/A/Lab' });
      const e3 = await peer.next('error', () => true, { from });
      assert.equal(e3.code, 'invalid');
      await peer.alive();
      assert.equal(peer.ws.readyState, WebSocket.OPEN);
    });

    it('an oversized message closes only that socket, with 1009', async () => {
      const big = await open();
      const other = await open();
      await big.next('hello');
      big.send({ type: 'ping', id: 'x', pad: 'a'.repeat(MAX_MESSAGE_BYTES) });
      const closed = await Promise.race([big.closed, new Promise<never>((_, fail) => setTimeout(() => fail(new Error('the oversized message did not close the socket')), EVENT_TIMEOUT_MS))]);
      assert.equal(closed.code, 1009);
      await other.alive();
      // A new connection is fine too.
      await (await open()).alive();
    });
  });

  describe('doors: token, Origin, Host', () => {
    it('a missing or wrong token gets 401, over HTTP and on upgrade; the right one gets in by header or subprotocol, never by cookie or query', async () => {
      assert.equal((await http(port, 'GET', '/api/labs', { auth: false })).status, 401);
      assert.equal((await http(port, 'GET', '/api/labs', { auth: false, headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
      assert.equal((await http(port, 'GET', `/api/labs?token=${TOKEN}x`, { auth: false })).status, 401);
      assert.equal((await http(port, 'GET', '/api/labs', { auth: false, headers: { cookie: 'nslab_token=nope' } })).status, 401);
      assert.equal((await http(port, 'GET', '/api/labs')).status, 200);
      // A cookie or a query string is sent by the browser on its own (to every port of 127.0.0.1): never a credential.
      assert.equal((await http(port, 'GET', `/api/labs?token=${TOKEN}`, { auth: false })).status, 401);
      assert.equal((await http(port, 'GET', '/api/labs', { auth: false, headers: { cookie: `nslab_token=${TOKEN}` } })).status, 401);

      // The printed URL sets no cookie: the page takes the token from its address.
      const first = await http(port, 'GET', `/?token=${TOKEN}`, { auth: false });
      assert.equal(first.status, 200);
      assert.equal(first.headers['set-cookie'], undefined);
      assert.equal(first.headers['referrer-policy'], 'no-referrer');

      assert.equal(await upgradeStatus(port), 401);
      assert.equal(await upgradeStatus(port, { headers: { authorization: 'Bearer wrong-token-wrong-token' } }), 401);
      assert.equal(await upgradeStatus(port, { query: '?token=wrong-token-wrong-token' }), 401);
      assert.equal(await upgradeStatus(port, { headers: { authorization: `Bearer ${TOKEN}` } }), 101);
      assert.equal(await upgradeStatus(port, { protocols: ['nslab', `nslab.token.${TOKEN}`], origin: `http://127.0.0.1:${port}` }), 101);
      assert.equal(await upgradeStatus(port, { protocols: ['nslab', 'nslab.token.wrong-token-wrong-token'], origin: `http://127.0.0.1:${port}` }), 401);
      assert.equal(await upgradeStatus(port, { query: `?token=${TOKEN}` }), 401);
      assert.equal(await upgradeStatus(port, { headers: { cookie: `nslab_token=${TOKEN}` }, origin: `http://127.0.0.1:${port}` }), 401);
    });

    it('a foreign Origin gets 403 on upgrade, even with the token', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const otherPort = port === 65535 ? port - 1 : port + 1;
      for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${otherPort}`, `https://127.0.0.1:${port}`, `http://evil.example:${port}`]) {
        assert.equal(await upgradeStatus(port, { headers: auth, origin }), 403, origin);
      }
      assert.equal(await upgradeStatus(port, { headers: auth, origin: `http://localhost:${port}` }), 101);
    });

    it('a foreign Host header gets 403, over HTTP and on upgrade, even with the token', async () => {
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port === 65535 ? port - 1 : port + 1}`]) {
        assert.equal((await http(port, 'GET', '/api/labs', { headers: { host } })).status, 403, host);
        assert.equal(await upgradeStatus(port, { headers: { authorization: `Bearer ${TOKEN}`, host } }), 403, host);
      }
      assert.equal((await http(port, 'GET', '/api/labs', { headers: { host: `localhost:${port}` } })).status, 200);
    });
  });

  describe('HTTP API', () => {
    it('PUT a YAML lab, GET it, export it as YAML and as a script, apply it again, DELETE it', async () => {
      const lab = newLab();
      try {
        const yaml = pairYaml(lab);
        const put = await http<ChangeJson>(port, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: yaml });
        assert.ok(put.status === 200 || put.status === 201, `PUT answered ${put.status}: ${put.text}`);
        assert.equal(put.json.lab, lab);
        assert.ok(put.json.ran > 0);
        assert.equal(put.json.ran, put.json.ops.length);
        assert.ok(put.json.ops.every((o: { argv: unknown; description: unknown }) => Array.isArray(o.argv) && typeof o.description === 'string'));
        assert.deepEqual(labNetns(lab), [netnsName(lab, 'ns1'), netnsName(lab, 'ns2')]);
        assert.deepEqual(addresses(netnsName(lab, 'ns1'), 'eth0'), ['10.1.0.1/24']);
        assert.equal(marker(netnsName(lab, 'ns1')), `nslab:v1:${lab}:ns1`);

        const list = await http<{ labs: Array<{ name: string; nodes: number }> }>(port, 'GET', '/api/labs');
        assert.ok(list.json.labs.some((l: { name: string; nodes: number }) => l.name === lab && l.nodes === 2), list.text);

        const get = await http(port, 'GET', `/api/labs/${lab}`);
        assert.equal(get.status, 200);
        const topology = get.json as Topology;
        assert.equal(topology.name, lab);
        assert.deepEqual(topology.nodes['ns2']?.interfaces['eth0']?.addresses, ['10.1.0.2/24']);
        assert.equal(topology.links.length, 1);

        const exported = await http(port, 'GET', `/api/labs/${lab}/export?format=yaml`);
        assert.equal(exported.status, 200);
        assert.match(String(exported.headers['content-type']), /yaml/);
        const reparsed = parseTopology(exported.text);
        assert.ok(reparsed.ok, exported.text);
        assert.equal(reparsed.topology.name, lab);
        assert.deepEqual(reparsed.topology.nodes['ns1']?.interfaces['eth0']?.addresses, ['10.1.0.1/24']);

        const script = await http(port, 'GET', `/api/labs/${lab}/export?format=script`);
        assert.equal(script.status, 200);
        assert.match(script.text, /^#!\/usr\/bin\/env bash/);
        assert.match(script.text, /ip -n ns1 addr add 10\.1\.0\.1\/24 dev eth0/);
        assert.equal((await http(port, 'GET', `/api/labs/${lab}/export?format=xml`)).status, 400);

        // A plain link carries no token: a signed URL opens that one download, without it.
        const signed = await http<{ url: string }>(port, 'POST', '/api/signed-url', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: `/api/labs/${lab}/export?format=script` }) });
        assert.equal(signed.status, 200, signed.text);
        const viaLink = await http(port, 'GET', signed.json.url, { auth: false });
        assert.equal(viaLink.status, 200, viaLink.text);
        assert.equal(viaLink.text, script.text);
        assert.equal((await http(port, 'GET', `/api/labs/${lab}/export?format=script`, { auth: false })).status, 401);

        // Applying the same file again finds nothing to do.
        const again = await http<ChangeJson>(port, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: yaml });
        assert.equal(again.status, 200);
        assert.equal(again.json.ran, 0);

        const del = await http<{ removed: string[] }>(port, 'DELETE', `/api/labs/${lab}`);
        assert.equal(del.status, 200);
        assert.deepEqual([...del.json.removed].sort(), ['ns1', 'ns2']);
        assert.deepEqual(labNetns(lab), []);
        assert.equal((await http(port, 'GET', `/api/labs/${lab}`)).status, 404);
        assert.equal((await http(port, 'DELETE', `/api/labs/${lab}`)).status, 404);

        // Round trip: the exported file builds the same kernel state.
        const rebuilt = await http(port, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: exported.text });
        assert.equal(rebuilt.status, 200, rebuilt.text);
        for (const node of ['ns1', 'ns2']) assert.deepEqual(addresses(netnsName(lab, node), 'eth0'), [`10.1.0.${node === 'ns1' ? 1 : 2}/24`]);
      } finally {
        await removeLab(lab);
      }
    });

    it('PUT an invalid file answers 400 with every problem and its path, and creates nothing', async () => {
      const lab = newLab();
      try {
        const bad = pairYaml(lab).replace('10.1.0.1/24', '10.1.0.300/24').replace('10.1.0.2/24', 'nonsense');
        const put = await http<ProblemsJson>(port, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: bad });
        assert.equal(put.status, 400);
        const paths = put.json.problems.map((p) => p.path).sort();
        assert.deepEqual(paths, ['nodes.ns1.interfaces.eth0.addresses[0]', 'nodes.ns2.interfaces.eth0.addresses[0]']);
        assert.ok(put.json.problems.every((p: { message: string }) => p.message.length > 0));

        const unknownKey = await http<ProblemsJson>(port, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: pairYaml(lab).replace('ns2:\n', 'ns2:\n    colour: red\n') });
        assert.equal(unknownKey.status, 400);
        assert.ok(unknownKey.json.problems.some((p: { path: string; message: string }) => p.path === 'nodes.ns2' && /colour/.test(p.message)), unknownKey.text);

        const misnamed = await http<ProblemsJson>(port, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: pairYaml(`${lab}x`) });
        assert.equal(misnamed.status, 400);
        assert.deepEqual(misnamed.json.problems.map((p: { path: string }) => p.path), ['name']);

        const badJson = await http(port, 'PUT', `/api/labs/${lab}`, { headers: { 'content-type': 'application/json' }, body: '{"name":' });
        assert.equal(badJson.status, 400);

        assert.deepEqual(labNetns(lab), []);
        assert.deepEqual(labNetns(`${lab}x`), []);
      } finally {
        await removeLab(lab);
        await removeLab(`${lab}x`);
      }
    });

    it('GET of an unknown lab is 404, of a bad name 400; examples are listed', async () => {
      const lab = newLab();
      assert.equal((await http(port, 'GET', `/api/labs/${lab}`)).status, 404);
      assert.equal((await http(port, 'GET', `/api/labs/${lab}/export?format=yaml`)).status, 404);
      assert.equal((await http(port, 'GET', '/api/labs/Bad_Name')).status, 400);
      const examples = await http<{ examples: Array<{ name: string; yaml: string }> }>(port, 'GET', '/api/examples');
      assert.equal(examples.status, 200);
      assert.ok(examples.json.examples.some((e: { name: string; yaml: string }) => e.name === 'bridge' && e.yaml.includes('br0')));
      assert.equal((await http(port, 'GET', '/api/nothing-here')).status, 404);
      // A capture download: a format that does not exist is refused by name; no capture running is 404.
      const badFormat = await http<{ error: string }>(port, 'GET', `/api/labs/${lab}/pcap?node=ns1&format=erf`);
      assert.equal(badFormat.status, 400);
      assert.match(badFormat.json.error, /pcapng .* or pcap/);
      assert.equal((await http(port, 'GET', `/api/labs/${lab}/pcap?node=ns1&format=pcap`)).status, 404);
      assert.equal((await http(port, 'GET', `/api/labs/${lab}/pcap?node=ns1`)).status, 404);
    });
  });

  describe('restart', () => {
    it('a server killed mid-apply restarts, shows what the kernel has, and a second apply completes', { timeout: 120_000 }, async (t) => {
      const lab = newLab();
      const NODES = 50;
      const yaml = bridgeYaml(lab, NODES);
      const servers: ChildProcess[] = [];
      const orphans: Array<{ pid: number; cmd: string }> = [];
      try {
        const p = await freePort();
        const first = await startServerProcess(p, TOKEN, 20_000);
        servers.push(first);

        // A subscriber sees the lab's nodes appear as the apply marks them: the first such patch
        // is the moment to kill (the apply has begun and, with 51 namespaces, not finished).
        const watcher = await Peer.open(p);
        await watcher.subscribe(lab);
        let answered: string | undefined;
        const put = http(p, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: yaml }).then(
          (r) => { answered = `answered ${r.status}`; },
          (e: Error) => { answered = `failed: ${e.message}`; },
        );
        await watcher.next('patch', (m) => m.changes.some((c) => c.path[0] === 'nodes' && c.value !== undefined), { timeoutMs: 30_000 });
        const answeredBeforeKill = answered;
        // Freeze the server, note its process tree, kill it.
        const pid = first.pid as number;
        process.kill(pid, 'SIGSTOP'); // no new children while the tree is read
        const tree = descendants(pid);
        const exited = new Promise((r) => first.once('exit', r));
        process.kill(pid, 'SIGKILL');
        await exited;
        watcher.ws.terminate();
        await put;
        t.diagnostic(`the PUT had ${answeredBeforeKill ?? 'no answer'} at the kill, then ${answered}; children at the kill: ${tree.map((c) => c.cmd.split(' ').slice(0, 3).join(' ')).join(' | ')}`);

        // Its children are orphans now: commands it ran finish by themselves; its monitors would
        // wait for a next event, so they are ended here, by pid, checked against what they run.
        orphans.push(...tree);
        for (const child of tree) {
          if (/^(ip monitor|nft monitor)/.test(child.cmd) && readCmd(child.pid) === child.cmd) process.kill(child.pid, 'SIGTERM');
        }
        await waitGone(tree.map((c) => c.pid), 30_000);

        const created = labNetns(lab);
        const marked = created.filter((n) => marker(n) === `nslab:v1:${lab}:${n.split('.')[2]}`).map((n) => n.split('.')[2] as string).sort();
        t.diagnostic(`after the kill: ${created.length} of ${NODES + 1} namespaces exist, ${marked.length} marked`);

        const second = await startServerProcess(p, TOKEN, 20_000);
        servers.push(second);
        const got = await http(p, 'GET', `/api/labs/${lab}`);
        if (marked.length === 0) {
          assert.equal(got.status, 404, got.text);
        } else {
          assert.equal(got.status, 200, got.text);
          const topology = got.json as Topology;
          assert.deepEqual(Object.keys(topology.nodes).sort(), marked);
          if (marked.includes('host')) {
            // The host's ends of the veths into the namespaces the restart removed go with them, but the kernel
            // removes a dead namespace's devices a moment later (its cleanup work): the server's view follows.
            const view = async () => {
              const now = (await http(p, 'GET', `/api/labs/${lab}`)).json as Topology;
              const shown = Object.entries(now.nodes['host']?.interfaces ?? {}).filter(([, i]) => i.master === 'br0').map(([n]) => n).sort();
              const ports = ipJson<Array<{ ifname: string }>>(['-n', netnsName(lab, 'host'), 'link', 'show', 'master', 'br0']).map((l) => l.ifname).sort();
              return { shown, ports };
            };
            let seen = await view();
            for (const deadline = Date.now() + 15_000; JSON.stringify(seen.shown) !== JSON.stringify(seen.ports) && Date.now() < deadline;) {
              await new Promise((r) => setTimeout(r, 200));
              seen = await view();
            }
            assert.deepEqual(seen.shown, seen.ports);
          }
        }

        const again = await http(p, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: yaml, timeoutMs: 60_000 });
        assert.equal(again.status, 200, again.text);
        const all = labNetns(lab);
        assert.equal(all.length, NODES + 1);
        for (const n of all) assert.equal(marker(n), `nslab:v1:${lab}:${n.split('.')[2]}`);
        const ports = ipJson<unknown[]>(['-n', netnsName(lab, 'host'), 'link', 'show', 'master', 'br0']);
        assert.equal(ports.length, NODES);
        assert.deepEqual(addresses(netnsName(lab, `n${NODES}`), 'eth0'), [`10.50.0.${NODES + 1}/16`]);

        // A third apply has nothing to do.
        const third = await http<ChangeJson>(p, 'PUT', `/api/labs/${lab}`, { headers: yamlHeaders, body: yaml });
        assert.equal(third.json.ran, 0, third.text);
      } finally {
        for (const s of servers) await stopServerProcess(s);
        for (const o of orphans) if (o.cmd && readCmd(o.pid) === o.cmd) process.kill(o.pid, 'SIGKILL'); // only if the pid still runs the same command
        await removeLab(lab);
      }
    });
  });

  it('leaves no namespace of the suite behind', () => {
    const list = netnsList();
    const left = [...labsUsed].flatMap((lab) => labNetns(lab, list));
    assert.deepEqual(left, []);
  });
});

// ---------------------------------------------------------------------------------------------
// Child-process servers, for the SIGKILL test.

/** The command line of a process, or undefined once it is gone. */
function readCmd(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/** Every descendant of a process, with its command line. */
function descendants(root: number): Array<{ pid: number; cmd: string }> {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: Array<{ pid: number; cmd: string }> = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== pid) continue;
      out.push({ pid: child, cmd: readCmd(child) ?? '' });
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Waits until none of these processes exists (they are not our children, so there is no exit event to await). */
async function waitGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const running = (pid: number) => {
    try {
      return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); // a zombie has ended
    } catch {
      return false;
    }
  };
  while (pids.some(running)) {
    if (Date.now() > deadline) throw new Error(`processes still running after ${timeoutMs} ms: ${pids.filter(running).map((pid) => `${pid} ${readCmd(pid) ?? ''}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
