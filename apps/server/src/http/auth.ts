/**
 * Who may talk to the server: a token (printed at start) on every API request and socket, a
 * Host header naming this server (against DNS rebinding), and for WebSockets an Origin that is
 * this server's own page (against cross-site WebSocket hijacking).
 *
 * The token never travels in a cookie: browsers send cookies to every port of 127.0.0.1, so any
 * local web service the user's browser visits would receive it. The page keeps the token in
 * sessionStorage and sends it itself: `Authorization: Bearer` over HTTP, a WebSocket subprotocol
 * (`nslab.token.TOKEN`, next to `nslab`) on sockets. Downloads that a plain link must fetch
 * (pcap files) use short-lived signed URLs (see `signPath`). Every reader here is total: a
 * malformed header or query string is no credential, never an exception.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The subprotocol the server answers a socket with; the page offers it next to its token. */
export const WS_PROTOCOL = 'nslab';
/** Prefix of the subprotocol that carries the token (`nslab.token.TOKEN`). */
export const WS_TOKEN_PREFIX = 'nslab.token.';

/** A fresh random token: 32 bytes, hex. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Bits a token must carry by the estimate in `tokenProblem`: 48. The estimate counts a short random
 * string low (16 random base64url characters estimate at about 55, since some letters repeat); a
 * printed token (32 random bytes, hex) estimates at about 250, 16 identical characters at 0.
 */
export const MIN_TOKEN_BITS = 48;

/**
 * Why a token chosen by the user (--token, NSLAB_TOKEN) is refused, or undefined. Its entropy is
 * estimated from its own letters (length times the Shannon entropy of their frequencies), which
 * gives 0 for 16 identical characters; a run where most neighbours are equal or adjacent letters
 * (abcdef..., 0123..., aabbcc...) is refused too.
 */
export function tokenProblem(token: string): string | undefined {
  if (token.length < 16 || !/^[A-Za-z0-9_-]+$/.test(token)) return 'a token must be at least 16 characters of A-Z, a-z, 0-9, _ and -';
  const counts = new Map<string, number>();
  for (const c of token) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / token.length) * Math.log2(n / token.length);
  let close = 0;
  for (let i = 1; i < token.length; i += 1) if (Math.abs(token.charCodeAt(i) - token.charCodeAt(i - 1)) <= 1) close += 1;
  if (perChar * token.length < MIN_TOKEN_BITS || close * 2 > token.length - 1) {
    return `the token "${token.slice(0, 4)}..." is too easy to guess: use a random one of at least 32 characters (leave --token out and nslab makes one)`;
  }
  return undefined;
}

/** Compares two tokens in constant time (digests first, so lengths never leak). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** One header as a single string: a repeated header (an array) is no value. */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** The token in `Authorization: Bearer TOKEN`, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = header(req, 'authorization');
  const m = auth === undefined ? null : /^Bearer ([A-Za-z0-9_-]{1,512})$/.exec(auth.trim());
  return m ? m[1] : undefined;
}

/** The subprotocols a WebSocket upgrade offers (Sec-WebSocket-Protocol), in order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  return (header(req, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
}

/** The token of a WebSocket upgrade: the `nslab.token.TOKEN` subprotocol, or `Authorization: Bearer` (scripts). */
export function socketToken(req: IncomingMessage): string | undefined {
  const offered = offeredProtocols(req).find((p) => p.startsWith(WS_TOKEN_PREFIX));
  return offered !== undefined ? offered.slice(WS_TOKEN_PREFIX.length) : bearerToken(req);
}

/** The path and query of a request, or undefined when it cannot be read as a URL. */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    // Inside a router mounted at /api, express rewrites req.url relative to the mount; the
    // signature covers the whole path, which express keeps in originalUrl.
    const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
    return new URL(typeof original === 'string' ? original : req.url ?? '/', 'http://x');
  } catch {
    return undefined;
  }
}

