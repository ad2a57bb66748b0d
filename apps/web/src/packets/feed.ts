/**
 * The packet feed: turns the server's `packets`, `aggregate` and `capture` messages
 * into rows (batched into the store a few times a second, so a burst is one render)
 * and flights for the canvas animation, and sends watch-packets / unwatch-packets
 * for the open lab (again after a reconnect, since a new socket watches nothing).
 * Installed once by the composition root (main.tsx).
 */
import type { Link, ServerMessage } from '@nslab/model';
import { client } from '../server/client';
import { listen } from '../server/dispatch';
import { useLab } from '../state/lab';
import { usePackets } from './store';
import { Animator } from './animate';
import type { EdgeEnd } from './edges';
import { endpointIndex, traversalOf } from './edges';
import type { PacketRow } from './row';
import { toRow } from './row';

/** How often rows reach the store (ms): ten renders a second at most, whatever the packet rate. */
const FLUSH_MS = 100;
/** After an aggregate, single packets are not animated for this long (ms): the counts stand in for them. */
export const FLOOD_HOLD_MS = 2_500;

/** The flights of the canvas animation (the overlay draws them). */
export const animator = new Animator();

const wakers = new Set<() => void>();

/** Calls `fn` when new flights are scheduled (the overlay starts its frame loop); returns the way to stop. */
export function onFlights(fn: () => void): () => void {
  wakers.add(fn);
  return () => wakers.delete(fn);
}

function wake(): void {
  for (const fn of wakers) fn();
}

let seq = 0;
let pending: PacketRow[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;
let indexFor: readonly Link[] | undefined;
let index: Map<string, EdgeEnd> = new Map();

function flush(): void {
  timer = undefined;
  const rows = pending;
  pending = [];
  usePackets.getState().append(rows);
}

function edgeIndex(links: readonly Link[]): Map<string, EdgeEnd> {
  if (indexFor !== links) {
    indexFor = links;
    index = endpointIndex(links);
  }
  return index;
}

function onPackets(message: Extract<ServerMessage, { type: 'packets' }>): void {
  const links = useLab.getState().topology?.links ?? [];
  const flood = usePackets.getState().flood;
  const animate = !flood || Date.now() - flood.at > FLOOD_HOLD_MS;
  const idx = edgeIndex(links);
  const now = performance.now();
  let flew = false;
  for (const event of message.packets) {
    seq += 1;
    const row = toRow(event, seq);
    pending.push(row);
    if (!animate) continue;
    const t = traversalOf(idx, links, event.node, event.interface, event.direction);
    if (!t) continue;
    const key = row.key ?? `raw/${event.summary}/${event.length}`;
    if (animator.offer({ ...t, protocol: row.protocol, key, time: event.time }, now)) flew = true;
  }
  if (pending.length > 2 * 5_000) pending = pending.slice(pending.length - 5_000);
  if (flew) wake();
  timer ??= setTimeout(flush, FLUSH_MS);
}

/** Starts or stops watching the open lab's packets. */
export function setWatching(on: boolean): boolean {
  const lab = useLab.getState().lab;
  if (!lab) return false;
  const sent = client.send({ type: on ? 'watch-packets' : 'unwatch-packets', lab });
  if (!sent && on) return false;
  usePackets.getState().setWatching(on);
  if (!on) animator.clear();
  return true;
}

/** Plays the last `seconds` of crossings again, `slow` times slower. */
export function replay(seconds: number, slow: number): number {
  const n = animator.replay(seconds, slow, performance.now());
  if (n > 0) wake();
  return n;
}

/** Hooks the feed to the socket and the lab store; returns the way to stop. */
export function installPacketFeed(): () => void {
  usePackets.getState().follow(useLab.getState().lab);
  const stopListening = listen((message) => {
    const store = usePackets.getState();
    switch (message.type) {
      case 'hello':
        // A new socket watches nothing: watch again what this page was watching.
        if (store.watching && store.lab) client.send({ type: 'watch-packets', lab: store.lab });
        return;
      case 'packets':
        if (message.lab === store.lab && store.watching) onPackets(message);
        return;
      case 'aggregate':
        if (message.lab === store.lab && store.watching) {
          // since/until are the server limiter's clock in ms.
          const seconds = Math.max(0.001, (message.until - message.since) / 1000);
          store.setFlood({ at: Date.now(), rate: (message.dropped + message.passed) / seconds, limit: message.ratePerSecond, seconds, dropped: message.dropped, passed: message.passed, counts: message.counts });
        }
        return;
      case 'capture':
        if (message.lab === store.lab) store.setCapture(message.node, message.message ? { state: message.state, message: message.message } : { state: message.state });
        return;
      default:
        return;
    }
  });
  const stopFollowing = useLab.subscribe((s, prev) => {
    if (s.lab === prev.lab) return;
    const store = usePackets.getState();
    if (store.watching && prev.lab) client.send({ type: 'unwatch-packets', lab: prev.lab });
    animator.clear();
    pending = [];
    store.follow(s.lab);
  });
  const syncAnimation = usePackets.subscribe((s, prev) => {
    if (s.paused !== prev.paused || s.speed !== prev.speed) {
      animator.tick(performance.now());
      animator.paused = s.paused;
      animator.speed = s.speed;
      wake();
    }
  });
  return () => {
    stopListening();
    stopFollowing();
    syncAnimation();
    if (timer) clearTimeout(timer);
  };
}
