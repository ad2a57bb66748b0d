// The hub's fan-out to a slow client: a client whose socket is congested misses patches and is
// resent a snapshot per lab, and what it ends up with is the lab's current state, whatever the
// order of patches, snapshots and the metadata read in between. The feed, lab service and socket
// are stand-ins (no kernel is involved: the hub only relays states); the states are real topologies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, ServerMessage, Topology, TopologyMeta } from '@nslab/model';
import { applyChanges, diffTopology, parseTopologyData } from '@nslab/model';
import type { WebSocket } from 'ws';
import type { LabFeed } from '../live/feed';
import type { LabService } from '../labs/service';
import type { PacketService } from '../packets/service';
import { Hub } from './hub';

function topology(lab: string, nodes: string[]): Topology {
  const parsed = parseTopologyData({ name: lab, nodes: Object.fromEntries(nodes.map((n) => [n, {}])) });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.topology;
}

/** A lab's states as a feed holds them; `change` moves to a new state and returns the patch. */
class Labs {
  readonly states = new Map<string, Topology>();
  change(lab: string, nodes: string[]): Change[] {
    const next = topology(lab, nodes);
    const changes = diffTopology(this.states.get(lab) ?? topology(lab, []), next);
    this.states.set(lab, next);
    return changes;
  }
}

/** A socket whose congestion the test sets, recording what was sent in order. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: ServerMessage[] = [];
  private readonly handlers = new Map<string, (...args: unknown[]) => void>();
  send(text: string): void {
    this.sent.push(JSON.parse(text) as ServerMessage);
  }
  on(event: string, handler: (...args: unknown[]) => void): void {
    this.handlers.set(event, handler);
  }
  receive(message: unknown): void {
    this.handlers.get('message')?.(Buffer.from(JSON.stringify(message)), false);
  }
}

/** What a client holds of `lab` after applying every message it received, in order. */
function held(sent: ServerMessage[], lab: string): Topology | undefined {
  let state: Topology | undefined;
  for (const m of sent) {
    if (m.type === 'snapshot' && m.lab === lab) state = m.topology;
    else if (m.type === 'patch' && m.lab === lab && state) state = applyChanges(state, m.changes);
  }
  return state;
}

test('a slow client resent snapshots ends with each lab as it is now: per lab, never overwritten by an older one', async () => {
  const labs = new Labs();
  labs.change('a', ['n1']);
  labs.change('b', ['m1']);
  // Reading a lab's metadata takes a while: patches keep coming meanwhile.
  let release: () => void = () => undefined;
  let metaReads = 0;
  const feed = { labs: () => [], watch: (lab: string) => Promise.resolve(labs.states.get(lab)), current: (lab: string) => labs.states.get(lab), unwatch: () => undefined };
  const service = {
    metaStamp: () => Promise.resolve('unchanged'),
    meta: async (): Promise<TopologyMeta> => {
      metaReads += 1;
      if (metaReads > 2) await new Promise<void>((ok) => { release = ok; });
      return {};
    },
  };
  const packets = { sync: () => undefined };
  const hub = new Hub(feed as unknown as LabFeed, service as unknown as LabService, packets as unknown as PacketService, 'test');
  const ws = new FakeSocket();
  hub.connect(ws as unknown as WebSocket);
  ws.receive({ type: 'subscribe', lab: 'a' });
  ws.receive({ type: 'subscribe', lab: 'b' });
  await new Promise((ok) => setImmediate(ok));
  assert.equal(ws.sent.filter((m) => m.type === 'snapshot').length, 2);

  // Congested: both labs change, the client misses both.
  ws.bufferedAmount = 2 * 1024 * 1024;
  hub.patch('a', labs.change('a', ['n1', 'n2']));
  hub.patch('b', labs.change('b', ['m1', 'm2']));
  // Drained: b changes again (its snapshot is being prepared), then again before the snapshot leaves.
  ws.bufferedAmount = 0;
  hub.patch('b', labs.change('b', ['m1', 'm2', 'm3']));
  hub.patch('b', labs.change('b', ['m1', 'm2', 'm3', 'm4']));
  release();
  await new Promise((ok) => setImmediate(ok));
  hub.patch('b', labs.change('b', ['m2', 'm3', 'm4']));
  // a was missed too: its next change brings its own snapshot (the flag is per lab, not per client).
  hub.patch('a', labs.change('a', ['n1', 'n2', 'n3']));
  await new Promise<void>((ok) => setImmediate(ok));
  release();
  await new Promise<void>((ok) => setImmediate(ok));

  assert.deepEqual(held(ws.sent, 'b'), labs.states.get('b'));
  assert.deepEqual(held(ws.sent, 'a'), labs.states.get('a'));
});
