/**
 * One packet as one capture saw it: where (node, interface) and when at once, its
 * decode only when something asks for it, and then once. Under a flood most packets
 * are only counted by each client's limiter, which needs the protocol alone
 * (`peekProtocol` reads it from the bytes), so the layers, the address strings and
 * the summary line are built only for the packets a client is sent or a trace keeps.
 */
import { decodePacket, peekProtocol, protocolOf, type NodePacketEvent, type PacketProtocol, type PcapRecord } from '@nslab/model';

/** A captured packet, placed in the lab and decoded on demand. */
export class Sighting {
  /** The lab node whose namespace saw it. */
  readonly node: string;
  /** The interface it crossed, by name in that namespace. */
  readonly interface: string;
  private decoded: NodePacketEvent | undefined;
  private top: PacketProtocol | undefined;

  /** @param record the pcap record; its bytes are never written to again (capture.ts keeps them for export too) */
  constructor(
    readonly record: PcapRecord,
    readonly ifindex: number | null,
    node: string,
    iface: string,
  ) {
    this.node = node;
    this.interface = iface;
  }

  /** Capture time, seconds since the epoch. */
  get time(): number {
    return this.record.time;
  }

  /** The record's stamp and bytes, as the kept ring and its .pcap export read them (ring.ts RingEntry). */
  get sec(): number {
    return this.record.sec;
  }

  get nsec(): number {
    return this.record.nsec;
  }

  get origLen(): number {
    return this.record.origLen;
  }

  get data(): Uint8Array {
    return this.record.data;
  }

  /** Bytes on the wire (as `PacketEvent.length`). */
  get length(): number {
    return Math.max(this.record.origLen, this.record.data.length);
  }

  /** The protocol it is counted and coloured by: peeked from the bytes, or from the full decode when the peek cannot tell. */
  get protocol(): PacketProtocol {
    this.top ??= peekProtocol(this.record.data, this.record.linktype) ?? protocolOf(this.event);
    return this.top;
  }

  /**
   * What names this sighting in any capture of the same namespace: the kernel stamps a
   * packet once for every packet socket that sees it, so two tcpdumps of one namespace
   * report the same time (to the nanosecond), length and interface index for it.
   */
  get key(): string {
    return `${this.record.sec}.${this.record.nsec}/${this.record.origLen}/${this.ifindex ?? ''}`;
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
