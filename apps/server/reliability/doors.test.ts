// Reliability probe: a stranger tries the doors of a real `nslab serve` (a child process) with no
// token, a wrong token, a foreign Origin or Host, traversal paths, malformed cookies and headers,
// and the token in a cookie or a query string alone. Figures: doors tried, doors open (must be 0),
// and the server must still answer its own token afterwards.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { freePort, startServerProcess, stopServerProcess } from '../test-kit/child-server';
import { figure } from './figures';

const TOKEN = randomBytes(24).toString('hex');

/** Sends raw request bytes; resolves with the status code and the body text (0 when closed without an answer). */
function raw(port: number, request: string): Promise<{ status: number; text: string }> {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const done = () => ok({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), text: got });
    socket.setTimeout(15_000, () => socket.destroy());
    socket.on('data', (b) => {
      got += b.toString('latin1');
      // The answer is whole once its head and its body (by content-length or the last chunk) are in: a kept-alive
      // connection is never closed by the server, so waiting for the close would wait for the timeout.
      const head = got.indexOf('\r\n\r\n');
      if (/^HTTP\/1\.1 101/.test(got)) return void socket.destroy();
      if (head < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(got.slice(0, head));
      const chunked = /\r\ntransfer-encoding: *chunked/i.test(got.slice(0, head));
      const body = got.slice(head + 4);
      if (chunked ? /(^|\r\n)0\r\n\r\n$/.test(body) : body.length >= Number(length?.[1] ?? 0)) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.write(request);
  });
}

describe('reliability: stranger doors', { concurrency: false }, () => {
  let child: ChildProcess;
  let port: number;

  before(async () => {
    port = await freePort();
    child = await startServerProcess(port, TOKEN);
  });

  after(async () => {
    if (child) await stopServerProcess(child);
  });

  it('no stranger door opens, and the server still answers its token', async () => {
    const host = `127.0.0.1:${port}`;
    const upgrade = ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`];
    const req = (path: string, headers: string[], ws = false) => `${[`GET ${path} HTTP/1.1`, ...headers, ...(ws ? upgrade : [])].join('\r\n')}\r\n\r\n`;
    const bearer = `Authorization: Bearer ${TOKEN}`;
    const doors: Array<{ name: string; request: string }> = [];
    const add = (name: string, path: string, headers: string[], ws = false) => doors.push({ name, request: req(path, headers, ws) });
    for (const path of ['/api/labs', '/api/version', '/api/examples', '/api/labs/x/export', '/api/labs/x/pcap?node=a', '/api/labs/x/terminals']) {
      add(`no token ${path}`, path, [`Host: ${host}`]);
      add(`wrong token ${path}`, path, [`Host: ${host}`, 'Authorization: Bearer wrongwrongwrongwrong']);
      add(`cookie only ${path}`, path, [`Host: ${host}`, `Cookie: nslab_token=${TOKEN}`]);
      add(`query only ${path}`, `${path}${path.includes('?') ? '&' : '?'}token=${TOKEN}`, [`Host: ${host}`]);
      add(`foreign Host ${path}`, path, ['Host: evil.example', bearer]);
      add(`foreign Host with port ${path}`, path, [`Host: evil.example:${port}`, bearer]);
      add(`malformed cookie ${path}`, path, [`Host: ${host}`, 'Cookie: nslab_token=%']);
      add(`forged signature ${path}`, `${path}${path.includes('?') ? '&' : '?'}expires=99999999999999&sig=AAAA`, [`Host: ${host}`]);
    }
    for (const path of ['/ws', '/ws/term/00000000-0000-0000-0000-000000000000']) {
      add(`ws no token ${path}`, path, [`Host: ${host}`], true);
      add(`ws wrong token ${path}`, path, [`Host: ${host}`, 'Sec-WebSocket-Protocol: nslab, nslab.token.wrongwrongwrongwrong'], true);
      add(`ws cookie only ${path}`, path, [`Host: ${host}`, `Cookie: nslab_token=${TOKEN}`, `Origin: http://${host}`], true);
      add(`ws query only ${path}`, `${path}?token=${TOKEN}`, [`Host: ${host}`], true);
      add(`ws foreign Origin ${path}`, path, [`Host: ${host}`, bearer, 'Origin: http://evil.example'], true);
      add(`ws null Origin ${path}`, path, [`Host: ${host}`, bearer, 'Origin: null'], true);
      add(`ws foreign Host ${path}`, path, ['Host: evil.example', bearer], true);
      add(`ws malformed cookie ${path}`, path, [`Host: ${host}`, 'Cookie: nslab_token=%'], true);
      add(`ws malformed protocol ${path}`, path, [`Host: ${host}`, 'Sec-WebSocket-Protocol: ,,nslab.token.%'], true);
    }
    for (const path of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/api/../../etc/passwd', '/assets/../../../../etc/shadow', '//etc/passwd', '/%00']) {
      add(`traversal ${path}`, path, [`Host: ${host}`, bearer]);
    }
    const open: string[] = [];
    for (const door of doors) {
      const { status, text } = await raw(port, door.request);
      // A door is open when an API or socket answered with success, or a file outside the web app came back.
      const api = /^GET \/(api|ws)/.test(door.request) && !door.name.startsWith('traversal');
      if ((api && (status === 101 || (status >= 200 && status < 300))) || /root:|nologin/.test(text)) open.push(`${door.name}: ${status}`);
    }
    figure('doors tried', doors.length, 'count');
    figure('doors open', open.length, 'count');
    assert.deepEqual(open, []);
    assert.equal((await raw(port, req('/api/version', [`Host: ${host}`, bearer]))).status, 200, 'the server still answers');
    assert.equal(child.exitCode, null, 'the server is still running');
  });
});
