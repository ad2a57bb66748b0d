/**
 * The capture engine's life in real namespaces: interface names that appear after
 * the start, .pcap export by interface and time window (read back by tcpdump), and
 * every way a capture ends (stopped, killed from outside, namespace deleted, tcpdump
 * stuck and needing SIGKILL, a namespace that does not exist) reported as an event,
 * with no tcpdump or zombie left behind.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pingKey, readPcapng, type NodePacketEvent } from '@nslab/model';
import { CaptureError, NetnsCapture, STOP_GRACE_MS, type CaptureEvent } from './capture';
import { leftoverChildren, TestNetns, addressedPair } from '../../test-kit/netns';

const labs: TestNetns[] = [];
const dir = mkdtempSync(join(tmpdir(), 'nslab-capture-'));

/** Two namespaces a (10.0.0.1) and b (10.0.0.2) joined by a veth pair eth0-eth0. */
const pair = (): TestNetns => addressedPair(labs);

function collect(capture: NetnsCapture): { packets: NodePacketEvent[]; events: CaptureEvent[] } {
  const out = { packets: [] as NodePacketEvent[], events: [] as CaptureEvent[] };
  capture.subscribe((e) => {
    out.events.push(e);
    if (e.kind === 'packet') out.packets.push(e.packet.event);
  });
  return out;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

after(async () => {
  for (const lab of labs) await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
  for (const lab of labs) assert.deepEqual(lab.leftovers(), [], 'test namespaces left behind');
  assert.deepEqual(leftoverChildren(), [], 'tcpdump or zombie processes left behind');
});

test('events carry node and interface names, including an interface made after the capture started', async () => {
  const lab = pair();
  const capture = new NetnsCapture(lab.name('a'), 'a', { immediate: true });
  const seen = collect(capture);
  await capture.start();
  const pid = capture.pid as number;
  assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), capture.program, 'the pid is the capturing program itself (ip netns exec execs tcpdump)');
  lab.exec('a', 'ping', '-c', '1', '-W', '2', '10.0.0.2');
  lab.veth('a', 'late0', 'b', 'late0');
  lab.ip('a', 'addr', 'add', '10.1.0.1/24', 'dev', 'late0');
  lab.ip('b', 'addr', 'add', '10.1.0.2/24', 'dev', 'late0');
  lab.exec('a', 'ping', '-c', '1', '-W', '2', '10.1.0.2');
  const end = await capture.stop();
  assert.equal(end.reason, 'stopped');
  assert.equal(alive(pid), false);
  assert.equal(seen.events[0]?.kind, 'started');
  assert.equal(seen.events[seen.events.length - 1]?.kind, 'ended');
  const echoes = seen.packets.filter((p) => pingKey(p)?.type === 'request');
  assert.deepEqual(echoes.map((p) => `${p.node}:${p.interface}:${p.direction}`), ['a:eth0:out', 'a:late0:out']);
  assert.ok(seen.packets.every((p) => !p.interface.startsWith('ifindex')), seen.packets.map((p) => p.interface).join());
  assert.equal(end.packets, seen.packets.length);
});

