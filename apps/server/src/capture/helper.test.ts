/**
 * nslab-capture (native/capture.c) against tcpdump on the real kernel: the same
 * packets with the same bytes; a filter applied in the kernel, and a bad one refused
 * with a sentence before anything runs; the kernel's drops counted when the reader
 * stalls; and the helper ending when its parent dies.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { PcapStreamParser, protocolOf, decodePacket, type PcapRecord } from '@nslab/model';
import { NetnsCapture } from './capture';
import { CAPTURE_HELPER_PATH, captureHelperArgv, captureHelperAvailable, CaptureFilterError, compileFilter } from './helper';
import { leftoverChildren, TestNetns, addressedPair } from '../../test-kit/netns';

const labs: TestNetns[] = [];
const started: ChildProcess[] = [];
/** Helpers started by a parent this test killed: ended here if they outlived it (the failure the last test looks for). */
const orphans: number[] = [];

/** Two namespaces a (10.0.0.1) and b (10.0.0.2) joined by a veth pair eth0-eth0. */
const pair = (): TestNetns => addressedPair(labs);

/** Sends `count` UDP datagrams of 64 bytes from a node as fast as python3 can. */
function sendUdp(lab: TestNetns, node: string, dst: string, count: number): void {
  const script = 'import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(int(sys.argv[2])): s.sendto(bytes(64), (sys.argv[1], 9999))';
  lab.exec(node, '/usr/bin/python3', '-c', script, dst, String(count));
}

/** A process whose pcap output is parsed as it comes and whose stderr is kept. */
interface Reading {
  child: ChildProcess;
  records: PcapRecord[];
  stderr: () => string;
  closed: Promise<void>;
}

function read(argv: string[], options: { paused?: boolean } = {}): Reading {
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  const parser = new PcapStreamParser();
  const records: PcapRecord[] = [];
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const onData = (b: Buffer) => {
    for (const r of parser.push(new Uint8Array(b))) records.push({ ...r, data: r.data.slice() });
  };
  if (options.paused !== true) child.stdout?.on('data', onData);
  const closed = new Promise<void>((ok) => child.on('close', () => ok()));
  return Object.assign({ child, records, stderr: () => err, closed }, { resume: () => child.stdout?.on('data', onData) });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  // Awaits a condition; the test runner's timeout bounds it, no clock is asserted.
  while (!condition()) {
    await new Promise((r) => setTimeout(r, 20));
    if (started.some((c) => c.exitCode !== null && c.exitCode !== 0)) throw new Error(`a process exited early while waiting for ${what}`);
  }
}

/** One record as bytes to compare: the header fields and the data, the SLL2 address padding past halen zeroed. */
function shape(r: PcapRecord): string {
  const data = r.data.slice();
  const halen = data[11] ?? 0;
  for (let i = 12 + Math.min(8, halen); i < 20 && i < data.length; i += 1) data[i] = 0;
  return `${r.linktype} ${r.caplen} ${r.origLen} ${Buffer.from(data).toString('hex')}`;
}

after(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of orphans) if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
  for (const lab of labs) await lab.cleanup();
  for (const lab of labs) assert.deepEqual(lab.leftovers(), [], 'test namespaces left behind');
  assert.deepEqual(leftoverChildren(), [], 'capture or zombie processes left behind');
});

