/**
 * The commands the capture engine runs, as argv arrays built from values that were
 * validated before they got here (a kernel namespace name from the lab, an address
 * literal checked by `parseDestination`). Pure: nothing here runs anything.
 */
import { existsSync } from 'node:fs';

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

/** A sysctl's value inside a namespace, read from /proc/sys; undefined for a name that is not a dotted sysctl name (it becomes a path). */
export function sysctlReadArgv(netns: string, name: string): string[] | undefined {
  const path = sysctlPath(name);
  return path === undefined ? undefined : ['ip', 'netns', 'exec', netns, 'cat', path];
}

/**
 * The /proc/sys path of a dotted sysctl name. An interface's own settings
 * (net.ipv4.conf.IFNAME.KEY) keep the interface name whole: "eth0.100" is a name.
 */
export function sysctlPath(name: string): string | undefined {
  const conf = /^net\.(ipv4|ipv6)\.(conf|neigh)\.([^/\s]{1,15})\.([a-z0-9_]+)$/.exec(name);
  if (conf !== null) {
    const [, family, group, iface, key] = conf;
    if (iface === '.' || iface === '..') return undefined;
    return `/proc/sys/net/${family}/${group}/${iface}/${key}`;
  }
  if (!/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/.test(name)) return undefined;
  return `/proc/sys/${name.split('.').join('/')}`;
}

/**
 * The TCP/UDP probe: python3 (already needed by the install) connects from a chosen
 * source port, so the trace knows the flow before it starts. TCP: a real connect
 * (SYN, then SYN-ACK or RST); UDP: one datagram, then an answer, an ICMP error
 * (ECONNREFUSED on a connected socket) or silence. It prints one word:
 * connected, answered, refused, timeout, or "error: ...".
 */
export const PROBE_SCRIPT = [
  'import socket, sys',
  'proto, dst, port, sport, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])',
  'fam = socket.AF_INET6 if ":" in dst else socket.AF_INET',
  's = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)',
  's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
  's.bind(("", sport))',
  's.settimeout(wait)',
  'code = 1',
  'try:',
  '    s.connect((dst, port))',
  '    if proto == "tcp":',
  '        out = "connected"; code = 0',
  '    else:',
  '        s.send(b"nslab trace\\n"); s.recv(2048); out = "answered"; code = 0',
  'except socket.timeout:',
  '    out = "timeout"',
  'except ConnectionRefusedError:',
  '    out = "refused"',
  'except OSError as e:',
  '    out = "error: " + (e.strerror or str(e))',
  'print(out)',
  'sys.exit(code)',
].join('\n');

/**
 * Debian's python3 (install.sh installs it) when present: a version manager's shim
 * earlier on PATH (pyenv) was measured here taking 3.3 s to start, longer than a trace waits.
 */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** One TCP connection attempt or UDP datagram from a namespace, from source port `sport`. */
export function probeArgv(netns: string, proto: 'tcp' | 'udp', destination: string, port: number, sport: number, waitSeconds: number): string[] {
  // The runner refuses argv words with newlines: the script travels as one Python string literal (JSON's escapes are Python's).
  return ['ip', 'netns', 'exec', netns, PYTHON, '-c', `exec(${JSON.stringify(PROBE_SCRIPT)})`, proto, destination, String(port), String(sport), String(waitSeconds)];
}
