// Serving a room: HTTPS and WSS with --tls-cert/--tls-key, and --public-host added to the Host
// allow-list with the Origin check following it. A self-signed certificate is made here with
// Debian's openssl (argv arrays); requests are real https and wss clients that trust only it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { parseServeArgs, startServer, StartError } from '../main';
import type { Running, ServeConfig } from '../main';

const TOKEN = randomBytes(24).toString('hex');
const PUBLIC = 'room.nslab.test';

/** A self-signed certificate for PUBLIC and 127.0.0.1, in a fresh folder. */
function makeCertificate(dir: string): { certFile: string; keyFile: string; cert: Buffer } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${PUBLIC}`,
    '-addext', `subjectAltName=DNS:${PUBLIC},IP:127.0.0.1`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { certFile, keyFile, cert: readFileSync(certFile) };
}

/** An https GET to the server on 127.0.0.1 naming `host`; resolves with the status. */
function httpsGet(port: number, path: string, ca: Buffer, host: string, token = TOKEN): Promise<number> {
  return new Promise((ok, fail) => {
    const req = httpsRequest({
      // The TLS name is the certificate's; the Host header is the name under test.
      host: '127.0.0.1', port, path, ca, servername: PUBLIC,
      headers: { Host: host, Authorization: `Bearer ${token}` },
    }, (res) => { res.resume(); ok(res.statusCode ?? 0); });
    req.on('error', fail);
    req.end();
  });
}

/** A wss upgrade to /ws with the page's subprotocols; resolves 'open' or the refusal's status. */
function wss(port: number, ca: Buffer, host: string, origin: string | undefined, token = TOKEN): Promise<'open' | number> {
  return new Promise((ok, fail) => {
    // ws hands these to tls.connect: the TLS name is the certificate's; the Host header is the name under test.
    const tlsName = { servername: PUBLIC } as object;
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, ['nslab', `nslab.token.${token}`], { ca, headers: { Host: host }, ...(origin ? { origin } : {}), ...tlsName });
    ws.on('open', () => { ws.close(); ok('open'); });
    ws.on('unexpected-response', (_req, res) => { res.resume(); ws.terminate(); ok(res.statusCode ?? 0); });
    ws.on('error', (err) => fail(err));
  });
}

describe('serving a room over TLS', { concurrency: false }, () => {
  let dir: string;
  let pem: ReturnType<typeof makeCertificate>;
  let server: Running;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nslab-tls-'));
    pem = makeCertificate(dir);
    const config: ServeConfig = {
      ...parseServeArgs(['--port', '0', '--token', TOKEN, '--no-default-lab', '--tls-cert', pem.certFile, '--tls-key', pem.keyFile, '--public-host', PUBLIC], {}),
      examplesDir: '/nonexistent', webDir: '/nonexistent',
    };
    server = await startServer(config, () => {});
    port = server.port;
  });

  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers the API over https, prints an https URL on the public name, and refuses plain http', async () => {
    assert.equal(await httpsGet(port, '/api/version', pem.cert, `127.0.0.1:${port}`), 200);
    assert.equal(await httpsGet(port, '/api/version', pem.cert, `127.0.0.1:${port}`, 'x'.repeat(40)), 401, 'the token is still required');
    assert.match(server.url, new RegExp(`^https://${PUBLIC.replace(/\./g, '\\.')}:${port}/\\?token=`));
    const plain = await new Promise<number | 'failed'>((ok) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/version', headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => { res.resume(); ok(res.statusCode ?? 0); });
      req.on('error', () => ok('failed'));
      req.end();
    });
    assert.notEqual(plain, 200, 'a cleartext request must not be served');
  });

  it('the public host is in the Host allow-list, on the port and bare; other names are refused', async () => {
    assert.equal(await httpsGet(port, '/api/version', pem.cert, `${PUBLIC}:${port}`), 200);
    assert.equal(await httpsGet(port, '/api/version', pem.cert, PUBLIC), 200, 'through a proxy on 443 the Host has no port');
    assert.equal(await httpsGet(port, '/api/version', pem.cert, `evil.nslab.test:${port}`), 403);
  });

  it('opens wss from the server\'s own https pages, and refuses a foreign or a cleartext Origin', async () => {
    assert.equal(await wss(port, pem.cert, `127.0.0.1:${port}`, `https://127.0.0.1:${port}`), 'open');
    assert.equal(await wss(port, pem.cert, `${PUBLIC}:${port}`, `https://${PUBLIC}:${port}`), 'open');
    assert.equal(await wss(port, pem.cert, `${PUBLIC}:${port}`, undefined), 'open', 'a script (no Origin) with the token');
    assert.equal(await wss(port, pem.cert, `${PUBLIC}:${port}`, `https://evil.nslab.test:${port}`), 403);
    assert.equal(await wss(port, pem.cert, `${PUBLIC}:${port}`, `http://${PUBLIC}:${port}`), 403, 'a page over http is not this server\'s');
    assert.equal(await wss(port, pem.cert, `evil.nslab.test:${port}`, `https://${PUBLIC}:${port}`), 403);
    assert.equal(await wss(port, pem.cert, `${PUBLIC}:${port}`, `https://${PUBLIC}:${port}`, 'x'.repeat(40)), 401);
  });
});

