/**
 * Packets in flight on the canvas: which edge, which way, when. Pure bookkeeping with
 * the clock passed in; the overlay draws what `frame` returns.
 *
 * - One crossing is captured at both ends of its veth (out of ns1:eth0, into
 *   host:veth-ns1): the second sighting is dropped.
 * - A packet's hops play one after another: a flight leaving a node starts when the
 *   same packet's flight into that node ends (an ARP broadcast reaches the bridge,
 *   then fans out of every port at once; an echo reply leaves only once its request
 *   has arrived).
 * - The clock is virtual: pause stops it, speed scales it, so a replay of the last
 *   seconds in slow motion is the same flights played on a slower clock.
 */
import type { PacketProtocol } from '@nslab/model';
import type { Traversal } from './edges';

/** How long one flight along an edge takes at speed 1 (ms): long enough to follow by eye. */
export const FLIGHT_MS = 650;
/** Flights drawn at most; beyond this the oldest go (a burst should not cost frames). */
export const MAX_FLIGHTS = 160;
/** New flights a second at most: beyond this a busy lab's packets are listed but not all drawn (an eye follows far fewer). */
export const MAX_FLIGHTS_PER_SECOND = 80;
/** Crossings remembered at most for the replay. */
const MAX_HISTORY = 2_000;
/** Two sightings of one crossing are the same if this close in capture time (s). */
const DUPLICATE_WINDOW_S = 0.5;

/** One packet crossing an edge, as captured. */
export interface Crossing extends Traversal {
  protocol: PacketProtocol;
  /** The same-packet key (see match.ts), or a fallback that only dedupes exact twins. */
  key: string;
  /** Capture time, seconds since the epoch. */
  time: number;
}

/** A flight: a crossing scheduled on the virtual clock. */
export interface Flight {
  edge: string;
  forward: boolean;
  protocol: PacketProtocol;
  /** Virtual ms when it leaves and arrives. */
  start: number;
  end: number;
}

/** A flight's position along its edge at virtual time `now`: 0..1 from the edge's source, or undefined when not flying. */
export function progressOf(flight: Flight, now: number): number | undefined {
  if (now < flight.start || now > flight.end) return undefined;
  const t = (now - flight.start) / (flight.end - flight.start);
  return flight.forward ? t : 1 - t;
}

/** Echo request and reply share a chain, so the reply leaves once the request arrived. */
function chainOf(key: string): string {
  return key.replace(/\/(request|reply)$/, '');
}

/** The flights of the packet animation. */
export class Animator {
  private virtual = 0;
  private lastReal: number | undefined;
  private flights: Flight[] = [];
  private history: Crossing[] = [];
  private readonly seen = new Map<string, number>();
  /** Per chain, per node: when the last flight into that node ends (virtual ms). */
  private readonly arrivals = new Map<string, { at: number; nodes: Map<string, number> }>();
  /** Token bucket of new flights (MAX_FLIGHTS_PER_SECOND), refilled in real time. */
  private tokens = MAX_FLIGHTS_PER_SECOND;
  private refilled: number | undefined;
  paused = false;
  speed = 1;

  /** Advances the virtual clock to real time `real` (ms) and returns it. */
  tick(real: number): number {
    if (this.lastReal !== undefined && !this.paused) this.virtual += (real - this.lastReal) * this.speed;
    this.lastReal = real;
    return this.virtual;
  }

  /** The virtual time now (after the last tick). */
  get now(): number {
    return this.virtual;
  }

  /** A captured crossing; returns false when it was a duplicate sighting or over the rate of flights drawn. */
  offer(c: Crossing, real: number, live = true): boolean {
    const now = this.tick(real);
    const dup = `${c.key}|${c.edge}|${c.forward}`;
    const prev = this.seen.get(dup);
    if (prev !== undefined && Math.abs(prev - c.time) < DUPLICATE_WINDOW_S) return false;
    this.seen.set(dup, c.time);
    if (this.seen.size > 4 * MAX_HISTORY) this.prune(c.time);
    if (live) {
      this.history.push(c);
      if (this.history.length > MAX_HISTORY) this.history.splice(0, this.history.length - MAX_HISTORY);
    }
    this.tokens = Math.min(MAX_FLIGHTS_PER_SECOND, this.tokens + ((real - (this.refilled ?? real)) * MAX_FLIGHTS_PER_SECOND) / 1000);
    this.refilled = real;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.schedule(c, now);
    return true;
  }

  private schedule(c: Crossing, now: number): void {
    const chainKey = chainOf(c.key);
    let chain = this.arrivals.get(chainKey);
    if (!chain || now - chain.at > 5 * FLIGHT_MS) {
      chain = { at: now, nodes: new Map() };
      this.arrivals.set(chainKey, chain);
    }
    const start = Math.max(now, chain.nodes.get(c.from) ?? now);
    const end = start + FLIGHT_MS;
    chain.at = now;
    if ((chain.nodes.get(c.to) ?? -Infinity) < end) chain.nodes.set(c.to, end);
    this.flights.push({ edge: c.edge, forward: c.forward, protocol: c.protocol, start, end });
    if (this.flights.length > MAX_FLIGHTS) this.flights.splice(0, this.flights.length - MAX_FLIGHTS);
    if (this.arrivals.size > 500) {
      for (const [k, v] of this.arrivals) if (now - v.at > 5 * FLIGHT_MS) this.arrivals.delete(k);
    }
  }

  private prune(time: number): void {
    for (const [k, t] of this.seen) if (time - t > DUPLICATE_WINDOW_S * 2) this.seen.delete(k);
  }

  /** The flights to draw at real time `real`, and whether anything is still to come. */
  frame(real: number): { now: number; flights: Flight[]; busy: boolean } {
    const now = this.tick(real);
    this.flights = this.flights.filter((f) => f.end >= now);
    return { now, flights: this.flights.filter((f) => f.start <= now), busy: this.flights.length > 0 };
  }

  /** Plays the crossings of the last `seconds` again, `slow` times slower than they happened (at least one flight apart per hop). */
  replay(seconds: number, slow: number, real: number): number {
    const now = this.tick(real);
    const last = this.history[this.history.length - 1];
    if (!last) return 0;
    const from = last.time - seconds;
    const picked = this.history.filter((c) => c.time >= from);
    this.flights = [];
    this.arrivals.clear();
    const t0 = picked[0]?.time ?? last.time;
    for (const c of picked) {
      const at = now + (c.time - t0) * 1000 * slow;
      this.schedule({ ...c, key: `replay/${c.key}` }, at);
    }
    this.flights.sort((a, b) => a.start - b.start);
    return picked.length;
  }

  /** Drops every flight and the history (a new lab, watching stopped). */
  clear(): void {
    this.flights = [];
    this.history = [];
    this.seen.clear();
    this.arrivals.clear();
  }

  /** Crossings kept for the replay. */
  get historySize(): number {
    return this.history.length;
  }
}
