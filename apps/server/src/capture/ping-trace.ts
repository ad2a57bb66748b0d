/**
 * pingTrace: one ping from one node of a lab, followed hop by hop through every
 * namespace of the lab (DESIGN.md section 6), and when it fails, where it was last
 * seen and why, in words a learner can act on.
 */
import { canonicalIp, ifnameProblem, parseIp, type NodePacketEvent, type PingHop, type PingOutput, type PingTraceResult, type TracedEcho } from '@nslab/model';
import { readNetns } from '../kernel/observe';
import { CommandError, run } from '../kernel/runner';
import { forwardingArgv, pingArgv, routeGetArgv } from './argv';
import { NetnsCapture, type CaptureEvent } from './capture';
import { findEcho, traceHops, unansweredNeighbours } from './ping-hops';

/** ping -W: seconds to wait for the reply. 2 s covers a lab's sub-millisecond RTTs and an ARP that needs retries. */
export const PING_WAIT_SECONDS = 2;
/** After ping exits, packets still in flight to other namespaces (a reply's last hops) are waited for this long. */
const SETTLE_MS = 50;
/**
 * tcpdump -s for trace captures: the headers of an echo even inside VXLAN over IPv6
 * (20 SLL2 + 40 IPv6 + 8 UDP + 8 VXLAN + 14 Ethernet + 40 IPv6 + extension headers
 * + 8 ICMPv6) fit in 256; 512 leaves room. Small frames keep TPACKET_V2's ring
 * (immediate mode) at thousands of frames in the default buffer.
 */
const TRACE_SNAPLEN = 512;
/** A trace keeps at most this many candidate packets (echoes, ARP, ND), so a flood in the lab cannot grow it without bound. */
const MAX_TRACE_EVENTS = 50_000;

/** One namespace of the lab: its node name and kernel name. */
export interface TraceNamespace {
  node: string;
  netns: string;
}

/** What to trace. */
export interface PingTraceRequest {
  /** Every namespace of the lab: each is captured, so every hop inside the lab is seen. */
  namespaces: readonly TraceNamespace[];
  /** The node that pings. */
  source: string;
  /** An IPv4 or IPv6 literal (IPv6 link-local may carry a zone: "fe80::1%eth0"). */
  destination: string;
  waitSeconds?: number;
}

/** A trace that cannot run: a bad destination, an unknown source node. */
export class PingTraceError extends Error {
  constructor(
    message: string,
    readonly request: { source: string; destination: string },
  ) {
    super(message);
    this.name = 'PingTraceError';
  }
}

/** A validated ping destination. */
export interface Destination {
  /** Canonical address text, as the decoder writes addresses. */
  address: string;
  family: 4 | 6;
  /** The IPv6 zone (an interface name), if given. */
  zone?: string;
  /** What goes on ping's command line. */
  argument: string;
}

/** Checks that a destination is an address literal (never a host name, an option or anything else) before it reaches argv. */
export function parseDestination(text: string): Destination | string {
  const [address = '', zone, ...more] = text.split('%');
  if (more.length > 0) return `"${text}" is not an IP address: it has more than one '%'`;
  const ip = parseIp(address);
  const canonical = canonicalIp(address);
  if (ip === undefined || canonical === undefined) return `"${text}" is not an IPv4 or IPv6 address (host names are not looked up: give an address such as 10.0.0.2 or fd00::2)`;
  if (zone === undefined) return { address: canonical, family: ip.family, argument: canonical };
  if (ip.family !== 6) return `"${text}": only IPv6 addresses take a zone ("%eth0")`;
  const problem = ifnameProblem(zone);
  if (problem !== undefined) return `"${text}": the zone must be an interface name: ${problem}`;
  return { address: canonical, family: 6, zone, argument: `${canonical}%${zone}` };
}

