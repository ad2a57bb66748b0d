/**
 * The last packets of one capture, kept raw so that a namespace or one of its
 * interfaces can be downloaded as a .pcap for a time window (DESIGN.md section 6).
 * Bounded by count and by bytes, whichever is reached first; the oldest go first.
 */
import { encodePcap, encodePcapng, type PcapRecordInput } from '@nslab/model';

/**
 * 10,000 packets: a minute of a busy lab's background, or the tail of a flood; and
 * 16 MiB: at most ~10,000 full-size frames of 1,500 bytes. Either bounds a
 * capture's memory at a few tens of MB with the per-entry overhead.
 */
export const RING_MAX_PACKETS = 10_000;
/** See RING_MAX_PACKETS. */
export const RING_MAX_BYTES = 16 * 1024 * 1024;

/** One kept packet: a private copy of its bytes, and where it was seen. */
export interface RingEntry extends PcapRecordInput {
  time: number;
  interface: string;
  /** data.length, when the entry knows it without making a view (capture/sighting.ts). */
  caplen?: number;
}

/** Which packets an export holds: one interface's (or all), between two times (seconds since the epoch, inclusive). */
export interface ExportFilter {
  iface?: string;
  since?: number;
  until?: number;
}

/** The file formats an export is written in. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** A bounded FIFO of raw packets. */
export class PacketRing {
  private entries: (RingEntry | undefined)[];
  private head = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    readonly maxPackets: number = RING_MAX_PACKETS,
    readonly maxBytes: number = RING_MAX_BYTES,
  ) {
    // Filled, not holey: V8 keeps a packed array fast where holes would not be.
    this.entries = new Array<RingEntry | undefined>(maxPackets).fill(undefined);
  }

  /** Packets held. */
  get size(): number {
    return this.count;
  }

  /** Bytes of packet data held. */
  get byteSize(): number {
    return this.bytes;
  }

  /** Keeps a packet (the caller hands over a copy it will not touch again), dropping the oldest beyond the bounds. */
  add(entry: RingEntry): void {
    const length = entry.caplen ?? entry.data.length;
    if (length > this.maxBytes) return;
    while (this.count > 0 && (this.count >= this.maxPackets || this.bytes + length > this.maxBytes)) this.dropOldest();
    this.entries[(this.head + this.count) % this.maxPackets] = entry;
    this.count += 1;
    this.bytes += length;
  }

  /** The packets matching a filter, oldest first. */
  select(filter: ExportFilter = {}): RingEntry[] {
    const out: RingEntry[] = [];
    for (let i = 0; i < this.count; i += 1) {
      const e = this.entries[(this.head + i) % this.maxPackets];
      if (e === undefined) continue;
      if (filter.iface !== undefined && e.interface !== filter.iface) continue;
      if (filter.since !== undefined && e.time < filter.since) continue;
      if (filter.until !== undefined && e.time > filter.until) continue;
      out.push(e);
    }
    return out;
  }

  /**
   * The matching packets as a file that tcpdump -r and Wireshark open, with nanosecond
   * stamps as captured: pcapng names each packet's interface; classic pcap cannot.
   */
  exportPcap(linktype: number, snaplen: number, filter: ExportFilter = {}, format: CaptureFormat = 'pcap'): Uint8Array {
    const packets = this.select(filter);
    // A ring carried over from a capture with a larger snap length holds longer packets: declare the larger.
    snaplen = packets.reduce((n, p) => Math.max(n, p.data.length), snaplen);
    return format === 'pcapng' ? encodePcapng(linktype, packets, snaplen) : encodePcap(linktype, packets, snaplen, { precision: 'nano' });
  }

  private dropOldest(): void {
    const e = this.entries[this.head];
    this.entries[this.head] = undefined;
    this.head = (this.head + 1) % this.maxPackets;
    this.count -= 1;
    this.bytes -= e === undefined ? 0 : (e.caplen ?? e.data.length);
  }
}
