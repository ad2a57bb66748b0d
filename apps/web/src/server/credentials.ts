/**
 * The server's token, as this page holds it. `nslab serve` prints a URL ending in `?token=...`;
 * the page takes the token from it once, keeps it in sessionStorage (this tab only; a reload
 * keeps it) and removes it from the address bar. The token is never a cookie: the page sends
 * it itself, as `Authorization: Bearer` on HTTP and as a WebSocket subprotocol on sockets, so
 * no other site or port of 127.0.0.1 ever receives it. A link that the browser fetches alone
 * (a .pcapng download) gets a short-lived signed URL from the server instead.
 */

/** The sessionStorage key of the token. */
const STORAGE_KEY = 'nslab.token';

/** The subprotocol the server answers with; the token rides next to it (see apps/server/src/http/auth.ts). */
const WS_PROTOCOL = 'nslab';
const WS_TOKEN_PREFIX = 'nslab.token.';

/** What the page says when the server refuses its token (or it has none). */
export const TOKEN_REFUSED = 'the token was refused: open the URL printed by nslab serve';

/** A token as the server accepts it (anything else is not sent at all). */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,512}$/;

let token: string | undefined;

/** The parts of the browser the token is read from and stored in (tests give their own). */
export interface TokenPlace {
  location: Pick<Location, 'search' | 'pathname' | 'hash'>;
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  replaceUrl(url: string): void;
}

/**
 * Takes the token from the address (`?token=`, or a live-view link's `?view=`), stores it and removes it from the address bar;
 * without one there, the token stored earlier in this tab. Returns the token, or undefined.
 */
export function takeToken(place: TokenPlace): string | undefined {
  const params = new URLSearchParams(place.location.search);
  // A live-view link carries its token as `?view=` (the server says what it may see: liveview/store.ts).
  const given = params.get('token') ?? params.get('view');
  if (given !== null) {
    params.delete('token');
    params.delete('view');
    const search = params.toString();
    place.replaceUrl(`${place.location.pathname}${search ? `?${search}` : ''}${place.location.hash}`);
    if (TOKEN_PATTERN.test(given)) {
      try { place.storage?.setItem(STORAGE_KEY, given); } catch { /* storage disabled: memory only */ }
      token = given;
      return token;
    }
  }
  let stored: string | null = null;
  try { stored = place.storage?.getItem(STORAGE_KEY) ?? null; } catch { /* storage disabled */ }
  token = stored !== null && TOKEN_PATTERN.test(stored) ? stored : token;
  return token;
}

/** Reads the token of this page from the real browser (called once by main.tsx). */
export function takeTokenFromPage(): string | undefined {
  let storage: Storage | undefined;
  try { storage = sessionStorage; } catch { storage = undefined; }
  return takeToken({ location, storage, replaceUrl: (url) => history.replaceState(history.state, '', url) });
}

/** The headers that carry the token on an API request. */
export function authHeaders(): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The subprotocols a socket offers: `nslab`, and the token. */
export function socketProtocols(): string[] {
  return token ? [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${token}`] : [WS_PROTOCOL];
}

/** The sentence of a failed API answer (its `{error}`), or what its status means. */
export async function errorOf(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    /* not JSON */
  }
  return `the server answered ${res.status} ${res.statusText}`;
}

/** fetch() on the API with the token. */
export function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(path, { ...init, credentials: 'omit', headers: { ...(init.headers as Record<string, string> | undefined), ...authHeaders() } });
}

/**
 * Whether the server refuses this page's token: true on a 401 (or with no token at all), false
 * when it accepts it, undefined when the server cannot be reached (the connection is down, not refused).
 */
export async function tokenRefused(): Promise<boolean | undefined> {
  if (!token) return true;
  try {
    const res = await apiFetch('/api/version');
    return res.status === 401;
  } catch {
    return undefined;
  }
}

/** A short-lived URL for a download link (the browser fetches it without the token). */
export async function signedUrl(path: string): Promise<string> {
  const res = await apiFetch('/api/signed-url', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path }) });
  const body = (await res.json().catch(() => ({}))) as { url?: unknown; error?: unknown };
  if (!res.ok || typeof body.url !== 'string') throw new Error(typeof body.error === 'string' ? body.error : `the server answered ${res.status}`);
  return body.url;
}
