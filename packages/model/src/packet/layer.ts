/**
 * The decoded layers of a packet: one tagged variant per protocol, each defined in
 * its own file, and the contract every layer decoder follows. Decoding stops at the
 * first layer that cannot be decoded; that layer becomes `truncated` or `unknown`.
 */
import type { ArpLayer } from './arp';
import type { EthernetLayer } from './ethernet';
import type { IcmpLayer } from './icmp';
import type { Icmpv6Layer } from './icmpv6';
import type { Ipv4Layer } from './ipv4';
import type { Ipv6Layer } from './ipv6';
import type { SllLayer } from './sll';
import type { Sll2Layer } from './sll2';
import type { TcpLayer } from './tcp';
import type { UdpLayer } from './udp';
import type { VxlanLayer } from './vxlan';

/** A layer whose header is cut short by the snap length or a short packet: where decoding stopped. */
export interface TruncatedLayer {
  kind: 'truncated';
  /** The layer being decoded, e.g. "tcp". */
  protocol: string;
  /** Bytes that layer's header needs. */
  need: number;
  /** Bytes that were there. */
  have: number;
}

/** A layer nslab does not decode, or a header too malformed to trust: where decoding stopped. */
export interface UnknownLayer {
  kind: 'unknown';
  /** What it is, in tcpdump's words where it has some: "ethertype 0x88cc", "ip-proto 47". */
  protocol: string;
  /** Bytes left from here to the end of the captured data. */
  length: number;
}

/** One decoded layer, outermost first in `PacketEvent.layers`. */
export type PacketLayer =
  | Sll2Layer
  | SllLayer
  | EthernetLayer
  | ArpLayer
  | Ipv4Layer
  | Ipv6Layer
  | IcmpLayer
  | Icmpv6Layer
  | TcpLayer
  | UdpLayer
  | VxlanLayer
  | TruncatedLayer
  | UnknownLayer;

/** The `kind` tags of every layer. */
export type PacketLayerKind = PacketLayer['kind'];

/** Which table the next layer is looked up in (see registry.ts). */
export type NextSpace = 'linktype' | 'ethertype' | 'ipproto' | 'udpport';

/** What a decoder says follows its header. */
export interface NextLayer {
  space: NextSpace;
  value: number;
}

/** A decoder's result: its layer, and where and what its payload is. */
export interface Decoded {
  layer: PacketLayer;
  /** Offset of the payload in the packet bytes. */
  payload: number;
  /** End of the payload (exclusive): captured bytes, trimmed to this header's length field. */
  end: number;
  /** The payload length this header declares (can exceed end - payload when the capture was cut). */
  length: number;
  /** The next layer to decode, or null when this is the last one nslab decodes. */
  next: NextLayer | null;
  /** A layer appended after `layer` when decoding stops inside this header (IPv6 extension headers). */
  trailer?: TruncatedLayer | UnknownLayer;
}

/**
 * The contract of a layer file. The registry checks `minLength` before calling
 * `decode`, so `decode` may read its fixed header without bounds checks; anything
 * variable-length it must check against `end` itself. `decode` never throws.
 */
export interface LayerDecoder {
  /** The layer's name in truncated layers and logs. */
  name: string;
  /** Bytes of fixed header needed before `decode` is called. */
  minLength: number;
  /** Decodes the header at `start`; `length` is what the outer layer declared for it. */
  decode(bytes: Uint8Array, start: number, end: number, length: number): Decoded;
}

/** A result for a header that cannot be decoded: the layer, and no payload. */
export function stopAt(layer: TruncatedLayer | UnknownLayer, start: number, end: number): Decoded {
  return { layer, payload: start, end, length: end - start, next: null };
}

/** Ends an exhaustive switch over tags: the compiler proves it unreachable. */
export function unreachableLayer(value: never): never {
  throw new Error(`unhandled packet layer variant: ${JSON.stringify(value)}`);
}
