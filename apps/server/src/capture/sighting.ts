/**
 * One packet as one capture saw it: where (node, interface) and when at once, its
 * decode only when something asks for it, and then once. Under a flood most packets
 * are only counted by each client's limiter, which needs the protocol alone
 * (`peekProtocol` reads it from the bytes), so the layers, the address strings and
 * the summary line are built only for the packets a client is sent or a trace keeps.
 */
import { decodePacket, peekProtocol, protocolOf, type NodePacketEvent, type PacketProtocol, type PcapRecord } from '@nslab/model';

/**
 * A captured packet, placed in the lab and decoded on demand. It is the one object a
 * packet costs while it is only counted and kept: its bytes stay a place in the chunk
 * the pipe delivered (no view, no record object) until a decode or an export asks.
 */
export class Sighting {
  /** The lab node whose namespace saw it. */
  readonly node: string;
  /** The interface it crossed, by name in that namespace. */
  readonly interface: string;
  private decoded: NodePacketEvent | undefined;
  private top: PacketProtocol | undefined;

  /**
   * @param bytes the chunk holding the record; never written to again (capture.ts keeps it for export too)
   * @param at where the record's data starts in it
   */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly at: number,
    readonly caplen: number,
    /** Capture time: whole seconds since the epoch, and nanoseconds within the second. */
    readonly sec: number,
    readonly nsec: number,
    /** Bytes on the wire, as the record says. */
    readonly origLen: number,
    readonly linktype: number,
    readonly ifindex: number | null,
    node: string,
    iface: string,
  ) {
    this.node = node;
    this.interface = iface;
  }

  /** Capture time, seconds since the epoch. */
  get time(): number {
    return this.sec + this.nsec / 1e9;
  }

  /** The captured bytes (a view made on each call: the ring's export and the decode ask, rarely). */
  get data(): Uint8Array {
    return this.bytes.subarray(this.at, this.at + this.caplen);
  }

  /** The pcap record, as the decoders read it. */
  get record(): PcapRecord {
    return { time: this.time, sec: this.sec, nsec: this.nsec, linktype: this.linktype, caplen: this.caplen, origLen: this.origLen, data: this.data };
  }

  /** Bytes on the wire (as `PacketEvent.length`). */
  get length(): number {
    return Math.max(this.origLen, this.caplen);
  }

  /** The protocol it is counted and coloured by: peeked from the bytes, or from the full decode when the peek cannot tell. */
  get protocol(): PacketProtocol {
    this.top ??= peekProtocol(this.bytes, this.linktype, this.at, this.at + this.caplen) ?? protocolOf(this.event);
    return this.top;
  }

  /**
   * What names this sighting in any capture of the same namespace: the kernel stamps a
   * packet once for every packet socket that sees it, so two tcpdumps of one namespace
   * report the same time (to the nanosecond), length and interface index for it.
   */
  get key(): string {
    return `${this.sec}.${this.nsec}/${this.origLen}/${this.ifindex ?? ''}`;
  }

  /** The decoded packet event, built on first use. */
  get event(): NodePacketEvent {
    if (this.decoded === undefined) {
      const e = decodePacket(this.record);
      // Built field by field: an object spread per packet showed in profiles under floods.
      this.decoded = {
        time: e.time,
        linktype: e.linktype,
        ifindex: e.ifindex,
        direction: e.direction,
        length: e.length,
        caplen: e.caplen,
        layers: e.layers,
        summary: e.summary,
        node: this.node,
        interface: this.interface,
      };
    }
    return this.decoded;
  }
}
