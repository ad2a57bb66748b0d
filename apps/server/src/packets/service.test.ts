/**
 * The packet service in real namespaces: a capture that switches between immediate and
 * buffered mode under a flood keeps what it captured before the switch, so the download
 * after a flood holds the flood.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readPcapng, type ServerMessage } from '@nslab/model';
import { PacketService } from './service';
import { TestNetns } from '../../test-kit/netns';

const labs: TestNetns[] = [];
const services: PacketService[] = [];
after(async () => {
  for (const s of services) await s.stop();
  for (const l of labs) await l.cleanup();
});

/** Resolves once `count` messages have matched. */
function waitFor(messages: ServerMessage[], listeners: (() => void)[], match: (m: ServerMessage) => boolean, count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (messages.filter(match).length >= count) resolve();
      else listeners.push(check);
    };
    check();
  });
}

test('a tcpdump capture switched to buffered mode by a flood still downloads the packets it kept before the switch', { timeout: 60_000 }, async () => {
  const net = new TestNetns();
  labs.push(net);
  net.add('a', 'b');
  net.veth('a', 'eth0', 'b', 'eth0');
  net.ip('a', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0');
  net.ip('b', 'addr', 'add', '10.0.0.2/24', 'dev', 'eth0');
  const lab = net.prefix.slice('nslab.'.length, -1);

  // A low flood rate, so that a short burst switches modes however busy the machine is.
  const floodRate = 100;
  // tcpdump's modes: nslab-capture has one mode and never switches.
  const service = new PacketService(floodRate, 'tcpdump');
  services.push(service);
  const messages: ServerMessage[] = [];
  const listeners: (() => void)[] = [];
  const stop = service.watch(lab, ['a'], (m) => {
    messages.push(m);
    for (const l of listeners.splice(0)) l();
  });
  const startedA = (m: ServerMessage) => m.type === 'capture' && m.node === 'a' && m.state === 'started';
  await waitFor(messages, listeners, startedA, 1);

  // 300 echoes in 0.6 s (600 packets), far above the flood rate, then quiet: the switch
  // happens after the burst ended. Asynchronously: the capture is read while it runs.
  await promisify(execFile)('ip', ['netns', 'exec', net.name('a'), 'ping', '-q', '-c', '300', '-i', '0.002', '10.0.0.2'], { timeout: 30_000 });
  // The buffered capture that replaces the immediate one says it started, too.
  await waitFor(messages, listeners, startedA, 2);

  const pcapng = readPcapng(service.exportPcap(lab, 'a', { iface: 'eth0' }, 'pcapng') ?? new Uint8Array());
  assert.deepEqual(pcapng.interfaces.map((i) => i.name), ['eth0']);
  // The switch means more than floodRate packets were delivered in one second, all before it
  // (nothing was sent after the burst): every one of them is still kept.
  assert.ok(pcapng.packets.length > floodRate, `only ${pcapng.packets.length} packets kept across the switch`);
  stop();
});
