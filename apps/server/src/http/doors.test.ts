// The server's doors against malformed input: cookies, headers and query strings that do not
// decode are refused (4xx), never thrown, over plain HTTP and on a WebSocket upgrade, and the
// server answers the next request. Raw bytes over TCP, so that any header can be sent as is.
// Also the token rules: weak tokens refused with a sentence, signed URLs that expire.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { signatureValid, signPath, tokenProblem } from './auth';
import { parseServeArgs, startServer } from '../main';
import type { Running } from '../main';

const TOKEN = randomBytes(24).toString('hex');

/** Sends raw request bytes and resolves with the status line's code (0 when the server closed without one). */
export function rawStatus(port: number, request: string): Promise<number> {
  return new Promise((ok, fail) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { socket.destroy(); fail(new Error(`no answer in 15 s to ${JSON.stringify(request.slice(0, 80))}`)); }, 15_000);
    socket.on('data', (b) => {
      got += b.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        clearTimeout(timer);
        socket.destroy();
        ok(Number(m[1]));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => { clearTimeout(timer); ok(0); });
    socket.write(request);
  });
}

/** A GET (or an upgrade) with the given header lines, on this server's own Host. */
function request(port: number, path: string, headers: string[], upgrade: boolean): string {
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...headers];
  if (upgrade) lines.push('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Malformed cookies, headers and query strings, each sent over HTTP and as an upgrade. */
const MALFORMED: Array<{ path: string; headers: string[] }> = [
  { path: '/ws', headers: ['Cookie: nslab_token=%'] },
  { path: '/api/labs', headers: ['Cookie: nslab_token=%'] },
  { path: '/ws', headers: ['Cookie: =%; nslab_token=%E0%A4%A; ;;='] },
  { path: '/ws', headers: ['Authorization: Bearer %zz'] },
  { path: '/ws', headers: ['Authorization: Bearer'] },
  { path: '/ws', headers: ['Authorization: Basic Zm9vOmJhcg=='] },
  { path: '/ws?token=%', headers: [] },
  { path: '/ws?token=%E0%A4%A&token=%', headers: [] },
  { path: '/?token=%', headers: [] },
  { path: '/api/labs/%/export', headers: [`Authorization: Bearer ${TOKEN}`] },
  { path: '/api/labs/%E0%A4%A/pcap?node=%', headers: [`Authorization: Bearer ${TOKEN}`] },
  { path: '/api/labs/x/pcap?sig=%&expires=%', headers: [] },
  { path: '/%', headers: [] },
  { path: '//', headers: [] },
  { path: '/ws', headers: ['Origin: http://['] },
  { path: '/ws', headers: ['Origin: %'] },
  { path: '/ws', headers: ['Sec-WebSocket-Protocol: nslab.token.'] },
  { path: '/ws', headers: ['Sec-WebSocket-Protocol: ,,, ,'] },
  { path: '/ws', headers: [`Sec-WebSocket-Protocol: nslab, nslab.token.%${TOKEN}`] },
  { path: '/ws/term/%', headers: [`Authorization: Bearer ${TOKEN}`] },
];

describe('doors against malformed input', { concurrency: false }, () => {
  let server: Running;
  let port: number;

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', token: TOKEN, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 4 }, () => {});
    port = server.port;
  });

  after(async () => {
    await server?.stop();
  });

  it('malformed cookies, headers and query strings are refused, over HTTP and on upgrade, and the server answers after each', async () => {
    for (const door of MALFORMED) {
      for (const upgrade of [false, true]) {
        const status = await rawStatus(port, request(port, door.path, door.headers, upgrade));
        const what = `${upgrade ? 'upgrade' : 'GET'} ${door.path} ${door.headers.join(' | ')}`;
        // The page itself is public (it holds no secret): a malformed query on it may still get the page.
        const page = !upgrade && !door.path.startsWith('/api/') && !door.path.startsWith('/ws');
        assert.ok(status >= 400 && status < 500 || (page && status === 200), `${what}: answered ${status}, not a refusal`);
        // Still serving: the token gets in.
        assert.equal(await rawStatus(port, request(port, '/api/version', [`Authorization: Bearer ${TOKEN}`], false)), 200, `after ${what}`);
      }
    }
  });

  it('a request without a Host header is refused, over HTTP and on upgrade', async () => {
    const get = `GET /api/version HTTP/1.0\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`;
    assert.equal(await rawStatus(port, get), 403);
    const upgrade = request(port, '/ws', [`Authorization: Bearer ${TOKEN}`], true).replace(/Host: [^\r]*\r\n/, '');
    assert.equal(await rawStatus(port, upgrade), 403);
  });
});

describe('token rules', () => {
  it('refuses tokens with too little entropy, with a sentence', () => {
    for (const weak of ['aaaaaaaaaaaaaaaa', 'abababababababababababab', 'abcdefghijklmnopqrstuvwxyz', '0123456789abcdef', '1111111111111111111111111111111x']) {
      assert.match(tokenProblem(weak) ?? '', /too easy to guess/, weak);
    }
    assert.match(tokenProblem('short') ?? '', /at least 16 characters/);
    assert.match(tokenProblem('has spaces in it, sixteen+') ?? '', /at least 16 characters/);
    assert.equal(tokenProblem(randomBytes(32).toString('hex')), undefined);
    assert.equal(tokenProblem(randomBytes(12).toString('base64url')), undefined);
    assert.throws(() => parseServeArgs(['--token', 'a'.repeat(16)], {}), /too easy to guess/);
    assert.throws(() => parseServeArgs([], { NSLAB_TOKEN: 'x'.repeat(40) }), /too easy to guess/);
  });

  it('a signed URL opens its own path and query until it expires, and nothing else', () => {
    const secret = randomBytes(16).toString('hex');
    const now = 1_000_000;
    const signed = signPath(secret, '/api/labs/demo/pcap?node=ns1&iface=eth0', now);
    const req = (url: string) => ({ url, headers: {} }) as IncomingMessage;
    assert.ok(signatureValid(secret, req(signed), now + 1000));
    assert.ok(!signatureValid(secret, req(signed), now + 61_000), 'expired');
    assert.ok(!signatureValid('other-secret', req(signed), now), 'another server');
    assert.ok(!signatureValid(secret, req(signed.replace('node=ns1', 'node=ns2')), now), 'another node');
    assert.ok(!signatureValid(secret, req(signed.replace('/demo/', '/other/')), now), 'another lab');
    assert.ok(!signatureValid(secret, req(`${signed}&sig=x`), now), 'two signatures');
    assert.ok(!signatureValid(secret, req('/api/labs/demo/pcap?node=ns1'), now), 'unsigned');
  });
});
