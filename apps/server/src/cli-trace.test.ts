/**
 * `nslab trace` against a real lab (the dnat example): the JSON shape the issue
 * gives ({reached, hops, cause}, each hop with node, interface, direction,
 * addresses, ports, rewrites and rule verdicts), exit 0 when the packet got there,
 * 1 when it did not (with the cause), and a usage error for a bad request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { netnsName } from '@nslab/model';
import { applyTopology } from './kernel/lab';
import { cleanup, loadExample, uniqueLab } from '../test-kit/lab';

const BIN = fileURLToPath(new URL('../bin/nslab.mjs', import.meta.url));

function nslab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface JsonHop { node: string; interface: string; direction: string; what: string; src: string; dst: string; sport?: number; dport?: number; rewrites: Record<string, [unknown, unknown]> | null; rules: { table: string; chain: string; rule: string; verdict: string }[] }

describe('nslab trace', () => {
  const lab = uniqueLab('tr');
  let server: ChildProcess | undefined;
  before(async () => {
    await applyTopology(loadExample('dnat.yaml', lab));
    server = spawn('ip', ['netns', 'exec', netnsName(lab, 'web'), 'python3', '-c', "import socket,time;s=socket.socket();s.setsockopt(1,2,1);s.bind(('',80));s.listen();print('ready',flush=True);time.sleep(120)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      server?.stdout?.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      server?.on('exit', () => reject(new Error('the listener exited')));
    });
  });
  after(async () => {
    server?.kill('SIGKILL');
    await cleanup(lab);
  });

  test('--tcp --json: the published port is reached, with the DNAT at the host and its rule', async () => {
    const r = await nslab('trace', lab, 'internet', '203.0.113.2', '--tcp', '8080', '--json');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { reached: boolean; hops: JsonHop[]; cause: string | null };
    assert.equal(out.reached, true);
    assert.equal(out.cause, null);
    const first = out.hops[0];
    assert.deepEqual(first && { node: first.node, interface: first.interface, direction: first.direction, what: first.what, dst: first.dst, dport: first.dport }, { node: 'internet', interface: 'eth0', direction: 'out', what: 'SYN', dst: '203.0.113.2', dport: 8080 });
    const dnat = out.hops.find((h) => h.rewrites?.dst !== undefined && h.what === 'SYN');
    assert.deepEqual(dnat?.rewrites, { dst: ['203.0.113.2', '192.168.1.1'], dport: [8080, 80] });
    assert.equal(dnat?.node, 'host');
    const rule = out.hops.flatMap((h) => h.rules).find((v) => v.chain === 'PREROUTING' && v.rule.includes('DNAT'));
    assert.equal(rule?.rule, '-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.1:80');
    const back = out.hops.find((h) => h.what === 'SYN-ACK' && h.rewrites?.src !== undefined);
    assert.deepEqual(back?.rewrites, { src: ['192.168.1.1', '203.0.113.2'], sport: [80, 8080] });
    assert.equal(out.hops[out.hops.length - 1]?.node, 'internet');
  });

  test('a port nobody listens on: exit 1 and the cause in words', async () => {
    const r = await nslab('trace', lab, 'internet', '203.0.113.2', '--udp', '9999');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^trace udp from internet to 203\.0\.113\.2 udp port 9999/);
    assert.match(r.stdout, /not reached: host answered with ICMP destination unreachable \(port unreachable\): nothing listens on udp 203\.0\.113\.2 port 9999/);
  });

  test('bad requests are refused before anything runs', async () => {
    const bad = await nslab('trace', lab, 'internet', '203.0.113.2', '--tcp', '70000');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--tcp needs a port from 1 to 65535/);
    const host = await nslab('trace', lab, 'internet', 'example.com');
    assert.match(host.stderr, /is not an IPv4 or IPv6 address/);
    const node = await nslab('trace', lab, 'nobody', '203.0.113.2');
    assert.match(node.stderr, /has no node "nobody"/);
  });
});
