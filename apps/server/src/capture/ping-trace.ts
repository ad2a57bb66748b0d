/**
 * pingTrace: one traced packet from one node of a lab (an ICMP echo, a TCP
 * connection attempt to a port, a UDP datagram to a port), followed hop by hop
 * through every namespace of the lab (DESIGN.md section 6) with every NAT rewrite,
 * the netfilter rules it met (the kernel's own trace), the conntrack entries that
 * link the rewrites, and when it fails, where it was last seen and why, in words a
 * learner can act on.
 */
import { randomInt } from 'node:crypto';
import { canonicalIp, ifnameProblem, parseIp, type ConntrackEntry, type NodePacketEvent, type PingHop, type PingOutput, type PingTraceResult, type RuleVerdict, type TraceProto } from '@nslab/model';
import { readNetns } from '../kernel/observe';
import { CommandError, run } from '../kernel/runner';
import { forwardingArgv, pingArgv, probeArgv, routeGetArgv, sysctlReadArgv } from './argv';
import { NetnsCapture, type CaptureEvent } from './capture';
import { isTracedFlow, readConntrack } from './conntrack';
import { flowHops } from './flow-hops';
import { NfTrace, spellAsIptables, verdictsOf, type TracedHeader } from './nftrace';
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
  /** What to send: an ICMP echo (the default), a TCP connection attempt or a UDP datagram. */
  proto?: TraceProto;
  /** TCP and UDP: the destination port. */
  port?: number;
  waitSeconds?: number;
}

/** The first port the TCP/UDP probe may send from; above Linux's ephemeral range start (32768) and below its end (60999). */
const PROBE_PORT_MIN = 40_000;
/** One past the last port the probe may send from. */
const PROBE_PORT_MAX = 60_000;

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
  const proto = request.proto ?? 'icmp';
  if (proto === 'icmp' && request.port !== undefined) throw new PingTraceError('an ICMP echo has no port: trace tcp or udp to give one', who);
  if (proto !== 'icmp' && (request.port === undefined || !Number.isInteger(request.port) || request.port < 1 || request.port > 65535)) {
    throw new PingTraceError(`a ${proto} trace needs the destination port, a whole number from 1 to 65535`, who);
  }
  const waitSeconds = Math.max(1, Math.min(10, Math.round(request.waitSeconds ?? PING_WAIT_SECONDS)));
  const sport = proto === 'icmp' ? undefined : randomInt(PROBE_PORT_MIN, PROBE_PORT_MAX);

  const events: NodePacketEvent[] = [];
  const keep = (e: CaptureEvent) => {
    if (e.kind !== 'packet' || events.length >= MAX_TRACE_EVENTS) return;
    const packet = e.packet.event;
    const top = packet.layers.some((l) => l.kind === 'icmp' || l.kind === 'icmpv6' || l.kind === 'arp' || (proto !== 'icmp' && l.kind === proto));
    if (top) events.push(packet);
  };
  const captures = request.namespaces.map((n) => new NetnsCapture(n.netns, n.node, { immediate: true, snaplen: TRACE_SNAPLEN, ringPackets: 1 }));
  for (const c of captures) c.subscribe(keep);
  const nft = new NfTrace(request.namespaces, { proto, family: dest.family, ...(sport !== undefined ? { sport } : {}) });
  let ping: PingOutput;
  // Set in the try and its finally: read only when the try completed.
  let dropped: number;
  let tracing: boolean;
  let traced: Awaited<ReturnType<NfTrace['stop']>>;
  try {
    const [started, nftReady] = await Promise.all([Promise.allSettled(captures.map((c) => c.start())), nft.start()]);
    tracing = nftReady;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const argv = sport === undefined ? pingArgv(source.netns, dest.argument, waitSeconds) : probeArgv(source.netns, proto as 'tcp' | 'udp', dest.argument, request.port as number, sport, waitSeconds);
    const result = await run(argv, { allowFailure: true, timeoutMs: (waitSeconds + 10) * 1000 });
    ping = { stdout: result.stdout, stderr: result.stderr, code: result.code };
    await new Promise((r) => setTimeout(r, SETTLE_MS));
  } finally {
    const [ends, nftLines] = await Promise.all([Promise.all(captures.map((c) => c.stop())), nft.stop()]);
    dropped = ends.reduce((n, e) => n + (e.droppedByKernel ?? 0), 0);
    traced = nftLines;
  }

  const echo = proto === 'icmp' ? findEcho(events, request.source, dest.address) : null;
  const hops = proto === 'icmp' ? (echo === null ? [] : traceHops(events, echo)) : flowHops(events, { proto, sport: sport as number }, request.source);
  const direction = (h: TracedHeader): 'request' | 'reply' | undefined => {
    if (proto === 'icmp') {
      if (echo !== null && h.icmpId !== undefined && h.icmpId !== echo.id) return undefined;
      return h.icmpType === 'echo-request' ? 'request' : h.icmpType === 'echo-reply' ? 'reply' : undefined;
    }
    if (h.sport === sport) return 'request';
    if (h.dport === sport || h.icmpType === 'destination-unreachable') return 'reply';
    return undefined;
  };
  const rules = tracing ? verdictsOf(traced, nft.table, direction) : [];
  const netnsOf = (node: string) => request.namespaces.find((n) => n.node === node)?.netns;
  await spellAsIptables(rules, netnsOf);
  const droppedBy = rules.find((r) => r.verdict === 'drop') ?? null;
  const conntrack = await flowConntrack(request.namespaces, { proto, src: hops[0]?.src ?? '', dst: dest.address, ...(sport !== undefined ? { sport } : {}) });

  const facts = kernelFacts(request.namespaces);
  const answered = hops.some((h) => h.type === 'reply' && h.node === request.source && h.direction !== 'out');
  let ok: boolean;
  if (proto === 'icmp') ok = ping.code === 0 && answered;
  else if (proto === 'tcp') ok = answered && hops.some((h) => h.type === 'reply' && h.what === 'SYN-ACK');
  else ok = droppedBy === null && !hops.some((h) => h.type === 'reply' && h.what !== 'UDP') && (answered || (await udpArrived(hops, facts)));
  const lastSeen = hops[hops.length - 1] ?? null;
  const result: PingTraceResult = { ok, source: request.source, destination: dest.address, echo, hops, lastSeen: ok ? null : lastSeen, cause: null, dropped, ping };
  result.flow = { proto, ...(request.port !== undefined ? { port: request.port } : {}), ...(sport !== undefined ? { sport } : {}) };
  result.rules = rules;
  result.conntrack = conntrack;
  result.droppedBy = droppedBy;
  if (!ok) result.cause = await flowCause(request, proto, dest, hops, events, ping, facts, droppedBy, tracing);
  return result;
}

