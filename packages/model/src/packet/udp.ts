/** UDP (IP protocol 17, RFC 768). The destination port picks the next layer (VXLAN). */
import { u16 } from './bytes';
import type { LayerDecoder } from './layer';

/** source port 2, destination port 2, length 2, checksum 2. */
const UDP_HEADER = 8;

/** A decoded UDP header. */
export interface UdpLayer {
  kind: 'udp';
  srcPort: number;
  dstPort: number;
  /** The UDP length field (header and payload). */
  length: number;
  payloadLength: number;
}

/** The UDP decoder. */
export const udp: LayerDecoder = {
  name: 'udp',
  minLength: UDP_HEADER,
  decode(bytes, start, end, declared) {
    const field = u16(bytes, start + 4);
    // A length below the header size is malformed; a zero one is a GSO/jumbo super-packet: use what the IP header says.
    const length = field >= UDP_HEADER ? field : declared;
    const dstPort = u16(bytes, start + 2);
    return {
      layer: { kind: 'udp', srcPort: u16(bytes, start), dstPort, length, payloadLength: Math.max(0, length - UDP_HEADER) },
      payload: start + UDP_HEADER,
      end: Math.max(start + UDP_HEADER, Math.min(end, start + length)),
      length: Math.max(0, length - UDP_HEADER),
      next: { space: 'udpport', value: dstPort },
    };
  },
};