/** How long a signed download URL stays valid (60 s: it is made at the click that uses it). */
export const SIGNED_URL_MS = 60_000;

/** Query parameters of a signed URL. */
const SIG = 'sig';
const EXPIRES = 'expires';

function signature(secret: string, pathname: string, params: URLSearchParams): string {
  const rest = new URLSearchParams([...params].filter(([k]) => k !== SIG).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHmac('sha256', `nslab signed url\n${secret}`).update(`${pathname}?${rest.toString()}`).digest('base64url');
}

/** `path` (with its query) signed for `ms` from `now`: the URL a download link may carry instead of the token. */
export function signPath(secret: string, path: string, now = Date.now(), ms = SIGNED_URL_MS): string {
  const url = new URL(path, 'http://x');
  url.searchParams.delete(SIG);
  url.searchParams.set(EXPIRES, String(now + ms));
  url.searchParams.set(SIG, signature(secret, url.pathname, url.searchParams));
  return `${url.pathname}${url.search}`;
}

/** True when a request carries a valid, unexpired signature for its own path and query. */
export function signatureValid(secret: string, req: IncomingMessage, now = Date.now()): boolean {
  const url = requestUrl(req);
  if (!url) return false;
  const sig = url.searchParams.get(SIG);
  const expires = Number(url.searchParams.get(EXPIRES));
  if (sig === null || !Number.isFinite(expires) || expires < now || url.searchParams.getAll(SIG).length !== 1) return false;
  const expected = Buffer.from(signature(secret, url.pathname, url.searchParams));
  const given = Buffer.from(sig);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A name given with --public-host: a DNS name or an IPv4 address, as a Host header would carry it. */
export function publicHostProblem(name: string): string | undefined {
  const ok = name.length <= 253 && name.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
  return ok ? undefined : `--public-host "${name}" is not a host name: give the name trainees type in their browser, e.g. lab.school.example (lowercase letters, digits, '-' and '.')`;
}

/**
 * The names this server answers to: loopback names on its port, the --host it listens on, and each
 * --public-host (on its port, and bare, as a browser sends it through a proxy or on port 443). Pages
 * come from the scheme the server speaks (https when it serves TLS), or from https on a public
 * host: a proxy in front (a Kubernetes Ingress) may end TLS and speak http to the server.
 */
export class HostPolicy {
  private readonly hosts: Set<string>;
  private readonly scheme: 'http:' | 'https:';
  private readonly publicHosts: Set<string>;

  constructor(readonly port: number, listenHost: string, options: { publicHosts?: readonly string[]; tls?: boolean } = {}) {
    const names = ['127.0.0.1', 'localhost', '[::1]'];
    if (!['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(listenHost)) names.push(listenHost.includes(':') ? `[${listenHost}]` : listenHost);
    this.hosts = new Set(names.map((n) => `${n}:${port}`));
    for (const name of options.publicHosts ?? []) {
      this.hosts.add(`${name}:${port}`);
      this.hosts.add(name);
    }
    this.publicHosts = new Set(options.publicHosts ?? []);
    this.scheme = options.tls ? 'https:' : 'http:';
  }

  /** True when the Host header names this server. */
  hostAllowed(host: string | string[] | undefined): boolean {
    return typeof host === 'string' && this.hosts.has(host.toLowerCase());
  }

  /** True when a WebSocket's Origin is this server's own page; no Origin (not a browser) is allowed. */
  originAllowed(origin: string | string[] | undefined): boolean {
    if (origin === undefined) return true;
    if (typeof origin !== 'string' || origin === 'null') return false;
    try {
      const url = new URL(origin);
      const host = url.host.toLowerCase();
      if (url.protocol === this.scheme && this.hosts.has(host)) return true;
      return url.protocol === 'https:' && (this.publicHosts.has(host) || this.publicHosts.has(url.hostname.toLowerCase()) && this.hosts.has(host));
    } catch {
      return false;
    }
  }
}