/** A UDP datagram with no answer reached its destination when a node that owns the address it arrived for saw it come in. */
async function udpArrived(hops: readonly PingHop[], facts: KernelFacts): Promise<boolean> {
  for (const h of hops) {
    if (h.type === 'request' && h.direction === 'in' && (await facts.ownerOf(h.dst)) === h.node) return true;
  }
  return false;
}

/** The conntrack entries of the traced flow, from every namespace. */
async function flowConntrack(namespaces: readonly TraceNamespace[], flow: { proto: TraceProto; src: string; dst: string; sport?: number }): Promise<ConntrackEntry[]> {
  const all = await Promise.all(namespaces.map((n) => readConntrack(n.node, n.netns)));
  return all.flat().filter((e) => isTracedFlow(e, flow));
}

/** Words for the packets of each protocol. */
const WORDS: Record<TraceProto, { request: string; reply: string }> = {
  icmp: { request: 'echo request', reply: 'echo reply' },
  tcp: { request: 'SYN', reply: 'SYN-ACK' },
  udp: { request: 'UDP datagram', reply: 'UDP reply' },
};

/** Why a traced flow did not complete: a rule that dropped it (the kernel said so), a refusal, or the model's reading of the silence. */
async function flowCause(
  request: PingTraceRequest,
  proto: TraceProto,
  dest: Destination,
  hops: readonly PingHop[],
  events: readonly NodePacketEvent[],
  probe: PingOutput,
  facts: KernelFacts,
  droppedBy: RuleVerdict | null,
  tracing: boolean,
): Promise<string> {
  const words = WORDS[proto];
  if (droppedBy !== null) {
    const what = droppedBy.type === 'request' ? words.request : words.reply;
    // A policy verdict means no rule of the chain decided: the chain's own DROP (`iptables -P CHAIN DROP`) did.
    let cause = droppedBy.rule === 'policy'
      ? `the ${what} was dropped in ${droppedBy.node} by the DROP policy of chain ${droppedBy.chain} (${droppedBy.table}): no rule of the chain accepted it first, so the chain's policy decided (iptables -P ${droppedBy.chain} DROP)`
      : `the ${what} was dropped in ${droppedBy.node} by the rule "${droppedBy.rule}" (${droppedBy.table}, chain ${droppedBy.chain})`;
    const into = [...hops].reverse().find((h) => h.node === droppedBy.node && h.direction === 'in' && h.type === droppedBy.type);
    const port = into === undefined ? undefined : await facts.masterOf?.(into.node, into.interface);
    const bridged = port === undefined ? undefined : await facts.sysctl?.(droppedBy.node, 'net.bridge.bridge-nf-call-iptables');
    if (bridged === '1' && droppedBy.chain === 'FORWARD') cause += `; net.bridge.bridge-nf-call-iptables = 1 in ${droppedBy.node}, so frames its bridges switch cross iptables too`;
    return cause;
  }
  const refusal = hops.find((h) => h.type === 'reply' && (h.what === 'RST-ACK' || h.what?.startsWith('ICMP') === true));
  if (refusal !== undefined) {
    const first = hops.find((h) => h.type === 'request' && h.direction === 'in' && h.node === refusal.node);
    const target = first !== undefined ? `${first.dst}${first.dport !== undefined ? ` port ${first.dport}` : ''}` : `${dest.address} port ${request.port ?? ''}`;
    return refusal.what === 'RST-ACK'
      ? `${refusal.node} refused the connection (it answered the SYN with a reset): nothing listens on tcp ${target}`
      : `${refusal.node} answered with ${refusal.what?.replace(/^ICMP /, 'ICMP ')}: nothing listens on udp ${target}`;
  }
  const cause = await explainFailure(request, dest, hops, events, probe, facts, words, proto);
  return tracing ? cause : `${cause} (the kernel's rule tracing was unavailable, so no firewall rule could be named)`;
}

