/**
 * Terminal benchmark: keystroke-to-echo round trip through the ws server (median, p95) and the
 * throughput of a 50 MB `cat` to a client that acknowledges as xterm.js would, with the server's
 * CPU. The server (TerminalManager + ws) runs in a child process so its CPU is measured alone.
 * Anchors measured in the same run: a plain ws echo (no pty) for the round trip, and node-pty
 * reading the same `cat` with nothing in between (no ws, no flow control) for throughput.
 *
 *   node apps/server/bin/run-ts.mjs bench/terminal.ts
 *
 * Needs root (it makes a throwaway namespace nslab.tterm<random>.ns1 and deletes it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn as spawnPty } from 'node-pty';
import { WebSocket, WebSocketServer } from 'ws';
import { TerminalManager } from '../apps/server/src/terminal/manager';
import { ACK_EVERY_BYTES, TERMINAL_PROTOCOL_VERSION } from '@nslab/model';
import { createTestLab, startTestServer } from '../apps/server/test-kit/terminal';

/** Keystrokes timed (after 20 warm-up ones). */
const KEYSTROKES = 300;

/** Size of the file cat prints: 50 MB, a few seconds of output, far beyond every buffer on the way. */
const CAT_BYTES = 50 * 1000 * 1000;

/** One row of the printed table. */
export interface BenchRow {
  figure: string;
  value: string;
  anchor: string;
  ratio: string;
}

type ServerRequest = { kind: 'open'; lab: string } | { kind: 'cpu' } | { kind: 'anchor'; file: string } | { kind: 'stop' };
type ServerReply =
  | { kind: 'opened'; url: string }
  | { kind: 'cpu'; usage: NodeJS.CpuUsage; at: number }
  | { kind: 'anchor'; bytes: number; ms: number }
  | { kind: 'stopped' };

// ---------- the server side (child process) ----------

async function serve(): Promise<void> {
  const manager = new TerminalManager();
  const server = await startTestServer(manager);
  process.on('message', (message: ServerRequest) => {
    const reply = (r: ServerReply): void => void process.send?.(r);
    switch (message.kind) {
      case 'open':
        void manager.open({ lab: message.lab, node: 'ns1', cols: 120, rows: 40 }).then(({ id }) => reply({ kind: 'opened', url: server.url(id) }));
        return;
      case 'cpu':
        return reply({ kind: 'cpu', usage: process.cpuUsage(), at: performance.now() });
      case 'anchor': {
        const started = performance.now();
        let bytes = 0;
        const pty = spawnPty('cat', [message.file], { cols: 120, rows: 40, encoding: null });
        pty.onData((d: unknown) => {
          bytes += (d as Buffer).length;
        });
        pty.onExit(() => reply({ kind: 'anchor', bytes, ms: performance.now() - started }));
        return;
      }
      case 'stop':
        void manager.closeAll().then(() => server.close()).then(() => {
          reply({ kind: 'stopped' });
          process.disconnect();
        });
        return;
    }
  });
  process.send?.({ kind: 'ready' });
}

// ---------- the client side (this process) ----------

