/** Packets: the pcap stream format, the layer decoders, and the questions asked of a decoded packet. */
export * from './pcap';
export * from './pcapng';
export * from './event';
export { peekIfindex, peekProtocol } from './peek';
export { decodeLayers } from './registry';
export { summarize as summarizePacket } from './summary';
export type { PacketLayer, PacketLayerKind, TruncatedLayer, UnknownLayer } from './layer';
export { type SllLayer, type SllPacketType, type PacketDirection, LINKTYPE_LINUX_SLL, sllPacketType, directionOfPacketType } from './sll';
export { type Sll2Layer, LINKTYPE_LINUX_SLL2 } from './sll2';
export { type EthernetLayer, LINKTYPE_ETHERNET } from './ethernet';
export type { ArpLayer } from './arp';
export type { Ipv4Layer } from './ipv4';
export type { Ipv6Layer } from './ipv6';
export { type IcmpLayer, ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY, icmpName } from './icmp';
export {
  type Icmpv6Layer,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_ECHO_REPLY,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  icmpv6Name,
} from './icmpv6';
export { type TcpLayer, type TcpFlag, tcpFlagLetters } from './tcp';
export type { UdpLayer } from './udp';
export { type VxlanLayer, VXLAN_UDP_PORTS } from './vxlan';
export { macText, ipv4Text, ipv6Text } from './address-text';
export * from './trace';
