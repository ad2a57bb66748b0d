// Kernel tests of shells and canvas sharing one lab: `ip netns add|delete` typed in a lab shell
// makes or deletes a node of the lab (shell-bin/ip and control.ts), a lab without a host gets one
// for its host terminal, and detached shells outlive a reload whichever lab the page shows. Real
// ptys, real namespaces (nslab.ls-<random>.*, removed in `finally`), checked with `ip` and the
// lab's kernel reading. Needs root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { netnsName, type Change } from '@nslab/model';
import { addNode, removeNode } from '../kernel/lab';
import { observeLab } from '../kernel/observe';
import { cleanup, EXAMPLES, uniqueLab } from '../../test-kit/lab';
import { LabService } from '../labs/service';
import { LabFeed } from '../live/feed';
import { TerminalManager, type TerminalManagerOptions } from './manager';
import { TestClient, pidExists, startTestServer, waitFor, type TestServer } from '../../test-kit/terminal';

/** The lab's own hands, as `nslab exec` has them (the server goes through LabService, which calls the same). */
const hands = {
  addNode: async (lab: string, node: string) => { await addNode(lab, node); },
  removeNode: async (lab: string, node: string) => { await removeNode(lab, node); },
};

interface Ctx {
  manager: TerminalManager;
  connect: (id: string) => Promise<TestClient>;
}

/** Runs `fn` with a manager and a socket server; ends both and destroys `labs` even when `fn` fails. */
async function withManager(labs: string[], options: TerminalManagerOptions, fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const manager = new TerminalManager({ hands, ...options });
  const clients: TestClient[] = [];
  let server: TestServer | undefined;
  try {
    server = await startTestServer(manager);
    const srv = server;
    await fn({
      manager,
      connect: async (id) => {
        const client = await TestClient.connect(srv.url(id));
        clients.push(client);
        return client;
      },
    });
  } finally {
    for (const client of clients) client.ws.terminate();
    await manager.closeAll();
    await server?.close();
    await cleanup(...labs);
  }
}

