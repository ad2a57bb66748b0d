// Kernel tests of the terminal manager: real ptys, real namespaces (nslab.tterm<random>.*, made
// and deleted by each test), a real ws server on 127.0.0.1. Needs root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { TerminalManager, type TerminalManagerOptions } from './manager';
import { TerminalError } from './errors';
import { TerminalCloseCode, TERMINAL_PROTOCOL_VERSION } from '@nslab/model';
import { TestClient, createTestLab, pidExists, startTestServer, waitFor, type TestLab, type TestLink, type TestServer } from '../../test-kit/terminal';

interface Ctx {
  lab: TestLab;
  manager: TerminalManager;
  server: TestServer;
  connect: (id: string, options?: { autoAck?: boolean }) => Promise<TestClient>;
}

/** Runs `fn` with its own lab, manager and server; removes all three even when `fn` fails. */
async function withLab(nodes: string[], links: TestLink[], options: TerminalManagerOptions, fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const lab = createTestLab(nodes, links);
  const manager = new TerminalManager(options);
  const clients: TestClient[] = [];
  let server: TestServer | undefined;
  try {
    server = await startTestServer(manager);
    const srv = server;
    await fn({
      lab,
      manager,
      server: srv,
      connect: async (id, opts) => {
        const client = await TestClient.connect(srv.url(id), opts);
        clients.push(client);
        return client;
      },
    });
  } finally {
    for (const client of clients) client.ws.terminate();
    await manager.closeAll();
    await server?.close();
    lab.remove();
  }
}

const link = (a: string, b: string, net: number): TestLink => ({ a, b, addrA: `10.${net}.0.1/24`, addrB: `10.${net}.0.2/24` });

