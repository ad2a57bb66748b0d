/**
 * Packets for unit tests, built from layers the way the server's decoder emits them
 * for `tcpdump -i any` (an SLL2 header first). Test-only: imported by *.test.ts.
 */
import { summarizePacket } from '@nslab/model';
import type { NodePacketEvent, PacketLayer } from '@nslab/model';

/** A packet seen at node:iface going `direction` at `time`, with these layers after SLL2. */
export function packet(node: string, iface: string, direction: 'in' | 'out', time: number, layers: PacketLayer[]): NodePacketEvent {
  const all: PacketLayer[] = [{ kind: 'sll2', protocol: 0x0800, ifindex: 2, hatype: 1, packetType: direction === 'out' ? 'outgoing' : 'host', address: '02:00:00:00:00:01' }, ...layers];
  return { time, linktype: 276, ifindex: 2, direction, length: 98, caplen: 98, layers: all, summary: summarizePacket(all), node, interface: iface };
}

/** An IPv4 header. */
export function ip4(src: string, dst: string, id = 1, protocol = 1): PacketLayer {
  return { kind: 'ipv4', src, dst, ttl: 64, protocol, id, length: 84, headerLength: 20, dontFragment: true, moreFragments: false, fragmentOffset: 0 };
}

/** An ICMP echo request or reply. */
export function echo(type: 'request' | 'reply', id: number, seq: number): PacketLayer {
  return { kind: 'icmp', type: type === 'request' ? 8 : 0, code: 0, name: type === 'request' ? 'echo request' : 'echo reply', id, seq, length: 64 };
}

/** An ARP request: who has `target`, tell `sender`. */
export function arpRequest(sender: string, target: string, mac = '02:00:00:00:00:01'): PacketLayer {
  return { kind: 'arp', operation: 'request', opcode: 1, senderMac: mac, senderIp: sender, targetMac: '00:00:00:00:00:00', targetIp: target, length: 28 };
}

/** A TCP header. */
export function tcp(srcPort: number, dstPort: number): PacketLayer {
  return { kind: 'tcp', srcPort, dstPort, seq: 1000, ack: 0, flags: ['SYN'], window: 64240, headerLength: 40, payloadLength: 0 };
}

/** A UDP header. */
export function udp(srcPort: number, dstPort: number): PacketLayer {
  return { kind: 'udp', srcPort, dstPort, length: 58, payloadLength: 50 };
}