/** Types a command line and returns what it printed and its exit status. */
async function run(client: TestClient, line: string, timeoutMs = 15_000): Promise<{ out: string; code: number }> {
  const from = client.text.length;
  const tag = Math.random().toString(36).slice(2, 8);
  client.type(`${line}; echo "__${tag}"":$?:"\r`);
  const match = await client.expect(new RegExp(`\\r\\n([\\s\\S]*?)__${tag}:(\\d+):`), timeoutMs, from);
  // bash's bracketed-paste switch (ESC [?2004h / l) starts with a control character: matching it is the point.
  // eslint-disable-next-line no-control-regex
  return { out: (match[1] ?? '').replace(/\x1b\[\?2004[hl]\r?/g, ''), code: Number(match[2]) };
}

/** Every named namespace on the machine. */
function machineNetns(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

/** The tutorial's first sequence (seeds 000/001, as the brief quotes it), verbatim, one command a line. */
const TUTORIAL = [
  'ip netns add ns1',
  'ip netns add ns2',
  'ip link add veth-ns1 type veth peer name veth-ns2',
  'ip link set veth-ns1 netns ns1',
  'ip link set veth-ns2 netns ns2',
  'ip netns exec ns1 ip addr add 192.168.1.1/24 dev veth-ns1',
  'ip netns exec ns2 ip addr add 192.168.1.2/24 dev veth-ns2',
  'ip netns exec ns1 ip link set veth-ns1 up',
  'ip netns exec ns2 ip link set veth-ns2 up',
];

describe('lab shells build the lab (kernel)', { concurrency: false }, () => {
  it('the tutorial typed in the host terminal of an empty lab ends as a veth pair between ns1 and ns2 of the lab', async () => {
    const lab = uniqueLab('ls');
    const before = new Set(machineNetns());
    await withManager([lab], {}, async ({ manager, connect }) => {
      const opened = await manager.open({ lab, node: 'host' });
      assert.equal(opened.node, 'host');
      assert.deepEqual(Object.keys((await observeLab(lab)).topology.nodes), ['host'], 'the host terminal made the lab its host node');
      const shell = await connect(opened.id);
      for (const line of TUTORIAL) assert.equal((await run(shell, line)).code, 0, line);
      const ping = await run(shell, 'ip netns exec ns1 ping -c 1 -W 2 192.168.1.2');
      assert.match(ping.out, /1 received/);

      const { topology } = await observeLab(lab);
      assert.deepEqual(Object.keys(topology.nodes).sort(), ['host', 'ns1', 'ns2']);
      assert.deepEqual(topology.links.map((l) => [`${l.a.node}:${l.a.interface}`, `${l.b.node}:${l.b.interface}`].sort()), [['ns1:veth-ns1', 'ns2:veth-ns2']]);
      // In the machine's /run/netns only under nslab's own names.
      const added = machineNetns().filter((n) => !before.has(n));
      assert.deepEqual(added.filter((n) => !n.startsWith('nslab.')), [], 'no namespace outside nslab\'s names');
      assert.ok(added.includes(netnsName(lab, 'ns1')) && added.includes(netnsName(lab, 'ns2')));
      assert.ok(!added.includes('ns1') && !added.includes('ns2'));
    });
  });

  it('a namespace added in one shell is usable at once from another; ip netns delete removes the node for good', async () => {
    const lab = uniqueLab('ls');
    await withManager([lab], { watchIntervalMs: 100 }, async ({ manager, connect }) => {
      const a = await connect((await manager.open({ lab, node: 'host' })).id);
      const b = await connect((await manager.open({ lab, node: 'host' })).id);
      assert.equal((await run(a, 'ip netns add x1')).code, 0);
      const seen = await run(b, 'ip netns exec x1 ip -br link show lo');
      assert.equal(seen.code, 0, seen.out);
      assert.match(seen.out, /^lo\s/m);
      assert.ok(existsSync(`/run/netns/${netnsName(lab, 'x1')}`));
      assert.ok('x1' in (await observeLab(lab)).topology.nodes, 'x1 is a node of the lab (marked as its own)');

      const again = await run(a, 'ip netns add x1');
      assert.notEqual(again.code, 0, 'a name the lab has is refused');
      assert.match(again.out, /already has a namespace named x1/);

      assert.equal((await run(b, 'ip netns delete x1')).code, 0);
      assert.ok(!existsSync(`/run/netns/${netnsName(lab, 'x1')}`), 'the kernel namespace is gone');
      assert.ok(!('x1' in (await observeLab(lab)).topology.nodes));
      const list = await run(a, 'ip netns list');
      assert.doesNotMatch(list.out, /\bx1\b/, 'no shell of the lab sees it any more');
      // Three rounds of the lab view's refresh (every 100 ms here) later it has not come back.
      assert.doesNotMatch((await run(a, 'sleep 0.3; ip netns list')).out, /\bx1\b/);
    });
  });

  it('a reload with terminals open in three labs: all still run after the grace period, whichever lab the page shows', async () => {
    const labs = [uniqueLab('ls'), uniqueLab('ls'), uniqueLab('ls')];
    await withManager(labs, { graceMs: 300, idleMs: 10 * 60_000, watchIntervalMs: 100 }, async ({ manager, connect }) => {
      const shells = [];
      for (const lab of labs) {
        const { id, pid } = await manager.open({ lab, node: 'host' });
        const client = await connect(id);
        assert.equal((await run(client, 'echo up')).code, 0);
        shells.push({ lab, id, pid, client });
      }
      // The page reloads: every socket closes; it comes back showing the first lab only.
      for (const s of shells) await s.client.close();
      const again = await connect(shells[0]?.id as string);
      // A witness opened after the reload and ended while detached: its record is forgotten one grace
      // period later, so once it is gone the three shells have been detached for longer than that.
      const { id: late } = await manager.open({ lab: labs[1] as string, node: 'host' });
      await manager.get(late)?.kill('test');
      await waitFor(() => manager.get(late) === undefined, 10_000, 'a shell that ended detached to be forgotten after the grace period');
      for (const s of shells) assert.ok(pidExists(s.pid), `the shell of lab ${s.lab} still runs`);
      assert.deepEqual(manager.list().filter((t) => t.exit === undefined).map((t) => t.id).sort(), shells.map((s) => s.id).sort());
      assert.equal((await run(again, 'echo still-here')).code, 0);
    });
  });

  it('ip netns add typed in a lab shell returns once the live feed shows the node as the lab\'s; ip netns delete removes it for good', async () => {
    const lab = uniqueLab('sy');
    // The server's wiring (main.ts): lab shells change the lab through LabService, which hands the change to the live feed.
    const patched: Change[] = [];
    const feed = new LabFeed({ patch: (l, changes) => { if (l === lab) patched.push(...changes); }, labs: () => {} });
    /** True when a patch sent to the clients added (or removed) the node as a whole. */
    const nodePatch = (node: string, added: boolean) => patched.some((c) => c.path.length === 2 && c.path[0] === 'nodes' && c.path[1] === node && (c.value !== undefined) === added);
    const labs = new LabService(EXAMPLES, async () => {}, (l) => feed.current(l), (l, nodes, readings) => feed.refresh(l, nodes, readings));
    const serviceHands = { addNode: (l: string, n: string) => labs.addNode(l, n), removeNode: (l: string, n: string) => labs.removeNode(l, n) };
    try {
      // The feed's monitors are not started: the node must reach the feed through the shell's request
      // alone, as it does before the shell's ip returns (a race with the /run/netns watch would hide a
      // request that does not hand it over).
      await withManager([lab], { hands: serviceHands, watchIntervalMs: 100 }, async ({ manager, connect }) => {
        const shell = await connect((await manager.open({ lab, node: 'host' })).id);
        await feed.watch(lab);
        assert.deepEqual(Object.keys(feed.current(lab)?.nodes ?? {}), ['host']);

        assert.equal((await run(shell, 'ip netns add x1')).code, 0);
        // No waiting here: the shell's ip answered only once the feed (and so every client) had the node.
        assert.ok('x1' in (feed.current(lab)?.nodes ?? {}), 'the feed shows x1 when ip netns add returns');
        assert.ok(nodePatch('x1', true), 'a patch carried x1 to the clients');
        assert.deepEqual((await observeLab(lab)).topology.nodes.x1, feed.current(lab)?.nodes.x1, 'the feed shows x1 as the kernel has it');
        assert.ok(existsSync(`/run/netns/${netnsName(lab, 'x1')}`));

        assert.equal((await run(shell, 'ip netns delete x1')).code, 0);
        assert.ok(!existsSync(`/run/netns/${netnsName(lab, 'x1')}`), 'the kernel namespace is gone');
        assert.ok(!('x1' in (feed.current(lab)?.nodes ?? {})), 'the feed has dropped x1 when ip netns delete returns');
        assert.ok(nodePatch('x1', false), 'a patch removed x1 from the clients');
        // For good: once another node has been made and shown (later feed rounds, a later sync of the lab view), x1 has not come back.
        assert.equal((await run(shell, 'ip netns add x2')).code, 0);
        const list = (await run(shell, 'ip netns list')).out;
        assert.match(list, /^x2\b/m);
        assert.doesNotMatch(list, /\bx1\b/, 'no shell of the lab sees x1 any more');
        assert.deepEqual(Object.keys(feed.current(lab)?.nodes ?? {}).sort(), ['host', 'x2']);
        assert.ok(!existsSync(`/run/netns/${netnsName(lab, 'x1')}`));
        assert.ok(!('x1' in (await observeLab(lab)).topology.nodes));
      });
    } finally {
      feed.stop();
      await cleanup(lab);
    }
  });

  it('nslab exec runs in the lab view: it lists the lab by node names, and ip netns add there makes a node of the lab', async () => {
    const lab = uniqueLab('ls');
    try {
      await addNode(lab, 'host');
      const cli = fileURLToPath(new URL('../../bin/nslab.mjs', import.meta.url));
      const out = execFileSync(process.execPath, [cli, 'exec', lab, 'host', '--', 'sh', '-c', 'ip netns add e1 && ip netns exec e1 ip -br link show lo && ip netns list'], { encoding: 'utf8' });
      assert.match(out, /^lo\s/m, 'e1 is usable at once');
      assert.deepEqual(out.split('\n').filter((l) => /^[a-z0-9-]+( |$)/.test(l) && !l.startsWith('lo ')).map((l) => l.split(' ')[0]).sort(), ['e1', 'host']);
      assert.ok(existsSync(`/run/netns/${netnsName(lab, 'e1')}`));
      assert.ok('e1' in (await observeLab(lab)).topology.nodes);
      assert.ok(!machineNetns().includes('e1'));
    } finally {
      await cleanup(lab);
    }
  });
});
