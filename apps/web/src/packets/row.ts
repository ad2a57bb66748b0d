/**
 * A packet as the packet list shows it: Wireshark's columns (time, node, interface,
 * direction, source, destination, protocol, info) computed once when the packet
 * arrives, plus what the filter and the same-packet matching ask of it.
 */
import { protocolOf } from '@nslab/model';
import type { NodePacketEvent, PacketLayer, PacketProtocol } from '@nslab/model';
import { samePacketKey } from './match';

/** One row of the packet list. */
export interface PacketRow {
  /** Arrival order in this page: the row's identity. */
  seq: number;
  event: NodePacketEvent;
  protocol: PacketProtocol;
  /** The innermost network-layer source and destination (IP, or ARP's sender and target, or MACs). */
  src: string;
  dst: string;
  /** The summary without the addresses the columns already show. */
  info: string;
  /** Every address in every layer (outer and inner IP, ARP, MAC), for the filter. */
  addresses: string[];
  /** TCP and UDP ports in every layer, for the filter. */
  ports: number[];
  /** Which packet this is on every hop (see match.ts), or null when it cannot be told. */
  key: string | null;
}

/** The innermost source and destination a learner reads first. */
export function endpointsOf(layers: readonly PacketLayer[]): { src: string; dst: string } {
  let src = '';
  let dst = '';
  for (const layer of layers) {
    switch (layer.kind) {
      case 'ipv4':
      case 'ipv6':
        src = layer.src;
        dst = layer.dst;
        break;
      case 'arp':
        src = layer.senderIp;
        dst = layer.targetIp;
        break;
      case 'ethernet':
        // Only when nothing better follows: an inner IP header overrides it.
        src = layer.src;
        dst = layer.dst;
        break;
      default:
        break;
    }
  }
  return { src, dst };
}

/** Every address and port a packet carries, for the filter. */
export function addressesOf(layers: readonly PacketLayer[]): { addresses: string[]; ports: number[] } {
  const addresses: string[] = [];
  const ports: number[] = [];
  for (const layer of layers) {
    switch (layer.kind) {
      case 'ipv4':
      case 'ipv6':
      case 'ethernet':
        addresses.push(layer.src, layer.dst);
        break;
      case 'arp':
        addresses.push(layer.senderIp, layer.targetIp, layer.senderMac, layer.targetMac);
        break;
      case 'tcp':
      case 'udp':
        ports.push(layer.srcPort, layer.dstPort);
        break;
      default:
        break;
    }
  }
  return { addresses, ports };
}

/** The summary with its leading "IP a > b: " dropped, since the columns show the addresses. */
export function infoOf(summary: string): string {
  const m = /^IP6? \S+ > \S+: (.*)$/s.exec(summary);
  return m?.[1] ?? summary;
}

/** The row of a packet. */
export function toRow(event: NodePacketEvent, seq: number): PacketRow {
  const { src, dst } = endpointsOf(event.layers);
  const { addresses, ports } = addressesOf(event.layers);
  return { seq, event, protocol: protocolOf(event), src, dst, info: infoOf(event.summary), addresses, ports, key: samePacketKey(event) };
}
