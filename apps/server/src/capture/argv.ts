/**
 * The commands the capture engine runs, as argv arrays built from values that were
 * validated before they got here (a kernel namespace name from the lab, an address
 * literal checked by `parseDestination`). Pure: nothing here runs anything.
 */

/** tcpdump's -s for buffered captures: libpcap's MAXIMUM_SNAPLEN (pcap-int.h), so no frame (not even a GSO super-packet) is cut. */
export const CAPTURE_SNAPLEN = 262144;

/**
 * tcpdump's -s for immediate-mode captures: a jumbo frame. Immediate mode makes
 * libpcap use TPACKET_V2, whose ring has fixed frames of about the snap length:
 * measured here, -s 262144 leaves 8 frames in the default 2 MiB buffer and a
 * single ping across a bridge (9 packets in 0.1 ms) lost its last packet
 * ("1 packet dropped by kernel"). 9216 gives about 220 frames; GSO super-packets
 * are cut, which the decoder handles (lengths come from the headers).
 */
export const IMMEDIATE_SNAPLEN = 9216;

/** How a capture is asked to run. */
export interface TcpdumpSettings {
  /**
   * --immediate-mode: each packet is handed over as it arrives (0.1 ms here) at the
   * price of drops under floods; without it libpcap fills a buffer first (about 50 ms
   * of delay at low rates, DESIGN.md section 6). Live ping traces want it; floods do not.
   */
  immediate: boolean;
  /** tcpdump -B, the kernel capture buffer in KiB; undefined keeps libpcap's default (2 MiB). */
  bufferKiB?: number;
  /** tcpdump -s; undefined picks IMMEDIATE_SNAPLEN or CAPTURE_SNAPLEN by mode. */
  snaplen?: number;
}

/** The snap length a capture runs with. */
export function snaplenOf(settings: TcpdumpSettings): number {
  return settings.snaplen ?? (settings.immediate ? IMMEDIATE_SNAPLEN : CAPTURE_SNAPLEN);
}

/**
 * `tcpdump -i any` inside a namespace, writing pcap with nanosecond stamps to stdout.
 * -U flushes after every packet, -n skips name lookups (they would hang in a lab
 * namespace that has no resolver), nanosecond stamps order hops on different
 * interfaces that a microsecond clock would tie. Buffered mode (TPACKET_V3) hands
 * packets over a block at a time: those in the last, unfinished block when tcpdump
 * is stopped are lost (measured: a ping 0.1 s before SIGTERM was not written).
 */
export function tcpdumpArgv(netns: string, settings: TcpdumpSettings): string[] {
  // -Z root: tcpdump would switch to its own user after opening the capture, and the kernel
  // clears the parent-death signal (runner.ts dieWithParent) on a change of user.
  const argv = ['ip', 'netns', 'exec', netns, 'tcpdump', '-Z', 'root', '-i', 'any', '-U', '-w', '-', '-n', '-s', String(snaplenOf(settings)), '--time-stamp-precision=nano'];
  if (settings.immediate) argv.push('--immediate-mode');
  if (settings.bufferKiB !== undefined) argv.push('-B', String(Math.max(1, Math.floor(settings.bufferKiB))));
  return argv;
}

/** One echo request from a namespace, waiting `waitSeconds` for the reply. */
export function pingArgv(netns: string, destination: string, waitSeconds: number): string[] {
  return ['ip', 'netns', 'exec', netns, 'ping', '-c', '1', '-W', String(waitSeconds), '-n', destination];
}

/** The route the kernel of a namespace would pick for an address. */
export function routeGetArgv(netns: string, address: string): string[] {
  return ['ip', '-n', netns, '-j', 'route', 'get', address];
}

/** The forwarding sysctl of a namespace (net.ipv4.ip_forward, or IPv6's all.forwarding). */
export function forwardingArgv(netns: string, family: 4 | 6): string[] {
  const path = family === 4 ? '/proc/sys/net/ipv4/ip_forward' : '/proc/sys/net/ipv6/conf/all/forwarding';
  return ['ip', 'netns', 'exec', netns, 'cat', path];
}