/** What the failure analysis asks of the kernel; an interface so the wording can be tested without one. */
export interface KernelFacts {
  /** Whether a node forwards packets of a family (undefined when it cannot be read). */
  forwarding(node: string, family: 4 | 6): Promise<boolean | undefined>;
  /** The route a node would use to an address, or why it has none. */
  route(node: string, address: string): Promise<{ ok: true; dev?: string; gateway?: string } | { ok: false; reason: string }>;
  /** The node that has an address on one of its interfaces. */
  ownerOf(address: string): Promise<string | undefined>;
  /** A sysctl's value in a node ("net.ipv4.conf.eth0.rp_filter"), undefined when it cannot be read. */
  sysctl?(node: string, name: string): Promise<string | undefined>;
  /** The bridge (or other master) an interface of a node is enslaved to. */
  masterOf?(node: string, iface: string): Promise<string | undefined>;
}

/**
 * Why an ARP request that reached its target went unanswered, when the target's
 * rp_filter is the reason (ARP requests are reverse-path filtered too): ": they
 * reached router on eth0 but strict reverse-path filtering dropped them: ...".
 */
async function arpFilterNotes(unanswered: Map<string, string[]>, events: readonly NodePacketEvent[], facts: KernelFacts): Promise<Map<string, string>> {
  const notes = new Map<string, string>();
  for (const [node, targets] of unanswered) {
    for (const target of targets) {
      const owner = await facts.ownerOf(target);
      const seen = events.find((e) => e.node === owner && e.direction === 'in' && e.layers.some((l) => l.kind === 'arp' && l.operation === 'request' && l.targetIp === target));
      const arp = seen?.layers.find((l) => l.kind === 'arp');
      if (seen === undefined || owner === undefined || arp?.kind !== 'arp') continue;
      const rp = await rpFilterDrop({ node: owner, interface: seen.interface, direction: 'in', time: seen.time, type: 'request', src: arp.senderIp, dst: target }, facts);
      if (rp !== null) {
        notes.set(node, `: they reached ${owner} on ${seen.interface} but ${rp}`);
        break;
      }
    }
  }
  return notes;
}

/**
 * Reverse-path filtering: a strict rp_filter (1) drops a packet that came in on an
 * interface other than the one the route back to its source leaves by, and says
 * nothing (no counter a learner sees, no firewall rule). The kernel uses the higher
 * of conf.all and the interface's own value.
 */