/** Runs one traced ping. Captures run in immediate mode in every namespace of the lab, and are stopped before this returns. */
export async function pingTrace(request: PingTraceRequest): Promise<PingTraceResult> {
  const who = { source: request.source, destination: request.destination };
  const dest = parseDestination(request.destination);
  if (typeof dest === 'string') throw new PingTraceError(dest, who);
  const source = request.namespaces.find((n) => n.node === request.source);
  if (source === undefined) throw new PingTraceError(`there is no node "${request.source}" in this lab to ping from`, who);
  const waitSeconds = Math.max(1, Math.min(10, Math.round(request.waitSeconds ?? PING_WAIT_SECONDS)));

  const events: NodePacketEvent[] = [];
  const keep = (e: CaptureEvent) => {
    if (e.kind !== 'packet' || events.length >= MAX_TRACE_EVENTS) return;
    const top = e.packet.layers.some((l) => l.kind === 'icmp' || l.kind === 'icmpv6' || l.kind === 'arp');
    if (top) events.push(e.packet);
  };
  const captures = request.namespaces.map((n) => new NetnsCapture(n.netns, n.node, { immediate: true, snaplen: TRACE_SNAPLEN, ringPackets: 1 }));
  for (const c of captures) c.subscribe(keep);
  let ping: PingOutput;
  let dropped = 0;
  try {
    const started = await Promise.allSettled(captures.map((c) => c.start()));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const result = await run(pingArgv(source.netns, dest.argument, waitSeconds), { allowFailure: true, timeoutMs: (waitSeconds + 5) * 1000 });
    ping = { stdout: result.stdout, stderr: result.stderr, code: result.code };
    await new Promise((r) => setTimeout(r, SETTLE_MS));
  } finally {
    const ends = await Promise.all(captures.map((c) => c.stop()));
    dropped = ends.reduce((n, e) => n + (e.droppedByKernel ?? 0), 0);
  }

  const echo = findEcho(events, request.source, dest.address);
  const hops = echo === null ? [] : traceHops(events, echo);
  const ok = ping.code === 0 && hops.some((h) => h.type === 'reply' && h.node === request.source && h.direction !== 'out');
  const lastSeen = hops[hops.length - 1] ?? null;
  const result: PingTraceResult = { ok, source: request.source, destination: dest.address, echo, hops, lastSeen: ok ? null : lastSeen, cause: null, dropped, ping };
  if (!ok) result.cause = await explainFailure(request, dest, hops, events, ping, kernelFacts(request.namespaces));
  return result;
}

/** What the failure analysis asks of the kernel; an interface so the wording can be tested without one. */
export interface KernelFacts {
  /** Whether a node forwards packets of a family (undefined when it cannot be read). */
  forwarding(node: string, family: 4 | 6): Promise<boolean | undefined>;
  /** The route a node would use to an address, or why it has none. */
  route(node: string, address: string): Promise<{ ok: true; dev?: string; gateway?: string } | { ok: false; reason: string }>;
  /** The node that has an address on one of its interfaces. */
  ownerOf(address: string): Promise<string | undefined>;
}

/** KernelFacts read from the lab's namespaces with ip and /proc. */
export function kernelFacts(namespaces: readonly TraceNamespace[]): KernelFacts {
  const netnsOf = (node: string) => namespaces.find((n) => n.node === node)?.netns;
  let owners: Promise<Map<string, string>> | null = null;
  return {
    async forwarding(node, family) {
      const netns = netnsOf(node);
      if (netns === undefined) return undefined;
      const r = await run(forwardingArgv(netns, family), { allowFailure: true, timeoutMs: 5_000 });
      return r.code === 0 ? r.stdout.trim() !== '0' : undefined;
    },
    async route(node, address) {
      const netns = netnsOf(node);
      if (netns === undefined) return { ok: false, reason: `${node} is not in this lab` };
      try {
        const r = await run(routeGetArgv(netns, address), { timeoutMs: 5_000 });
        // `ip -j route get` prints one route object: [{dst, gateway?, dev, prefsrc, ...}].
        const [route] = JSON.parse(r.stdout) as { dev?: string; gateway?: string }[];
        const out: { ok: true; dev?: string; gateway?: string } = { ok: true };
        if (route?.dev !== undefined) out.dev = route.dev;
        if (route?.gateway !== undefined) out.gateway = route.gateway;
        return out;
      } catch (err) {
        const said = err instanceof CommandError ? err.stderr.replace(/^RTNETLINK answers:\s*/, '').trim() : String(err);
        return { ok: false, reason: said.toLowerCase() || 'no route' };
      }
    },
    async ownerOf(address) {
      owners ??= (async () => {
        const map = new Map<string, string>();
        await Promise.all(
          namespaces.map(async (n) => {
            const reading = await readNetns(n.netns, false).catch(() => undefined);
            for (const iface of Object.values(reading?.namespace.interfaces ?? {})) {
              for (const cidr of iface.addresses) {
                const ip = canonicalIp(cidr.split('/')[0] ?? '');
                if (ip !== undefined) map.set(ip, n.node);
              }
            }
          }),
        );
        return map;
      })();
      return (await owners).get(address);
    },
  };
}

