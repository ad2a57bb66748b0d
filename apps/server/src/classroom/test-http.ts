/**
 * Test support for the classroom and live-view tests: one JSON request with a Bearer token, and the
 * status of a WebSocket upgrade offering the page's subprotocols.
 */
import { WebSocket } from 'ws';

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
