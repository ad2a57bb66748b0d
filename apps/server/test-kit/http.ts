/**
 * Test support for the classroom and live-view tests: one JSON request with a Bearer token, the
 * status of a WebSocket upgrade offering the page's subprotocols, and a lab socket that keeps
 * every message it received.
 */
import { WebSocket } from 'ws';
import type { ServerMessage } from '@nslab/model';

/** How long one awaited message may take; bounds a failure only (the machine is shared). */
const EVENT_TIMEOUT_MS = 15_000;

/** A reply: its status and its JSON body (`{ text }` when the body is not JSON). */
export interface Reply { status: number; body: Record<string, unknown> }

/** One JSON request with a Bearer token. */
export async function api(port: number, token: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method, headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try { parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}; } catch { parsed = { text }; }
  return { status: res.status, body: parsed };
}

/** Status of a WebSocket upgrade at `path` with `token`: 101 when it opened. */
export function upgrade(port: number, token: string, path: string): Promise<number> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, ['nslab', `nslab.token.${token}`]);
    ws.on('open', () => { ws.terminate(); ok(101); });
    ws.on('unexpected-response', (_req, res) => { res.resume(); ws.terminate(); ok(res.statusCode ?? 0); });
    ws.on('error', (e) => fail(e));
  });
}

/** A lab socket of `token`, with every message it received. */
export class Peer {
  readonly messages: ServerMessage[] = [];
  private waiters: Array<() => void> = [];
  private closeCode = 0;
  private constructor(readonly ws: WebSocket) {
    ws.once('close', (code) => { this.closeCode = code; });
    ws.on('message', (data) => {
      this.messages.push(JSON.parse((data as Buffer).toString()) as ServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(port: number, token: string): Promise<Peer> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['nslab', `nslab.token.${token}`]);
      const peer = new Peer(ws);
      ws.once('open', () => ok(peer));
      ws.once('error', fail);
    });
  }

  /** The first message (from `from` on) that passes `test`. */
  async next<T extends ServerMessage['type']>(type: T, test: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true, from = 0): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    for (;;) {
      const found = this.messages.slice(from).find((m): m is Extract<ServerMessage, { type: T }> => m.type === type && test(m as Extract<ServerMessage, { type: T }>));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${type} message; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise<void>((ok) => { this.waiters.push(ok); setTimeout(ok, 200); });
    }
  }

  /** The close code once the server closes the socket. */
  closed(): Promise<number> {
    if (this.ws.readyState === this.ws.CLOSED) return Promise.resolve(this.closeCode);
    return new Promise((ok) => this.ws.once('close', (code) => ok(code)));
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }
}
