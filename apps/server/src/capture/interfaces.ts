/**
 * Interface names of one namespace by ifindex: SLL2 records carry only the index
 * (it is per namespace, so the map is too). Read with the kernel engine's reader
 * (`ip -n NETNS -j ...`, parsed in kernel/iproute.ts) and read again when a packet
 * names an index the map does not have, since links come and go while a capture runs.
 */
import { readNetns } from '../kernel/observe';

/** Reads ifindex -> name for a namespace; undefined when the namespace is gone. */
export type InterfaceReader = (netns: string) => Promise<Map<number, string> | undefined>;

/** The default reader: one `ip -n NETNS -j -batch -` (links only matter here; no firewall read). */
export const readInterfaceNames: InterfaceReader = async (netns) => (await readNetns(netns, false))?.ifindex;

/**
 * An index that is still unknown right after a read (a link created and deleted
 * between the packet and the read) is not read for again before this long, so a
 * stream of such packets costs one `ip` per second, not one per packet.
 */
export const UNKNOWN_RETRY_MS = 1_000;

/** The ifindex -> name map of one namespace, refreshed on demand. */
export class InterfaceNames {
  private names = new Map<number, string>();
  private current: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** When an index was last found missing after a read (performance.now() ms). */
  private missing = new Map<number, number>();

  constructor(
    readonly netns: string,
    private readonly read: InterfaceReader = readInterfaceNames,
  ) {}

  /** The name of an index, if known. */
  get(ifindex: number): string | undefined {
    return this.names.get(ifindex);
  }

  /** The name to show for an index once reading has not found it. */
  fallback(ifindex: number): string {
    return this.names.get(ifindex) ?? `ifindex ${ifindex}`;
  }

  /** True when an unknown index is worth a read (never read for, or last missed long enough ago). */
  worthReading(ifindex: number, now: number = performance.now()): boolean {
    if (this.names.has(ifindex)) return false;
    const missedAt = this.missing.get(ifindex);
    return missedAt === undefined || now - missedAt >= UNKNOWN_RETRY_MS;
  }

  /** Records that a read did not find an index, so that it is not read for again at once. */
  markMissing(ifindex: number, now: number = performance.now()): void {
    if (!this.names.has(ifindex)) this.missing.set(ifindex, now);
  }

  /**
   * Reads the map with a read that starts after this call (so it sees links made
   * before it); calls made while a read is in flight share the next one. Never
   * rejects: a failed read keeps the old map.
   */
  refresh(): Promise<void> {
    if (this.next !== null) return this.next;
    if (this.current !== null) {
      this.next = this.current.then(() => {
        this.next = null;
        return this.startRead();
      });
      return this.next;
    }
    return this.startRead();
  }

  /** Resolves when no read is in flight (so that no `ip` this map started outlives the capture). */
  idle(): Promise<void> {
    return this.next ?? this.current ?? Promise.resolve();
  }

  private startRead(): Promise<void> {
    const reading = (async () => {
      try {
        const map = await this.read(this.netns);
        if (map !== undefined) this.names = map;
      } catch {
        // The namespace is being deleted, or ip failed: the capture reports its own end.
      } finally {
        this.current = null;
      }
    })();
    this.current = reading;
    return reading;
  }
}
