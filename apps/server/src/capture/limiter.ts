/**
 * Bounds the packet events one client receives (DESIGN.md section 6: "under a flood
 * the server aggregates and says so; the browser never freezes"). Below the rate,
 * every event passes through; above it, the surplus is counted per (node,
 * interface, protocol) and reported once per interval as an aggregate. Pure: the
 * clock is injected and nothing runs on its own; `startTicking` adds the timer.
 */
import type { PacketProtocol } from '@nslab/model';

/**
 * 2,000 events/s: what the browser's packet list renders without dropping frames
 * (the brief's default); a ping trace or a curl is far below it, a `ping -f` far above.
 */
export const DEFAULT_EVENT_RATE = 2_000;
/** 250 ms between aggregates: four updates a second reads as live without being a flood of its own. */
export const DEFAULT_AGGREGATE_INTERVAL_MS = 250;

/** Packets held back in one interval, for one node, interface and protocol. */
export interface AggregateCount {
  node: string;
  interface: string;
  protocol: PacketProtocol;
  packets: number;
  /** Bytes on the wire. */
  bytes: number;
}

/**
 * What the limiter asks of a packet: where it was seen, its size and protocol. Nothing
 * more, so that a packet held back is never decoded (capture/sighting.ts).
 */
export interface Countable {
  node: string;
  interface: string;
  /** Bytes on the wire. */
  length: number;
  protocol: PacketProtocol;
}

/** What a limited stream delivers: packets, and now and then a statement of what was held back. */
export type LimitedEvent<P extends Countable = Countable> =
  | { kind: 'packet'; packet: P }
  | {
      kind: 'aggregate';
      /** The interval, in the limiter's clock (ms). */
      since: number;
      until: number;
      /** The packets not delivered one by one in that interval, grouped. */
      counts: AggregateCount[];
      /** How many packets that is in all. */
      dropped: number;
      /** How many were delivered one by one in the same interval. */
      passed: number;
      /** The rate above which packets are aggregated. */
      ratePerSecond: number;
    };

/** Settings of a limiter. */
export interface LimiterOptions {
  ratePerSecond?: number;
  intervalMs?: number;
  /** A monotonic clock in milliseconds; defaults to performance.now(). */
  now?: () => number;
}

/**
 * A token bucket of `ratePerSecond` tokens a second, holding at most one interval's
 * worth (a burst of 500 at the defaults), in front of a per-interval counter.
 */
export class PacketRateLimiter<P extends Countable = Countable> {
  readonly ratePerSecond: number;
  readonly intervalMs: number;
  private readonly now: () => number;
  private readonly capacity: number;
  private tokens: number;
  private refilledAt: number;
  private intervalStart: number;
  private passed = 0;
  /** Held-back counts by node, then interface, then protocol: looked up without building a key string per packet. */
  private held = new Map<string, Map<string, Map<PacketProtocol, AggregateCount>>>();
  private heldTotal = 0;

  constructor(
    private readonly emit: (event: LimitedEvent<P>) => void,
    options: LimiterOptions = {},
  ) {
    this.ratePerSecond = options.ratePerSecond ?? DEFAULT_EVENT_RATE;
    this.intervalMs = options.intervalMs ?? DEFAULT_AGGREGATE_INTERVAL_MS;
    this.now = options.now ?? (() => performance.now());
    this.capacity = Math.max(1, (this.ratePerSecond * this.intervalMs) / 1000);
    this.tokens = this.capacity;
    this.refilledAt = this.now();
    this.intervalStart = this.refilledAt;
  }

  /** Offers one packet: delivered now, or counted into the next aggregate. */
  offer(packet: P): void {
    const now = this.now();
    this.flushIfDue(now);
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) * this.ratePerSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.passed += 1;
      this.emit({ kind: 'packet', packet });
      return;
    }
    const protocol = packet.protocol;
    let ifaces = this.held.get(packet.node);
    if (ifaces === undefined) this.held.set(packet.node, (ifaces = new Map<string, Map<PacketProtocol, AggregateCount>>()));
    let protocols = ifaces.get(packet.interface);
    if (protocols === undefined) ifaces.set(packet.interface, (protocols = new Map<PacketProtocol, AggregateCount>()));
    let count = protocols.get(protocol);
    if (count === undefined) {
      count = { node: packet.node, interface: packet.interface, protocol, packets: 0, bytes: 0 };
      protocols.set(protocol, count);
    }
    count.packets += 1;
    count.bytes += packet.length;
    this.heldTotal += 1;
  }

  /** Called on a timer: reports the interval that ended if anything was held back in it. */
  tick(): void {
    this.flushIfDue(this.now());
  }

  private flushIfDue(now: number): void {
    if (now - this.intervalStart < this.intervalMs) return;
    if (this.heldTotal > 0) {
      this.emit({
        kind: 'aggregate',
        since: this.intervalStart,
        until: now,
        counts: [...this.held.values()].flatMap((ifaces) => [...ifaces.values()].flatMap((protocols) => [...protocols.values()])),
        dropped: this.heldTotal,
        passed: this.passed,
        ratePerSecond: this.ratePerSecond,
      });
    }
    this.held = new Map();
    this.heldTotal = 0;
    this.passed = 0;
    this.intervalStart = now;
  }
}

/** Ticks a limiter every interval so that a flood's last aggregate is reported when the flood stops; returns the stop function. */
export function startTicking(limiter: { tick(): void; readonly intervalMs: number }): () => void {
  const timer = setInterval(() => limiter.tick(), limiter.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