async function rpFilterDrop(hop: PingHop, facts: KernelFacts): Promise<string | null> {
  if (hop.direction !== 'in' || facts.sysctl === undefined || hop.src.includes(':')) return null;
  const [all, own] = await Promise.all([facts.sysctl(hop.node, 'net.ipv4.conf.all.rp_filter'), facts.sysctl(hop.node, `net.ipv4.conf.${hop.interface}.rp_filter`)]);
  const mode = Math.max(Number(all ?? 0), Number(own ?? 0));
  if (mode !== 1) return null;
  const back = await facts.route(hop.node, hop.src);
  if (back.ok && back.dev === hop.interface) return null;
  const why = back.ok ? `the route back to ${hop.src} leaves by ${back.dev ?? 'another interface'}` : `there is no route back to ${hop.src}`;
  return `strict reverse-path filtering dropped it: ${why}, not by ${hop.interface} where it came in (net.ipv4.conf.${own === '1' ? hop.interface : 'all'}.rp_filter = 1; 2 is loose, 0 is off)`;
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
    async sysctl(node, name) {
      const netns = netnsOf(node);
      const argv = netns === undefined ? undefined : sysctlReadArgv(netns, name);
      if (argv === undefined) return undefined;
      const r = await run(argv, { allowFailure: true, timeoutMs: 5_000 });
      return r.code === 0 ? r.stdout.trim() : undefined;
    },
    async masterOf(node, iface) {
      const netns = netnsOf(node);
      if (netns === undefined || ifnameProblem(iface) !== undefined) return undefined;
      const r = await run(['ip', '-n', netns, '-j', 'link', 'show', 'dev', iface], { allowFailure: true, timeoutMs: 5_000 });
      if (r.code !== 0) return undefined;
      try {
        // `ip -j link show dev X` prints [{ifname, master?, ...}].
        return (JSON.parse(r.stdout) as { master?: string }[])[0]?.master;
      } catch {
        return undefined;
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
  words: { request: string; reply: string } = WORDS.icmp,
  proto: TraceProto = 'icmp',
): Promise<string> {
  const source = request.source;
  const unanswered = unansweredNeighbours(events);
  const arpNotes = await arpFilterNotes(unanswered, events, facts);
  const neighbourWord = dest.family === 4 ? 'ARP requests' : 'neighbour solicitations';
  const noAnswer = (node: string): string | null => {
    const targets = unanswered.get(node);
    return targets === undefined ? null : `${node} sent ${neighbourWord} for ${targets.join(', ')} that nobody answered${arpNotes.get(node) ?? ''}`;
  };
  const requests = hops.filter((h) => h.type === 'request');
  const replies = hops.filter((h) => h.type === 'reply');

  if (!requests.some((h) => h.node === source)) {
    const route = await facts.route(source, dest.address);
    if (!route.ok) return `no route from ${source} to ${dest.address} (${route.reason})`;
    return noAnswer(source) ?? `${source} sent no ${words.request} to ${dest.address}${pingSaid(ping)}`;
  }

  const destinationNode = await facts.ownerOf(dest.address);
  const arrived = requests.find((h) => h.node === destinationNode && h.direction !== 'out');
  if (arrived === undefined) {
    return stuck(words.request, requests[requests.length - 1] as PingHop, dest.address, destinationNode, dest.family, facts, noAnswer);
  }
  if (replies.length === 0) {
    // The source as the destination saw it (after any NAT on the way).
    const back = arrived.src;
    const route = await facts.route(arrived.node, back);
    if (!route.ok) return `the ${words.request} reached ${arrived.node} on ${arrived.interface} from ${back}, but ${arrived.node} has no route back to ${back} (${route.reason})`;
    const rp = await rpFilterDrop(arrived, facts);
    if (rp !== null) return `the ${words.request} reached ${arrived.node} on ${arrived.interface} but ${rp}`;
    const check = proto === 'icmp' ? `check net.ipv${dest.family}.icmp_echo_ignore_all and its firewall` : `is a server listening on ${proto} port ${arrived.dport ?? ''}? check its firewall too`;
    return noAnswer(arrived.node) ?? `the ${words.request} reached ${arrived.node} on ${arrived.interface} but ${arrived.node} did not answer it: ${check} (ip netns exec ${arrived.node} iptables -L INPUT -v -n)`;
  }
  const last = replies[replies.length - 1] as PingHop;
  return stuck(words.reply, last, last.dst, await facts.ownerOf(last.dst), dest.family, facts, noAnswer);
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
  const rp = await rpFilterDrop(last, facts);
  if (rp !== null) return `the ${what} reached ${node} on ${iface} but ${rp}`;
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
