/**
 * One capture of a namespace replacing another (packets.ts switches a capture between
 * immediate and buffered mode) without a gap: the new tcpdump starts, and the old one
 * stops only once the new one listens and the old one has caught up with it (a reader
 * lagging under a flood still holds packets from before). While both run they report the same packets;
 * this decides, packet by packet, which report counts: whichever capture reports a
 * packet first, and never the other. Pure: no clock, no process.
 *
 * A packet is known by its sighting key (sighting.ts): the kernel gives every packet
 * socket that sees a packet the same timestamp, so the two reports carry one key.
 */

/**
 * Keys remembered per side at most: an overlap lasts until the old capture catches up
 * (at most packets.ts HANDOVER_DRAIN_MS), about a second when a calm buffered capture
 * drains (BUFFERED_HOLD_MS at under CALM_RATE packets/s) and up to that bound under a
 * flood; past it, a packet may be reported twice, never lost.
 */
export const HANDOVER_MAX_KEYS = 50_000;

/** Which of the two captures reports. */
export type HandoverSide = 'old' | 'new';

/** The packets two overlapping captures of one namespace report, each let through once. */
export class Handover {
  /** Keys reported by one side and not (yet) by the other, with their counts (a key can repeat). */
  private readonly unmatched: Record<HandoverSide, Map<string, number>> = { old: new Map(), new: new Map() };
  private oldEnded = false;
  /** The latest time the old capture reported (seconds since the epoch). */
  private lastOld = -Infinity;
  private done = false;
  /** The earliest time the new capture reported: the old one has caught up once it reports this far. */
  private firstNew = Infinity;

  /** True once the new capture's reports need no more checking (the old one ended and the new one is past it). */
  get settled(): boolean {
    return this.done;
  }

  /**
   * True once the old capture has reported a packet as late as the new one's first: it has
   * handed over everything from before the new one listened, so stopping it loses nothing.
   */
  get caughtUp(): boolean {
    return this.lastOld >= this.firstNew;
  }

  /** Whether a report counts: false when the other capture reported the same packet already. */
  admit(side: HandoverSide, key: string, time: number): boolean {
    if (this.done) return true;
    if (side === 'new' && this.oldEnded && time > this.lastOld) {
      // Everything the old capture reported is older than this: nothing left to match.
      this.done = true;
      this.unmatched.old.clear();
      return true;
    }
    const other = this.unmatched[side === 'old' ? 'new' : 'old'];
    const seen = other.get(key);
    if (seen !== undefined) {
      if (seen > 1) other.set(key, seen - 1);
      else other.delete(key);
      return false;
    }
    if (side === 'old') this.lastOld = Math.max(this.lastOld, time);
    else this.firstNew = Math.min(this.firstNew, time);
    // Keys the other side can still report: the old one's from the new one's first on; the new one's until the old one ends.
    const keep = side === 'old' ? time >= this.firstNew || this.firstNew === Infinity : !this.oldEnded;
    const mine = this.unmatched[side];
    if (keep && mine.size < HANDOVER_MAX_KEYS) mine.set(key, (mine.get(key) ?? 0) + 1);
    return true;
  }

  /** The old capture ended: it reports nothing more. */
  endOld(): void {
    this.oldEnded = true;
    this.unmatched.new.clear();
  }
}
