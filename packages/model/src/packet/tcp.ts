/** TCP (IP protocol 6, RFC 9293): ports, sequence numbers, flags and window. Options are skipped. */
import { u16, u32 } from './bytes';
import type { LayerDecoder } from './layer';
import { stopAt } from './layer';

/** The TCP header without options (data offset 5). */
const TCP_MIN_HEADER = 20;

/** TCP flag names, in the order tcpdump prints their letters (print-tcp.c's tcp_flag_values). */
export type TcpFlag = 'FIN' | 'SYN' | 'RST' | 'PSH' | 'ACK' | 'URG' | 'ECE' | 'CWR';

/** Each flag's bit in header byte 13 (RFC 9293, RFC 3168) and tcpdump's letter for it. */
const FLAGS: readonly { name: TcpFlag; bit: number; letter: string }[] = [
  { name: 'FIN', bit: 0x01, letter: 'F' },
  { name: 'SYN', bit: 0x02, letter: 'S' },
  { name: 'RST', bit: 0x04, letter: 'R' },
  { name: 'PSH', bit: 0x08, letter: 'P' },
  { name: 'ACK', bit: 0x10, letter: '.' },
  { name: 'URG', bit: 0x20, letter: 'U' },
  { name: 'ECE', bit: 0x40, letter: 'E' },
  { name: 'CWR', bit: 0x80, letter: 'W' },
];

/** A decoded TCP header. Sequence numbers are absolute (tcpdump -S). */
export interface TcpLayer {
  kind: 'tcp';
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: TcpFlag[];
  window: number;
  headerLength: number;
  /** Payload bytes the IP header implies (not how many were captured). */
  payloadLength: number;
}

/** tcpdump's flag letters: ["SYN","ACK"] -> "S.". */
export function tcpFlagLetters(flags: readonly TcpFlag[]): string {
  let out = '';
  for (const f of FLAGS) if (flags.includes(f.name)) out += f.letter;
  return out === '' ? 'none' : out;
}

/** The TCP decoder. */
export const tcp: LayerDecoder = {
  name: 'tcp',
  minLength: TCP_MIN_HEADER,
  decode(bytes, start, end, length) {
    const headerLength = ((bytes[start + 12] ?? 0) >> 4) * 4;
    if (headerLength < TCP_MIN_HEADER) {
      return stopAt({ kind: 'unknown', protocol: `TCP header length ${headerLength} (bad)`, length: end - start }, start, end);
    }
    const bits = bytes[start + 13] ?? 0;
    const flags: TcpFlag[] = [];
    for (const f of FLAGS) if ((bits & f.bit) !== 0) flags.push(f.name);
    const payload = Math.min(start + headerLength, end);
    return {
      layer: {
        kind: 'tcp',
        srcPort: u16(bytes, start),
        dstPort: u16(bytes, start + 2),
        seq: u32(bytes, start + 4),
        ack: u32(bytes, start + 8),
        flags,
        window: u16(bytes, start + 14),
        headerLength,
        payloadLength: Math.max(0, length - headerLength),
      },
      payload,
      end,
      length: Math.max(0, length - headerLength),
      next: null,
    };
  },
};
