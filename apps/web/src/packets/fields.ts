/**
 * The detail pane of a packet: each layer, outermost first, as a titled list of its
 * header fields with the names a protocol's RFC (and Wireshark) uses.
 */
import type { PacketLayer } from '@nslab/model';

/** One header, field by field. */
export interface LayerDetail {
  title: string;
  fields: [name: string, value: string][];
}

const hex = (n: number, width = 4) => `0x${n.toString(16).padStart(width, '0')}`;

/** Ethertypes a learner meets, by number (IEEE registry). */
const ETHERTYPE_NAMES: Record<number, string> = { 0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: '802.1Q' };
/** IP protocol numbers a learner meets (IANA). */
const IP_PROTOCOL_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 47: 'GRE', 50: 'ESP' };

const ethertype = (n: number) => `${ETHERTYPE_NAMES[n] ?? 'unknown'} (${hex(n)})`;
const ipProtocol = (n: number) => `${IP_PROTOCOL_NAMES[n] ?? 'unknown'} (${n})`;

/** The fields of one layer. */
export function layerDetail(layer: PacketLayer): LayerDetail {
  switch (layer.kind) {
    case 'sll2':
      return { title: 'Linux cooked capture v2', fields: [['Packet type', layer.packetType], ['Interface index', String(layer.ifindex)], ['Link-layer address', layer.address || '—'], ['Protocol', ethertype(layer.protocol)]] };
    case 'sll':
      return { title: 'Linux cooked capture', fields: [['Packet type', layer.packetType], ['Link-layer address', layer.address || '—'], ['Protocol', ethertype(layer.protocol)]] };
    case 'ethernet': {
      const fields: LayerDetail['fields'] = [['Destination', layer.dst], ['Source', layer.src], ['Type', ethertype(layer.ethertype)]];
      if (layer.vlan !== null) fields.push(['VLAN', String(layer.vlan)]);
      return { title: 'Ethernet II', fields };
    }
    case 'arp':
      return {
        title: `ARP (${layer.operation === 'request' ? 'request' : layer.operation === 'reply' ? 'reply' : `opcode ${layer.opcode}`})`,
        fields: [['Opcode', `${layer.operation} (${layer.opcode})`], ['Sender MAC', layer.senderMac], ['Sender IP', layer.senderIp], ['Target MAC', layer.targetMac], ['Target IP', layer.targetIp]],
      };
    case 'ipv4': {
      const flags = [layer.dontFragment ? "Don't fragment" : '', layer.moreFragments ? 'More fragments' : ''].filter(Boolean).join(', ') || 'none';
      return {
        title: 'Internet Protocol version 4',
        fields: [
          ['Source', layer.src], ['Destination', layer.dst], ['Identification', `${hex(layer.id)} (${layer.id})`], ['Flags', flags],
          ['Fragment offset', String(layer.fragmentOffset)], ['Time to live', String(layer.ttl)], ['Protocol', ipProtocol(layer.protocol)],
          ['Header length', `${layer.headerLength} bytes`], ['Total length', String(layer.length)],
        ],
      };
    }
    case 'ipv6':
      return {
        title: 'Internet Protocol version 6',
        fields: [
          ['Source', layer.src], ['Destination', layer.dst], ['Next header', ipProtocol(layer.nextHeader)], ['Hop limit', String(layer.hopLimit)],
          ['Flow label', hex(layer.flowLabel, 5)], ['Payload length', String(layer.payloadLength)],
          ...(layer.extensions.length > 0 ? [['Extension headers', layer.extensions.join(', ')] as [string, string]] : []),
        ],
      };
    case 'icmp':
    case 'icmpv6': {
      const fields: LayerDetail['fields'] = [['Type', `${layer.type} (${layer.name})`], ['Code', String(layer.code)]];
      if (layer.id !== undefined) fields.push(['Identifier', `${layer.id} (${hex(layer.id)})`]);
      if (layer.seq !== undefined) fields.push(['Sequence', String(layer.seq)]);
      if (layer.kind === 'icmpv6' && layer.target !== undefined) fields.push(['Target address', layer.target]);
      fields.push(['Length', String(layer.length)]);
      return { title: layer.kind === 'icmp' ? 'Internet Control Message Protocol' : 'ICMPv6', fields };
    }
    case 'tcp':
      return {
        title: 'Transmission Control Protocol',
        fields: [
          ['Source port', String(layer.srcPort)], ['Destination port', String(layer.dstPort)], ['Sequence number', String(layer.seq)],
          ['Acknowledgment number', String(layer.ack)], ['Flags', layer.flags.join(', ') || 'none'], ['Window', String(layer.window)],
          ['Header length', `${layer.headerLength} bytes`], ['Payload', `${layer.payloadLength} bytes`],
        ],
      };
    case 'udp':
      return { title: 'User Datagram Protocol', fields: [['Source port', String(layer.srcPort)], ['Destination port', String(layer.dstPort)], ['Length', String(layer.length)], ['Payload', `${layer.payloadLength} bytes`]] };
    case 'vxlan':
      return { title: 'Virtual eXtensible LAN', fields: [['VNI', String(layer.vni)], ['Flags', `${hex(layer.flags, 2)}${layer.flags & 0x08 ? ' (VNI valid)' : ''}`]] };
    case 'truncated':
      return { title: `${layer.protocol} (truncated)`, fields: [['Needed', `${layer.need} bytes`], ['Captured', `${layer.have} bytes`]] };
    case 'unknown':
      return { title: layer.protocol, fields: [['Bytes', String(layer.length)]] };
    default: {
      const never: never = layer;
      throw new Error(`unhandled layer ${JSON.stringify(never)}`);
    }
  }
}