describe('room flags', () => {
  it('the default stays loopback-only, plain http, with no public name', () => {
    const config = parseServeArgs(['--token', TOKEN], {});
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.tls, undefined);
    assert.equal(config.publicHosts, undefined);
  });

  it('a public name is refused on a plain server that was not given it', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', token: TOKEN, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 4 }, () => {});
    try {
      const status = await new Promise<number>((ok, fail) => {
        const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/api/version', headers: { Host: `${PUBLIC}:${server.port}`, Authorization: `Bearer ${TOKEN}` } }, (res) => { res.resume(); ok(res.statusCode ?? 0); });
        req.on('error', fail);
        req.end();
      });
      assert.equal(status, 403);
    } finally {
      await server.stop();
    }
  });

  it('behind a proxy that ends TLS (--public-url): the bare public Host and its https pages get in, and join links name the public address', async () => {
    const config = { ...parseServeArgs(['--port', '0', '--token', TOKEN, '--no-default-lab', '--classroom', '--public-url', `https://${PUBLIC}`], {}), examplesDir: '/nonexistent', webDir: '/nonexistent' };
    assert.deepEqual(config.publicHosts, [PUBLIC]);
    const server = await startServer(config, () => {});
    try {
      const post = (host: string) => new Promise<{ status: number; body: string }>((ok, fail) => {
        const req = httpRequest({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/trainees', headers: { Host: host, Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.on('data', (b: Buffer) => { body += b.toString(); });
          res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', fail);
        req.end(JSON.stringify({ name: 'rm-proxy' }));
      });
      const made = await post(PUBLIC);
      assert.equal(made.status, 201, made.body);
      const trainee = JSON.parse(made.body) as { token: string; url: string };
      assert.equal(trainee.url, `https://${PUBLIC}/?token=${trainee.token}`);
      assert.equal((await post('evil.nslab.test')).status, 403);
      const upgrade = (origin: string) => new Promise<'open' | number>((ok, fail) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, ['nslab', `nslab.token.${trainee.token}`], { headers: { Host: PUBLIC }, origin });
        ws.on('open', () => { ws.close(); ok('open'); });
        ws.on('unexpected-response', (_req, res) => { res.resume(); ws.terminate(); ok(res.statusCode ?? 0); });
        ws.on('error', fail);
      });
      assert.equal(await upgrade(`https://${PUBLIC}`), 'open');
      assert.equal(await upgrade('https://evil.nslab.test'), 403);
    } finally {
      await server.stop();
    }
  });

  it('refuses half a TLS pair, a malformed public name, and unreadable or mismatched files, with sentences', async () => {
    assert.throws(() => parseServeArgs(['--tls-cert', '/tmp/c.pem'], {}), /--tls-cert and --tls-key go together/);
    assert.throws(() => parseServeArgs(['--tls-key', '/tmp/k.pem'], {}), /--tls-cert and --tls-key go together/);
    assert.throws(() => parseServeArgs(['--public-host', 'a b'], {}), /is not a host name/);
    assert.throws(() => parseServeArgs(['--public-host', 'evil.test/x'], {}), /is not a host name/);
    assert.throws(() => parseServeArgs(['--public-host'], {}), /--public-host needs a value/);
    assert.throws(() => parseServeArgs(['--public-url', 'lab.school.example'], {}), /is not an address like https:\/\/lab.school.example/);
    assert.throws(() => parseServeArgs(['--public-url', 'https://lab.school.example/x'], {}), /is not an address like/);
    assert.deepEqual(parseServeArgs(['--public-host', 'A.test', '--public-host', 'b.test'], {}).publicHosts, ['a.test', 'b.test']);
    const dir = mkdtempSync(join(tmpdir(), 'nslab-tls-'));
    try {
      const base = { port: 0, host: '127.0.0.1', token: TOKEN, examplesDir: '/nonexistent', webDir: '/nonexistent', maxTerminals: 4 };
      await assert.rejects(startServer({ ...base, tls: { certFile: join(dir, 'none.pem'), keyFile: join(dir, 'none.key') } }, () => {}),
        (e: unknown) => e instanceof StartError && /cannot be read \(ENOENT\): check the path given to --tls-cert/.test(e.message));
      const pem = makeCertificate(dir);
      writeFileSync(join(dir, 'other.pem'), 'not a key');
      await assert.rejects(startServer({ ...base, tls: { certFile: pem.certFile, keyFile: join(dir, 'other.pem') } }, () => {}),
        (e: unknown) => e instanceof StartError && /do not make a pair/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