describe('nslab-capture', { skip: !captureHelperAvailable() && 'nslab-capture is not built (node apps/server/native/build.mjs)' }, () => {
  test("records equal tcpdump's capture of the same traffic: same packets, same bytes up to the snap length", { timeout: 120_000 }, async () => {
    const lab = pair();
    const snaplen = 100;
    const tcpdump = read(['ip', 'netns', 'exec', lab.name('a'), 'tcpdump', '-i', 'any', '-w', '-', '-U', '-n', '--immediate-mode', '-s', String(snaplen), '--time-stamp-precision=nano']);
    const helper = read(captureHelperArgv(lab.name('a'), { snaplen, bufferKiB: 4096 }));
    await until(() => /listening on/.test(tcpdump.stderr()) && /listening on/.test(helper.stderr()), 'both to listen');
    // ICMP both ways on eth0 and on lo (lo's outgoing copies are skipped by both), ARP, UDP with payloads cut by the snap.
    lab.exec('a', 'ping', '-c', '3', '-i', '0.2', '-s', '200', '10.0.0.2');
    lab.exec('a', 'ping', '-c', '2', '-i', '0.2', '127.0.0.1');
    sendUdp(lab, 'a', '10.0.0.2', 50);
    // A last round trip: b's answers to the datagrams (port unreachable) are in before its reply.
    lab.exec('a', 'ping', '-c', '1', '10.0.0.2');
    // IPv6's own traffic (duplicate address detection, router solicitations) comes whenever the kernel
    // decides, maybe between the two stops: only the test's traffic is compared (IPv4 and ARP).
    const ours = (records: PcapRecord[]) => records.filter((r) => !(r.data[0] === 0x86 && r.data[1] === 0xdd));
    await until(() => ours(tcpdump.records).length >= 70 && ours(helper.records).length === ours(tcpdump.records).length, 'the same number of packets from both');
    tcpdump.child.kill('SIGTERM');
    helper.child.kill('SIGTERM');
    await Promise.all([tcpdump.closed, helper.closed]);
    assert.deepEqual(ours(helper.records).map(shape).sort(), ours(tcpdump.records).map(shape).sort());
    const protocols = new Set(helper.records.map((r) => protocolOf(decodePacket(r))));
    for (const p of ['icmp', 'udp', 'arp']) assert.ok(protocols.has(p as never), `${p} among ${[...protocols].join()}`);
    assert.ok(helper.records.some((r) => r.origLen > r.caplen), 'some packets were cut at the snap length');
    assert.match(helper.stderr(), /\d+ packets captured\n\d+ packets received by filter\n0 packets dropped by kernel/);
  });

  test('a filter is applied in the kernel: only matching packets are captured', async () => {
    const lab = pair();
    const capture = new NetnsCapture(lab.name('a'), 'a', { filter: 'udp and dst port 9999' });
    const protocols: string[] = [];
    capture.subscribe((e) => {
      if (e.kind === 'packet') protocols.push(e.packet.protocol);
    });
    await capture.start();
    lab.exec('a', 'ping', '-c', '2', '-i', '0.2', '10.0.0.2');
    sendUdp(lab, 'a', '10.0.0.2', 20);
    await until(() => protocols.length >= 20, 'the datagrams');
    const end = await capture.stop();
    assert.equal(end.reason, 'stopped');
    assert.deepEqual([...new Set(protocols)], ['udp'], 'no ICMP (echo, port unreachable) and no ARP got through');
    assert.equal(protocols.length, 20);
  });

  test('a bad filter is refused with a sentence, and nothing is started', async () => {
    const lab = pair();
    await assert.rejects(compileFilter('udp and port'), (err: unknown) => err instanceof CaptureFilterError && /^The capture filter "udp and port" is not valid: .*syntax error.*for example "icmp"/.test(err.message));
    await assert.rejects(compileFilter('icmp\nor udp'), /control character/);
    const capture = new NetnsCapture(lab.name('a'), 'a', { filter: 'tcp port eighty' });
    await assert.rejects(capture.start(), /The capture filter "tcp port eighty" is not valid/);
    const end = await capture.ended;
    assert.equal(end.reason, 'failed');
    assert.match(end.message, /not valid/);
    assert.equal(capture.pid, undefined);
  });

  test('drops are counted when the reader stalls: every packet is captured or counted as dropped', async () => {
    const lab = pair();
    // A small socket buffer, and stdout not read: the pipe fills, the helper blocks writing, the kernel drops.
    const helper = read(captureHelperArgv(lab.name('a'), { snaplen: 256, bufferKiB: 64 }), { paused: true }) as Reading & { resume: () => void };
    await until(() => /listening on/.test(helper.stderr()), 'the helper to listen');
    // ARP first: datagrams sent while b's address is unresolved wait in a short queue and are dropped before any capture sees them.
    lab.exec('a', 'ping', '-c', '1', '10.0.0.2');
    const sent = 40_000;
    sendUdp(lab, 'a', '10.0.0.2', sent);
    helper.resume();
    await until(() => helper.records.length > 0, 'the first records');
    helper.child.kill('SIGTERM');
    await helper.closed;
    const counts = /(\d+) packets captured\n(\d+) packets received by filter\n(\d+) packets dropped by kernel/.exec(helper.stderr());
    assert.ok(counts, helper.stderr());
    const [captured, received, dropped] = counts.slice(1).map(Number) as [number, number, number];
    assert.equal(captured, helper.records.length, 'the captured count is what was written');
    assert.ok(dropped > 0, `the kernel dropped packets while the reader stalled (${helper.stderr()})`);
    const udp = helper.records.filter((r) => protocolOf(decodePacket(r)) === 'udp').length;
    assert.ok(udp < sent, 'some datagrams were not captured');
    assert.ok(captured + dropped <= received, 'no packet counted twice');
    assert.ok(udp + dropped >= sent, `every datagram was captured (${udp}) or counted as dropped (${dropped}) of ${sent}`);
  });

  // Bounded so that a helper that outlives its parent fails the test instead of hanging it (and cleanup still runs).
  test('the helper ends when its parent dies', { timeout: 60_000 }, async () => {
    const lab = pair();
    // A parent that starts the helper, says its pid, and is then killed with SIGKILL (no chance to clean up).
    const script = `const c = require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: ['ignore', 'ignore', 'inherit'] }); console.log(c.pid);`;
    const parent = spawn(process.execPath, ['-e', script, CAPTURE_HELPER_PATH, lab.name('a')], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(parent);
    let out = '';
    let err = '';
    parent.stdout.on('data', (b: Buffer) => (out += b.toString()));
    parent.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await until(() => /^\d+\n/.test(out) && /listening on/.test(err), 'the helper to listen');
    const pid = Number(out.trim());
    orphans.push(pid);
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'nslab-capture');
    const gone = new Promise((r) => parent.once('exit', r));
    parent.kill('SIGKILL');
    await gone;
    const ended = () => !existsSync(`/proc/${pid}`) || /^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    await until(ended, 'the orphaned helper to end');
  });
});