/** Runs a command line in a shell and returns its output (without the echoed command line and bracketed-paste toggles). */
async function run(client: TestClient, prompt: string, line: string, timeoutMs = 5_000): Promise<string> {
  const from = client.text.length;
  const marker = `__done${Math.random().toString(36).slice(2, 8)}__`;
  client.type(`${line}; echo ${marker.slice(0, 6)}""${marker.slice(6)}\r`);
  const match = await client.expect(new RegExp(`([\\s\\S]*)${marker}\\r\\n[\\s\\S]*${prompt}`), timeoutMs, from);
  // bash's bracketed-paste switch (ESC [?2004h / l) starts with a control character: matching it is the point.
  // eslint-disable-next-line no-control-regex
  const out = (match[1] ?? '').replace(/\x1b\[\?2004[hl]\r?/g, '');
  return out.slice(out.indexOf('\r\n') + 2);
}

/** Direct children of this process other than those it had before the tests (tsx's esbuild service). */
const startingChildren = new Set(listChildren());
function children(): number[] {
  return listChildren().filter((pid) => !startingChildren.has(pid));
}

function listChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

describe('terminal manager (kernel)', { concurrency: false }, () => {
  it('a shell in ns1 sees ns1 and nothing else, with a prompt naming lab and node', async () => {
    const rootAddrs = (JSON.parse(execFileSync('ip', ['-j', '-4', 'addr'], { encoding: 'utf8' })) as Array<{ addr_info: Array<{ local: string; scope: string }> }>)
      .flatMap((l) => l.addr_info)
      .filter((a) => a.scope === 'global')
      .map((a) => a.local);
    await withLab(['ns1', 'ns2'], [link('ns1', 'ns2', 71)], {}, async ({ lab, manager, connect }) => {
      const { id, pid } = await manager.open({ lab: lab.lab, node: 'ns1' });
      const client = await connect(id);
      const prompt = `${lab.lab}:ns1# `;
      await client.expect(new RegExp(`${prompt}$`));
      const out = await run(client, prompt, 'ip -br addr; echo pid=$$ cwd=$PWD term=$TERM');
      assert.match(out, /eth0@\S+\s+UP\s+10\.71\.0\.1\/24/);
      assert.doesNotMatch(out, /10\.71\.0\.2/);
      for (const addr of rootAddrs) assert.ok(!out.includes(`${addr}/`), `root namespace address ${addr} leaked into ns1`);
      assert.match(out, new RegExp(`pid=${pid} cwd=/root term=xterm-256color`));
    });
  });

  it("the lab's host terminal lists the lab's nodes by their topology names", async () => {
    await withLab(['host', 'ns1', 'ns2'], [link('host', 'ns1', 72), { ...link('ns2', 'host', 73), ifB: 'eth1' }], { watchIntervalMs: 200 }, async ({ lab, manager, connect }) => {
      const { id, node } = await manager.open({ lab: lab.lab, node: 'host' });
      assert.equal(node, 'host');
      const client = await connect(id);
      const prompt = `${lab.lab}:host# `;
      await client.expect(new RegExp(`${prompt}$`));
      const list = await run(client, prompt, 'ip netns list');
      const names = list.split('\r\n').map((l) => l.split(' ')[0]).filter((n) => n);
      assert.deepEqual(names.sort(), ['host', 'ns1', 'ns2'], `ip netns list said ${JSON.stringify(list)}`);
      const inNs1 = await run(client, prompt, 'ip netns exec ns1 ip -br addr');
      assert.match(inNs1, /10\.72\.0\.2\/24/);
      const own = await run(client, prompt, 'ip -br addr');
      assert.match(own, /10\.72\.0\.1\/24/);
      assert.match(own, /eth1@\S+\s+UP\s+10\.73\.0\.2\/24/);
      // The root namespace still has the real names.
      assert.ok(readdirSync('/run/netns').includes(lab.netns('ns1')));
      // `ip netns del` inside the view removes only the name there; the lab's namespace lives on
      // and the view puts the name back.
      await run(client, prompt, 'ip netns del ns1');
      assert.ok(readdirSync('/run/netns').includes(lab.netns('ns1')));
      let listed = '';
      const deadline = Date.now() + 3_000;
      while (!/\bns1\b/.test(listed) && Date.now() < deadline) listed = await run(client, prompt, 'sleep 0.2; ip netns list');
      assert.match(listed, /\bns1\b/);
    });
  });

  it('a host terminal in a lab without a node called host uses the node the caller names', async () => {
    await withLab(['ns1'], [], {}, async ({ lab, manager }) => {
      await assert.rejects(manager.open({ lab: lab.lab, node: 'host' }), (e: unknown) => e instanceof TerminalError && e.code === 'no-host-node');
      const opened = await manager.open({ lab: lab.lab, node: 'host', hostFallback: 'ns1' });
      assert.equal(opened.node, 'ns1');
      await assert.rejects(manager.open({ lab: lab.lab, node: 'ns9' }), (e: unknown) => e instanceof TerminalError && e.code === 'no-namespace');
      await assert.rejects(manager.open({ lab: lab.lab, node: 'Bad;rm' }), (e: unknown) => e instanceof TerminalError && e.code === 'bad-name');
      await assert.rejects(manager.open({ lab: '../x', node: 'ns1' }), (e: unknown) => e instanceof TerminalError && e.code === 'bad-name');
    });
  });

  it('resize changes stty size, clamped', async () => {
    await withLab(['ns1'], [], {}, async ({ lab, manager, connect }) => {
      const { id } = await manager.open({ lab: lab.lab, node: 'ns1', cols: 90, rows: 20 });
      const client = await connect(id);
      const prompt = `${lab.lab}:ns1# `;
      await client.expect(new RegExp(`${prompt}$`));
      assert.match(await run(client, prompt, 'stty size'), /\b20 90\r\n/);
      client.send({ type: 'resize', cols: 132, rows: 43 });
      assert.match(await run(client, prompt, 'stty size'), /\b43 132\r\n/);
      client.send({ type: 'resize', cols: 100_000, rows: 0 });
      assert.match(await run(client, prompt, 'stty size'), /\b1 500\r\n/);
    });
  });

  it('a shell that exits reports its code or signal after all of its output', async () => {
    await withLab(['ns1'], [], {}, async ({ lab, manager, connect }) => {
      const a = await manager.open({ lab: lab.lab, node: 'ns1' });
      const client = await connect(a.id);
      await client.expect(/ns1# $/);
      client.type('seq 1 20000; exit 3\r');
      await client.until(() => client.closeCode !== undefined, 10_000, 'close');
      assert.deepEqual(client.exit, { type: 'exit', code: 3, signal: null, reason: null });
      assert.equal(client.closeCode, TerminalCloseCode.ended);
      assert.match(client.textAtExit ?? '', /\r\n20000\r\n/);
      assert.equal(manager.list(lab.lab).length, 0, 'an exit seen by a client is forgotten');

      const b = await manager.open({ lab: lab.lab, node: 'ns1' });
      const killed = await connect(b.id);
      await killed.expect(/ns1# $/);
      killed.type('kill -KILL $$\r');
      await killed.until(() => killed.exit !== undefined, 5_000, 'exit');
      assert.deepEqual(killed.exit, { type: 'exit', code: null, signal: 'SIGKILL', reason: null });
    });
  });

  it('closing the socket keeps the shell; a new socket gets the same shell and its output', async () => {
    await withLab(['ns1'], [], { graceMs: 1_500, killDelayMs: 500 }, async ({ lab, manager, connect }) => {
      const { id, pid } = await manager.open({ lab: lab.lab, node: 'ns1' });
      const prompt = `${lab.lab}:ns1# `;
      const first = await connect(id);
      await first.expect(new RegExp(`${prompt}$`));
      await run(first, prompt, 'echo first-$$');
      first.type('sleep 0.4; echo printed-while-away-$$\r');
      // The sleep starts with the socket attached and ends after it is gone: what it prints is printed while away.
      const children = () => { try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim(); } catch { return ''; } };
      await waitFor(() => children() !== '', 3_000, 'the sleep to start');
      await first.close();
      await waitFor(() => children() === '', 3_000, 'the sleep to end while no socket is attached');
      assert.ok(pidExists(pid), 'the shell runs on without a socket');

      const second = await connect(id);
      const ready = second.messages[0];
      assert.equal(ready?.type, 'ready');
      await second.expect(new RegExp(`first-${pid}[\\s\\S]*printed-while-away-${pid}`));
      const again = await run(second, prompt, 'echo again-$$');
      assert.match(again, new RegExp(`again-${pid}`), 'same $$');

      // A third socket is a read-only mirror: it sees the second's output, its typing is refused;
      // when the second goes, it owns the terminal.
      const third = await connect(id);
      const seen = await run(second, prompt, 'echo mirrored-$$');
      assert.match(seen, new RegExp(`mirrored-${pid}`));
      await third.expect(new RegExp(`mirrored-${pid}`));
      third.type('echo from-the-mirror-$$\r');
      await third.until(() => third.messages.some((m) => m.type === 'error' && /only watches/.test(m.message)), 5_000, 'read-only notice');
      assert.equal(second.closeCode, undefined, 'the owner stays attached');
      await second.close();
      await third.until(() => third.messages.some((m) => m.type === 'error' && /types now/.test(m.message)), 5_000, 'promotion notice');
      assert.match(await run(third, prompt, 'echo owner-now-$$'), new RegExp(`owner-now-${pid}`));
      assert.ok(!third.text.includes(`from-the-mirror-${pid}`), 'the mirror typed nothing');
      await third.close();

      await manager.close(id);
      await waitFor(() => !pidExists(pid), 500 + 3_000, `shell ${pid} to end when closed`);
      await waitFor(() => manager.list(lab.lab).length === 0, 2_000, 'the record to be forgotten');
    });
  });

  it('a shell that ends while no socket is attached is reported to the next socket, after its output', async () => {
    await withLab(['ns1'], [], { graceMs: 3_000 }, async ({ lab, manager, connect }) => {
      const { id, pid } = await manager.open({ lab: lab.lab, node: 'ns1' });
      const first = await connect(id);
      await first.expect(/ns1# $/);
      first.type('sleep 0.3; echo last-words; exit 5\r');
      await first.close();
      await waitFor(() => !pidExists(pid), 3_000, 'the shell to exit');
      // node-pty reports the exit a moment after the process is gone: the record then keeps it for a client.
      await waitFor(() => manager.list(lab.lab)[0]?.exit !== undefined, 3_000, 'the exit to be recorded');
      assert.equal(manager.list(lab.lab)[0]?.exit?.code, 5, 'the record waits for a client');
      const second = await connect(id);
      await second.until(() => second.exit !== undefined, 2_000, 'exit');
      assert.match(second.textAtExit ?? '', /last-words\r\n/);
      assert.deepEqual(second.exit, { type: 'exit', code: 5, signal: null, reason: null });
      assert.equal(manager.list(lab.lab).length, 0);
    });
  });

  it('detach closes the socket but not the shell; idle shells are ended with a reason', async () => {
    await withLab(['ns1'], [], { idleMs: 1_500, watchIntervalMs: 100 }, async ({ lab, manager, connect }) => {
      const { id, pid } = await manager.open({ lab: lab.lab, node: 'ns1' });
      const first = await connect(id);
      await first.expect(/ns1# $/);
      manager.detach(id);
      await first.until(() => first.closeCode !== undefined, 2_000, 'close');
      assert.equal(first.closeCode, TerminalCloseCode.ended);
      assert.match(JSON.stringify(first.messages.at(-1)), /still running/);
      assert.ok(pidExists(pid));
      const second = await connect(id);
      const prompt = `${lab.lab}:ns1# `;
      await second.expect(new RegExp(`${prompt}$`));
      assert.match(await run(second, prompt, 'echo pid=$$'), new RegExp(`pid=${pid}`));
      await second.until(() => second.exit !== undefined, 4_000, 'idle exit');
      assert.equal(second.exit?.reason, 'closed after 2 seconds without input or output');
    });
  });

  it('refuses the 17th terminal of a lab with a clear message', async () => {
    await withLab(['ns1', 'ns2'], [], {}, async ({ lab, manager }) => {
      const opened = await Promise.all(Array.from({ length: 16 }, (_, i) => manager.open({ lab: lab.lab, node: i % 2 ? 'ns1' : 'ns2' })));
      assert.equal(new Set(opened.map((o) => o.pid)).size, 16);
      await assert.rejects(manager.open({ lab: lab.lab, node: 'ns1' }), (e: unknown) => {
        assert.ok(e instanceof TerminalError);
        assert.equal(e.code, 'limit');
        assert.equal(e.message, `lab ${lab.lab} already has 16 terminals open; close one first (limit set by --max-terminals)`);
        return true;
      });
      // Closing one makes room again.
      await manager.close(opened[0]?.id ?? '');
      await manager.open({ lab: lab.lab, node: 'ns1' });
    });
  });

  it('closeLab ends its shells and their jobs, reaps them, and leaves no process or fd behind', async () => {
    await withLab(['host', 'ns1', 'ns2'], [], { killDelayMs: 500 }, async ({ lab, manager, connect }) => {
      // Warm up node's lazily created handles (SIGCHLD pipe, ws, timers) before counting fds.
      const warm = await manager.open({ lab: lab.lab, node: 'ns1' });
      await manager.close(warm.id);
      await manager.closeLab(lab.lab);
      const fdsBefore = readdirSync('/proc/self/fd').length;

      const opened = await Promise.all(['host', 'ns1', 'ns2'].map((node) => manager.open({ lab: lab.lab, node })));
      const client = await connect(opened[1]?.id ?? '');
      const prompt = `${lab.lab}:ns1# `;
      await client.expect(new RegExp(`${prompt}$`));
      // A job that ignores SIGHUP: only the SIGKILL step ends it.
      const out = await run(client, prompt, "trap '' HUP; sleep 1000 & echo job=$!");
      const job = Number(/job=(\d+)/.exec(out)?.[1]);
      assert.ok(job > 0 && pidExists(job));
      assert.ok(children().length >= 4, 'three shells and a lab view holder');

      await manager.closeLab(lab.lab);
      for (const { pid } of opened) assert.ok(!pidExists(pid), `shell ${pid} is gone (exited and reaped, no zombie)`);
      await client.until(() => client.exit !== undefined, 2_000, 'exit');
      assert.equal(client.exit?.reason, `lab ${lab.lab} was closed`);
      // closeLab waited for the SIGKILL step; the job may linger only as a zombie for init to reap.
      const jobState = pidExists(job) ? readFileSync(`/proc/${job}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
      assert.ok(jobState === 'gone' || jobState === 'Z', `job ${job} is ${jobState}`);
      await waitFor(() => children().length === 0, 2_000, 'no child process left (lab view holder included)').catch((e: unknown) => {
        throw new Error(`${String(e)}: ${children().map((p) => readFileSync(`/proc/${p}/stat`, 'utf8')).join('; ')}`);
      });
      assert.equal(manager.list(lab.lab).length, 0);
      await client.close();
      await waitFor(() => readdirSync('/proc/self/fd').length <= fdsBefore + 1, 2_000, `fds back to ${fdsBefore}`);
    });
  });

  it('a terminal whose namespace is deleted says so, and nothing keeps the namespace alive', async () => {
    await withLab(['ns1', 'ns2'], [link('ns1', 'ns2', 74)], { watchIntervalMs: 200, killDelayMs: 500 }, async ({ lab, manager, connect }) => {
      const inNs2 = await manager.open({ lab: lab.lab, node: 'ns2' });
      const inNs1 = await manager.open({ lab: lab.lab, node: 'ns1' });
      const victim = await connect(inNs2.id);
      const witness = await connect(inNs1.id);
      const prompt = `${lab.lab}:ns1# `;
      await victim.expect(/ns2# $/);
      await witness.expect(new RegExp(`${prompt}$`));
      assert.match(await run(witness, prompt, 'ip netns list'), /ns2/);

      lab.removeNode('ns2');
      await victim.until(() => victim.exit !== undefined, 5_000, 'exit');
      assert.equal(victim.exit?.reason, `namespace ns2 of lab ${lab.lab} no longer exists`);
      assert.ok(!pidExists(inNs2.pid));
      // The lab view dropped ns2, and with no shell or mount left in it the kernel freed it:
      // its veth went too, taking ns1's end with it.
      await waitFor(() => {
        try {
          execFileSync('ip', ['-n', lab.netns('ns1'), 'link', 'show', 'eth0'], { stdio: 'ignore' });
          return false;
        } catch {
          return true;
        }
      }, 5_000, 'the veth of the deleted namespace to disappear');
      assert.doesNotMatch(await run(witness, prompt, 'ip netns list'), /ns2/);
      assert.equal(witness.exit, undefined, 'the other node is untouched');
    });
  });

  it('speaks the protocol strictly: version, hello first, unknown ids, bad messages', async () => {
    await withLab(['ns1'], [], {}, async ({ lab, manager, server }) => {
      const { id } = await manager.open({ lab: lab.lab, node: 'ns1' });
      const old = new (await import('ws')).WebSocket(server.url(id));
      const closed = new Promise<number>((resolve) => old.on('close', (code) => resolve(code)));
      await new Promise((resolve) => old.on('open', resolve));
      old.send(JSON.stringify({ type: 'hello', v: TERMINAL_PROTOCOL_VERSION + 1 }));
      assert.equal(await closed, TerminalCloseCode.incompatible);

      const rude = new (await import('ws')).WebSocket(server.url(id));
      const rudeClosed = new Promise<number>((resolve) => rude.on('close', (code) => resolve(code)));
      await new Promise((resolve) => rude.on('open', resolve));
      rude.send(Buffer.from('ls\r'));
      assert.equal(await rudeClosed, TerminalCloseCode.protocol);

      const nobody = await TestClient.connect(server.url('00000000-0000-0000-0000-000000000000'));
      await nobody.until(() => nobody.closeCode !== undefined, 2_000, 'close');
      assert.equal(nobody.closeCode, TerminalCloseCode.notFound);

      const client = await TestClient.connect(server.url(id));
      client.send({ type: 'resize', cols: 'wide' });
      client.send({ type: 'sudo' });
      await client.until(() => client.messages.filter((m) => m.type === 'error').length === 2, 2_000, 'two errors');
      client.type('echo still-here\r');
      await client.expect(/still-here\r\n/);
      await client.close();
    });
  });
});