/**
 * Why an echo did not come back, from where it was last seen. The order of the
 * questions follows the packet: was it sent at all (route, ARP), did it reach the
 * destination (forwarding, routes, ARP on the way, firewall), was it answered
 * (route back), did the answer come home (the same questions on the way back).
 */
export async function explainFailure(
  request: { source: string },
  dest: Destination,
  hops: readonly PingHop[],
  events: readonly NodePacketEvent[],
  ping: PingOutput,
  facts: KernelFacts,
): Promise<string> {
  const source = request.source;
  const unanswered = unansweredNeighbours(events);
  const neighbourWord = dest.family === 4 ? 'ARP requests' : 'neighbour solicitations';
  const noAnswer = (node: string): string | null => {
    const targets = unanswered.get(node);
    return targets === undefined ? null : `${node} sent ${neighbourWord} for ${targets.join(', ')} that nobody answered`;
  };
  const requests = hops.filter((h) => h.type === 'request');
  const replies = hops.filter((h) => h.type === 'reply');

  if (!requests.some((h) => h.node === source)) {
    const route = await facts.route(source, dest.address);
    if (!route.ok) return `no route from ${source} to ${dest.address} (${route.reason})`;
    return noAnswer(source) ?? `${source} sent no echo request to ${dest.address}${pingSaid(ping)}`;
  }

  const destinationNode = await facts.ownerOf(dest.address);
  const arrived = requests.find((h) => h.node === destinationNode && h.direction !== 'out');
  if (arrived === undefined) {
    return stuck('echo request', requests[requests.length - 1] as PingHop, dest.address, destinationNode, dest.family, facts, noAnswer);
  }
  if (replies.length === 0) {
    // The source as the destination saw it (after any NAT on the way).
    const back = arrived.src;
    const route = await facts.route(arrived.node, back);
    if (!route.ok) return `the echo request reached ${arrived.node} on ${arrived.interface} from ${back}, but ${arrived.node} has no route back to ${back} (${route.reason})`;
    return (
      noAnswer(arrived.node) ??
      `the echo request reached ${arrived.node} on ${arrived.interface} but ${arrived.node} did not answer it: check net.ipv${dest.family}.icmp_echo_ignore_all and its firewall (ip netns exec ${arrived.node} iptables -L INPUT -v -n)`
    );
  }
  const last = replies[replies.length - 1] as PingHop;
  return stuck('echo reply', last, last.dst, await facts.ownerOf(last.dst), dest.family, facts, noAnswer);
}

/** Why a packet last seen at `last` did not go on towards `target` (owned by `targetNode`, if in the lab). */
async function stuck(
  what: string,
  last: PingHop,
  target: string,
  targetNode: string | undefined,
  family: 4 | 6,
  facts: KernelFacts,
  noAnswer: (node: string) => string | null,
): Promise<string> {
  const { node, interface: iface } = last;
  if (last.direction === 'out') {
    return (
      noAnswer(node) ??
      `the ${what} left ${node} on ${iface} but no namespace of the lab saw it arrive: is the other end of ${iface} down, or outside the lab${targetNode === undefined ? ` (no node of the lab has ${target})` : ''}?`
    );
  }
  const forwarding = await facts.forwarding(node, family);
  if (forwarding === false) {
    const sysctl = family === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
    return `the ${what} reached ${node} on ${iface} but never left: forwarding is off in ${node} (${sysctl} = 0)`;
  }
  const route = await facts.route(node, target);
  if (!route.ok) return `the ${what} reached ${node} on ${iface}, but ${node} has no route to ${target} (${route.reason})`;
  return (
    noAnswer(node) ??
    `the ${what} reached ${node} on ${iface} but never left${route.dev !== undefined ? ` towards ${route.dev}` : ''}: a firewall rule in ${node} may drop it (ip netns exec ${node} iptables -L FORWARD -v -n)`
  );
}

function pingSaid(ping: PingOutput): string {
  const line = (ping.stderr.trim() || ping.stdout.trim()).split('\n')[0];
  return line ? ` (ping said: ${line})` : '';
}
