/**
 * Who may talk to the server: a token (printed at start) on every request, a Host
 * header naming this server (against DNS rebinding), and for WebSockets an Origin
 * that is this server's own page (against cross-site WebSocket hijacking).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The cookie that carries the token after the first page load. */
export const TOKEN_COOKIE = 'nslab_token';

/** A fresh random token: 32 bytes, hex. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Compares two tokens in constant time (digests first, so lengths never leak). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The token a request carries: cookie, `Authorization: Bearer`, or `?token=` (for scripts). */
export function requestToken(req: IncomingMessage): string | undefined {
  const cookie = readCookie(req.headers.cookie, TOKEN_COOKIE);
  if (cookie) return cookie;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const url = new URL(req.url ?? '/', 'http://x');
  return url.searchParams.get('token') ?? undefined;
}

/** The names this server answers to: loopback names on its port, plus the --host it listens on. */
export class HostPolicy {
  private readonly hosts: Set<string>;

  constructor(readonly port: number, listenHost: string) {
    const names = ['127.0.0.1', 'localhost', '[::1]'];
    if (!['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(listenHost)) names.push(listenHost.includes(':') ? `[${listenHost}]` : listenHost);
    this.hosts = new Set(names.map((n) => `${n}:${port}`));
  }

  /** True when the Host header names this server. */
  hostAllowed(host: string | undefined): boolean {
    return host !== undefined && this.hosts.has(host.toLowerCase());
  }

  /** True when a WebSocket's Origin is this server's own page; no Origin (not a browser) is allowed. */
  originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    if (origin === 'null') return false;
    try {
      const url = new URL(origin);
      return url.protocol === 'http:' && this.hosts.has(url.host.toLowerCase());
    } catch {
      return false;
    }
  }
}