test('exportPcap: one interface, one time window, opened by tcpdump -r', async () => {
  const lab = pair();
  lab.veth('a', 'eth1', 'b', 'eth1');
  lab.ip('a', 'addr', 'add', '10.2.0.1/24', 'dev', 'eth1');
  lab.ip('b', 'addr', 'add', '10.2.0.2/24', 'dev', 'eth1');
  const capture = new NetnsCapture(lab.name('a'), 'a', { immediate: true });
  const seen = collect(capture);
  await capture.start();
  lab.exec('a', 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.0.0.2');
  lab.exec('a', 'ping', '-c', '2', '-i', '0.2', '-W', '2', '10.2.0.2');
  await capture.stop();

  const onEth1 = seen.packets.filter((p) => p.interface === 'eth1');
  assert.ok(onEth1.length >= 4);
  const file = join(dir, 'eth1.pcap');
  writeFileSync(file, capture.exportPcap({ iface: 'eth1' }));
  const lines = execFileSync('ip', ['netns', 'exec', lab.name('a'), 'tcpdump', '-r', file, '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
  assert.equal(lines.length, onEth1.length);
  assert.ok(lines.every((l) => / eth1 /.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('IP 10.2.0.1 > 10.2.0.2: ICMP echo request')), lines.join('\n'));

  // The second echo on eth0 to the third: a window that holds exactly its request and reply.
  const eth0Echoes = seen.packets.filter((p) => p.interface === 'eth0' && pingKey(p) !== null);
  const first = eth0Echoes.find((p) => pingKey(p)?.seq === 2 && pingKey(p)?.type === 'request') as NodePacketEvent;
  const last = eth0Echoes.find((p) => pingKey(p)?.seq === 2 && pingKey(p)?.type === 'reply') as NodePacketEvent;
  writeFileSync(file, capture.exportPcap({ iface: 'eth0', since: first.time, until: last.time }));
  const window = execFileSync('tcpdump', ['-r', file, '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
  assert.equal(window.length, 2, window.join('\n'));
  assert.match(window[0] as string, /ICMP echo request, id \d+, seq 2/);
  assert.match(window[1] as string, /ICMP echo reply, id \d+, seq 2/);

  const empty = capture.exportPcap({ iface: 'nothere' });
  assert.equal(empty.length, 24, 'an empty export is a valid pcap with only its header');

  // pcapng of every interface: each packet names the interface it was seen on, and tcpdump reads it.
  const ng = capture.exportPcap({}, 'pcapng');
  const names = readPcapng(ng);
  assert.deepEqual(names.packets.map((p) => names.interfaces[p.interface]?.name), seen.packets.map((p) => p.interface));
  assert.deepEqual(new Set(names.interfaces.map((i) => i.name)), new Set(['eth0', 'eth1']));
  const ngFile = join(dir, 'all.pcapng');
  writeFileSync(ngFile, ng);
  const all = execFileSync('tcpdump', ['-r', ngFile, '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
  assert.equal(all.length, seen.packets.length, all.join('\n'));
  assert.ok(all.some((l) => l.includes('IP 10.2.0.1 > 10.2.0.2: ICMP echo request')), all.join('\n'));
});

test('a buffered capture drained on stop keeps its last packets', async () => {
  const lab = pair();
  const capture = new NetnsCapture(lab.name('a'), 'a');
  const seen = collect(capture);
  await capture.start();
  lab.exec('a', 'ping', '-c', '1', '-W', '2', '10.0.0.2');
  await capture.stop({ drain: true });
  assert.deepEqual(seen.packets.filter((p) => pingKey(p) !== null).map((p) => `${pingKey(p)?.type} ${p.direction}`), ['request out', 'reply in']);
});

test('tcpdump killed from outside is reported as an ended event, not a crash', async () => {
  const lab = pair();
  const capture = new NetnsCapture(lab.name('a'), 'a');
  const seen = collect(capture);
  await capture.start();
  const pid = capture.pid as number;
  process.kill(pid, 'SIGTERM');
  const end = await capture.ended;
  assert.equal(end.reason, 'exited');
  assert.match(end.message, /exited by itself/);
  assert.equal(alive(pid), false);
  assert.equal(seen.events.filter((e) => e.kind === 'ended').length, 1);
  assert.deepEqual(await capture.stop(), end, 'stop after the end returns the same end');
});

test('deleting the namespace ends its capture, and the namespace really goes', async () => {
  const lab = pair();
  const capture = new NetnsCapture(lab.name('b'), 'b');
  await capture.start();
  const pid = capture.pid as number;
  lab.remove('b');
  const end = await capture.ended; // the runner's per-file timeout bounds a capture that never ends
  assert.equal(end.reason, 'netns-deleted');
  assert.match(end.message, /was deleted/);
  assert.equal(alive(pid), false);
  // With tcpdump gone, nothing holds the namespace: its veth end is destroyed, and so is a's.
  // The kernel frees the namespace once its last user is gone: await it rather than a fixed pause.
  while (/eth0@/.test(lab.ip('a', 'link', 'show'))) await new Promise((r) => setTimeout(r, 20));
});

test('a tcpdump that ignores SIGTERM is killed after the grace period', async () => {
  const lab = pair();
  const capture = new NetnsCapture(lab.name('a'), 'a');
  await capture.start();
  const pid = capture.pid as number;
  process.kill(pid, 'SIGSTOP'); // a stopped process does not act on SIGTERM; SIGKILL still ends it
  // Stopped for real before SIGTERM comes: both pending at once, the kernel would deliver SIGTERM first (lower number).
  while (processState(pid) !== 'T') await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  const end = await capture.stop();
  const took = performance.now() - t0;
  assert.equal(end.reason, 'stopped');
  assert.equal(end.signal, 'SIGKILL');
  // A floor only: the grace timer cannot fire early, while a loaded machine may run it late.
  assert.ok(took >= STOP_GRACE_MS - 50, `killed after ${took} ms, before the ${STOP_GRACE_MS} ms grace period`);
  assert.equal(alive(pid), false);
});

test('a namespace that does not exist: start rejects with what ip said, and the end is reported', async () => {
  const lab = new TestNetns();
  const capture = new NetnsCapture(lab.name('ghost'), 'ghost');
  const seen = collect(capture);
  await assert.rejects(capture.start(), (err: unknown) => err instanceof CaptureError && /Cannot open network namespace/.test(err.message) && err.argv.includes(lab.name('ghost')));
  const end = await capture.ended;
  assert.equal(end.reason, 'failed');
  assert.deepEqual(seen.events.map((e) => e.kind), ['ended']);
});

/** The state letter of /proc/PID/stat (R, S, T for stopped, ...). */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}
