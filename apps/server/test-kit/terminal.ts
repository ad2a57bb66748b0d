/**
 * Test support for the terminal module (not a test itself): throwaway lab namespaces named
 * nslab.tterm<random>.<node> (made by netns.ts), a WebSocket server that hands /ws/term/:id to a
 * manager, and a client that speaks the terminal protocol. Used by the terminal tests and by
 * bench/terminal.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { TerminalManager } from '../src/terminal/manager';
import { ACK_EVERY_BYTES, MAX_CLIENT_FRAME_BYTES, TERMINAL_PROTOCOL_VERSION } from '@nslab/model';
import type { TerminalServerMessage } from '@nslab/model';
import { TestNetns } from './netns';

/** A lab of real namespaces made for one test; `remove` deletes exactly the namespaces it made. */
export interface TestLab {
  lab: string;
  netns(node: string): string;
  /** Deletes one node's namespace (to test a vanished namespace). */
  removeNode(node: string): void;
  /** Deletes every namespace this lab made; safe to call twice and after failures. */
  remove(): void;
}

/** A veth between two nodes with an IPv4 address (CIDR) on each end; both ends are called eth0 unless ifA/ifB say otherwise. */
export interface TestLink {
  a: string;
  b: string;
  addrA: string;
  addrB: string;
  ifA?: string;
  ifB?: string;
}

/** Creates nslab.tterm<random>.<node> for each node (netns.ts) and the given veth links; cleans up if creation fails. */
export function createTestLab(nodes: readonly string[], links: readonly TestLink[] = []): TestLab {
  const set = new TestNetns(`tterm${randomBytes(4).toString('hex')}`, true);
  try {
    set.add(...nodes);
    for (const link of links) {
      const ifA = link.ifA ?? 'eth0';
      const ifB = link.ifB ?? 'eth0';
      set.veth(link.a, ifA, link.b, ifB);
      set.ip(link.a, 'addr', 'add', link.addrA, 'dev', ifA);
      set.ip(link.b, 'addr', 'add', link.addrB, 'dev', ifB);
    }
  } catch (error) {
    set.removeAll();
    throw error;
  }
  return {
    lab: set.lab,
    netns: (node) => set.name(node),
    removeNode: (node) => {
      if (set.has(node)) set.remove(node);
    },
    remove: () => set.removeAll(),
  };
}

/** An HTTP server on 127.0.0.1 (random port) whose WebSocket upgrades at /ws/term/:id go to `manager.attach`. */
export interface TestServer {
  url(id: string): string;
  close(): Promise<void>;
}

/** Starts a TestServer. */
export async function startTestServer(manager: TerminalManager): Promise<TestServer> {
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
  http.on('upgrade', (req, socket, head) => {
    const match = /^\/ws\/term\/([0-9a-f-]{36})$/.exec(req.url ?? '');
    if (!match) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => manager.attach(match[1] as string, ws));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: (id) => `ws://127.0.0.1:${port}/ws/term/${id}`,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A protocol client: collects output as text, acks it (unless told not to), waits for patterns. */
export class TestClient {
  /** Every byte of output received, decoded. */
  text = '';
  /** Output bytes received. */
  received = 0;
  readonly messages: TerminalServerMessage[] = [];
  closeCode: number | undefined;
  /** Output text as it was when `exit` arrived (to check that exit follows all output). */
  textAtExit: string | undefined;
  private unackedHere = 0;
  private readonly decoder = new TextDecoder();
  private waiters: Array<() => void> = [];

  private constructor(
    readonly ws: WebSocket,
    private readonly autoAck: boolean,
  ) {
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) {
        this.received += bytes.length;
        this.text += this.decoder.decode(bytes, { stream: true });
        if (this.autoAck) {
          this.unackedHere += bytes.length;
          if (this.unackedHere >= ACK_EVERY_BYTES) {
            this.send({ type: 'ack', bytes: this.unackedHere });
            this.unackedHere = 0;
          }
        }
      } else {
        const message = JSON.parse(bytes.toString('utf8')) as TerminalServerMessage;
        if (message.type === 'exit') this.textAtExit = this.text;
        this.messages.push(message);
      }
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  /** Connects (offering `protocols`, if given), says hello and waits for `ready` (or for the socket to close). */
  static async connect(url: string, options: { autoAck?: boolean; protocols?: string[] } = {}): Promise<TestClient> {
    // The server's own door wants the token as a subprotocol (`nslab`, `nslab.token.TOKEN`).
    const ws = new WebSocket(url, options.protocols ?? []);
    const client = new TestClient(ws, options.autoAck ?? true);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    client.send({ type: 'hello', v: TERMINAL_PROTOCOL_VERSION });
    await client.until(() => client.closeCode !== undefined || client.messages.some((m) => m.type === 'ready'), 5_000, 'ready');
    return client;
  }

  /** Sends a control message (any JSON, so tests can send invalid ones). */
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Types `text` (binary input frame). */
  type(text: string): void {
    this.ws.send(Buffer.from(text, 'utf8'), { binary: true });
  }

  /** Flushes any pending ack now. */
  ackNow(): void {
    if (this.unackedHere > 0) this.send({ type: 'ack', bytes: this.unackedHere });
    this.unackedHere = 0;
  }

  /** The exit message, once received. */
  get exit(): Extract<TerminalServerMessage, { type: 'exit' }> | undefined {
    return this.messages.find((m): m is Extract<TerminalServerMessage, { type: 'exit' }> => m.type === 'exit');
  }

  /** Resolves when `pattern` appears in the output after `from` (an index into `text`); returns the match. */
  async expect(pattern: RegExp, timeoutMs = 5_000, from = 0): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await this.until(() => (match = pattern.exec(this.text.slice(from))) !== null, timeoutMs, `output matching ${pattern}`);
    return match as unknown as RegExpExecArray;
  }

  /** Resolves when `check` holds; rejects after `timeoutMs` with what was being waited for and the tail of output. */
  until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output ends with ${JSON.stringify(this.text.slice(-300))}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<void> {
    if (this.closeCode !== undefined) return;
    this.ws.close();
    await this.until(() => this.closeCode !== undefined, 5_000, 'close');
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Whether a process exists at all (a zombie counts: it has not been reaped). */
export function pidExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** Waits until `check` holds, polling every 20 ms; throws after `timeoutMs` naming `what`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