/** A minimal protocol client that counts bytes, keeps a short tail, and acks like xterm.js. */
class BenchClient {
  received = 0;
  tail = '';
  private unacked = 0;
  private waiter: (() => void) | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const bytes = data as Buffer;
      this.received += bytes.length;
      this.tail = (this.tail + bytes.subarray(-256).toString('latin1')).slice(-256);
      this.unacked += bytes.length;
      if (this.unacked >= ACK_EVERY_BYTES) {
        ws.send(JSON.stringify({ type: 'ack', bytes: this.unacked }));
        this.unacked = 0;
      }
      this.waiter?.();
    });
  }

  static async connect(url: string): Promise<BenchClient> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const client = new BenchClient(ws);
    ws.send(JSON.stringify({ type: 'hello', v: TERMINAL_PROTOCOL_VERSION }));
    return client;
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; tail ${JSON.stringify(this.tail)}`)), timeoutMs);
      this.waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
      this.waiter();
    });
  }
}

function request(child: ChildProcess, message: ServerRequest, kind: ServerReply['kind']): Promise<ServerReply> {
  return new Promise((resolve) => {
    const onMessage = (reply: ServerReply): void => {
      if (reply.kind !== kind) return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

/** Round trips of one byte through a plain ws echo server in this process (the anchor). */
async function wsEchoRoundTrips(n: number): Promise<number[]> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const ws = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  await new Promise((resolve) => ws.once('open', resolve));
  const times: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send(Buffer.from('x'), { binary: true });
    });
    if (i >= 20) times.push(performance.now() - t0);
  }
  ws.close();
  wss.close();
  http.close();
  return times;
}

async function writeCatFile(path: string): Promise<void> {
  // Text lines like `base64 /dev/urandom`: 76 characters and a newline.
  const out = createWriteStream(path);
  let written = 0;
  while (written < CAT_BYTES) {
    const lines = randomBytes(57 * 1000).toString('base64').match(/.{1,76}/g) ?? [];
    const chunk = lines.join('\n') + '\n';
    written += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

/** Runs the benchmark and returns its rows. */
export async function runTerminalBench(): Promise<BenchRow[]> {
  const lab = createTestLab(['ns1']);
  const catFile = join(tmpdir(), `nslab-bench-${process.pid}.txt`);
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  try {
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    await writeCatFile(catFile);
    const { url } = (await request(child, { kind: 'open', lab: lab.lab }, 'opened')) as { url: string };
    const client = await BenchClient.connect(url);
    await client.until(() => client.tail.endsWith('ns1# '));

    // Keystroke echo: bash's readline echoes each character.
    const times: number[] = [];
    for (let i = 0; i < KEYSTROKES + 20; i++) {
      if (i % 50 === 49) {
        const before = client.received;
        client.type('\x15'); // Ctrl-U: clear the line so it never wraps
        await client.until(() => client.received > before);
      }
      const before = client.received;
      const t0 = performance.now();
      client.type('x');
      await client.until(() => client.received > before);
      if (i >= 20) times.push(performance.now() - t0);
    }
    client.type('\x15');
    times.sort((a, b) => a - b);
    const anchorTimes = (await wsEchoRoundTrips(KEYSTROKES)).sort((a, b) => a - b);

    // Throughput: cat the file to an acking client.
    await new Promise((r) => setTimeout(r, 200));
    const cpu0 = (await request(child, { kind: 'cpu' }, 'cpu')) as { usage: NodeJS.CpuUsage; at: number };
    const received0 = client.received;
    const t0 = performance.now();
    client.type(`cat ${catFile}; echo __be""nch_end__\r`);
    await client.until(() => client.tail.includes('__bench_end__'), 300_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = (await request(child, { kind: 'cpu' }, 'cpu')) as { usage: NodeJS.CpuUsage; at: number };
    const bytes = client.received - received0;
    const serverCpu = (cpu1.usage.user - cpu0.usage.user + cpu1.usage.system - cpu0.usage.system) / 1e6 / ((cpu1.at - cpu0.at) / 1000);
    const anchor = (await request(child, { kind: 'anchor', file: catFile }, 'anchor')) as { bytes: number; ms: number };
    const mbps = bytes / 1e6 / seconds;
    const anchorMbps = anchor.bytes / 1e6 / (anchor.ms / 1000);
    client.ws.close();

    const med = percentile(times, 0.5);
    const p95 = percentile(times, 0.95);
    const aMed = percentile(anchorTimes, 0.5);
    const aP95 = percentile(anchorTimes, 0.95);
    return [
      { figure: 'keystroke echo, median', value: `${med.toFixed(2)} ms`, anchor: `ws echo ${aMed.toFixed(2)} ms`, ratio: `${(med / aMed).toFixed(1)}x` },
      { figure: 'keystroke echo, p95', value: `${p95.toFixed(2)} ms`, anchor: `ws echo ${aP95.toFixed(2)} ms`, ratio: `${(p95 / aP95).toFixed(1)}x` },
      { figure: `cat ${CAT_BYTES / 1e6} MB, acking client`, value: `${mbps.toFixed(1)} MB/s`, anchor: `bare pty ${anchorMbps.toFixed(1)} MB/s`, ratio: `${(mbps / anchorMbps).toFixed(2)}x` },
      { figure: 'server CPU during cat', value: `${(serverCpu * 100).toFixed(0)} % of a core`, anchor: '', ratio: '' },
    ];
  } finally {
    await Promise.race([request(child, { kind: 'stop' }, 'stopped'), new Promise((r) => setTimeout(r, 10_000))]);
    child.kill();
    rmSync(catFile, { force: true });
    lab.remove();
  }
}

/** Prints rows as a fixed-width table. */
export function printTable(rows: BenchRow[]): void {
  const header: BenchRow = { figure: 'figure', value: 'value', anchor: 'anchor (same run)', ratio: 'ratio' };
  const all = [header, ...rows];
  const width = (k: keyof BenchRow): number => Math.max(...all.map((r) => r[k].length));
  for (const r of all) console.log(`${r.figure.padEnd(width('figure'))}  ${r.value.padStart(width('value'))}  ${r.anchor.padEnd(width('anchor'))}  ${r.ratio}`);
}

if (process.argv.includes('--serve')) {
  await serve();
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runTerminalBench());
}
