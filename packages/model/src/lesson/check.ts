/**
 * Checks judged on nslab's model of the live lab (pure), and the hints: what is
 * actually wrong, in the kernel's words ("forwarding is off in router
 * (net.ipv4.ip_forward = 0)", "ns2 has no route back to 10.0.1.0/24").
 * Active checks (reach, tcp, packet, output) are run by the server's probes, which
 * ask `diagnoseReach` why a packet did not make it.
 */
import type { Cidr, IpValue } from '../address';
import { canonicalCidr, canonicalIp, canonicalPrefix, contains, formatCidr, formatIp, networkOf, parseCidr, parseIp } from '../address';
import type { DnatRule, FirewallRule } from '../nat';
import { describeFirewallRule, parseDnatTarget } from '../nat';
import { assertNever } from '../never';
import { formatRoute, parseRoute, routeSatisfies } from '../route';
import type { Interface, Namespace, Topology } from '../topology';
import { linkOf } from '../topology';
import type { Check, Localized } from './schema';

/** A check's outcome: passed, failed with a hint, or not known yet (a probe is running). */
export interface CheckResult {
  id: string;
  text: Localized;
  /** null while pending. */
  passed: boolean | null;
  hint?: string;
}

/** A step's outcome: passed when every check passed. */
export interface StepResult { id: string; title: Localized; passed: boolean; checks: CheckResult[] }

/** A lesson's outcome in one lab. */
export interface LessonStatus { lesson: string; lab: string; steps: StepResult[]; passed: boolean }

/** The checks that need a probe inside the lab rather than the model. */
export const ACTIVE_KINDS: ReadonlySet<Check['kind']> = new Set(['reach', 'no-reach', 'tcp', 'packet', 'output']);

/** Sysctls the model keeps (as `forwarding`); any other is read by a probe. */
const FORWARDING_KEYS = new Set(['net.ipv4.ip_forward', 'net.ipv4.conf.all.forwarding']);

/** True when a check can be judged from the model alone. */
export function isModelCheck(check: Check): boolean {
  if (check.kind === 'sysctl') return FORWARDING_KEYS.has(check.key);
  return !ACTIVE_KINDS.has(check.kind);
}

type Verdict = { passed: boolean; hint?: string };

const ok: Verdict = { passed: true };
function fail(hint: string): Verdict {
  return { passed: false, hint };
}

/**
 * A device is down when it is set down, or its lower layer is (a veth whose peer is
 * down). An operstate of "down" on a device set up is not trusted alone: a veth just
 * created reads so for a moment before its carrier comes up.
 */
export function isDown(iface: Interface): boolean {
  return !iface.up || iface.state === 'lowerlayerdown';
}

function whereIs(topology: Topology, ifname: string): string | undefined {
  for (const [name, node] of Object.entries(topology.nodes)) if (node.interfaces[ifname]) return name;
  return undefined;
}

/** Judges a model check against the lab; `absent` inverts it. */
export function evaluateModelCheck(check: Check, topology: Topology): Verdict {
  const node = 'node' in check ? topology.nodes[check.node] : undefined;
  const noNode = 'node' in check ? fail(`there is no namespace ${check.node} in this lab (ip netns list)`) : fail('');
  switch (check.kind) {
    case 'node':
      if (check.absent) return node ? fail(`${check.node} still exists (ip netns delete ${check.node})`) : ok;
      return node ? ok : noNode;
    case 'interface': {
      if (!node) return check.absent ? ok : noNode;
      const iface = node.interfaces[check.interface];
      if (check.absent) return iface ? fail(`${check.node}:${check.interface} still exists`) : ok;
      if (!iface) {
        const elsewhere = whereIs(topology, check.interface);
        return fail(elsewhere ? `${check.interface} is in ${elsewhere}, not in ${check.node} (ip link set ${check.interface} netns ${check.node})` : `${check.node} has no device ${check.interface} (ip -n ${check.node} link)`);
      }
      if (check.type && iface.kind !== check.type) return fail(`${check.node}:${check.interface} is a ${iface.kind} device, not a ${check.type}`);
      if (check.up === true && isDown(iface)) return fail(downHint(topology, check.node, check.interface, iface));
      if (check.up === false && !isDown(iface)) return fail(`${check.node}:${check.interface} is up`);
      return ok;
    }
    case 'port': {
      if (!node) return check.absent ? ok : noNode;
      const bridge = node.interfaces[check.bridge];
      const ports = Object.entries(node.interfaces).filter(([, i]) => i.master === check.bridge).map(([n]) => n);
      const has = check.interface === undefined ? ports.length > 0 : ports.includes(check.interface);
      if (check.absent) return has ? fail(`${check.interface ?? ports[0]} is still a port of ${check.node}:${check.bridge}`) : ok;
      if (has) return ok;
      if (!bridge) return fail(`${check.node} has no bridge ${check.bridge}`);
      if (bridge.kind !== 'bridge') return fail(`${check.node}:${check.bridge} is a ${bridge.kind} device, not a bridge`);
      if (check.interface === undefined) return fail(`${check.node}:${check.bridge} has no ports`);
      const iface = node.interfaces[check.interface];
      if (!iface) return fail(`${check.node} has no device ${check.interface}${whereIs(topology, check.interface) ? ` (it is in ${whereIs(topology, check.interface)})` : ''}`);
      return fail(iface.master ? `${check.node}:${check.interface} is a port of ${iface.master}, not of ${check.bridge}` : `${check.node}:${check.interface} is not a port of any bridge (ip link set ${check.interface} master ${check.bridge})`);
    }
    case 'address': {
      if (!node) return check.absent ? ok : noNode;
      const want = canonicalCidr(check.address) ?? check.address;
      const holders = Object.entries(node.interfaces).filter(([n, i]) => (check.interface === undefined || n === check.interface) && i.addresses.includes(want)).map(([n]) => n);
      if (check.absent) return holders.length > 0 ? fail(`${check.node}:${holders[0]} still has ${want}`) : ok;
      if (holders.length > 0) return ok;
      if (check.interface !== undefined) {
        const iface = node.interfaces[check.interface];
        if (!iface) return fail(`${check.node} has no device ${check.interface}${whereIs(topology, check.interface) ? ` (it is in ${whereIs(topology, check.interface)})` : ''}`);
        return fail(`${check.node}:${check.interface} has ${iface.addresses.length > 0 ? `only ${iface.addresses.join(', ')}` : 'no address'}, not ${want}`);
      }
      return fail(`${check.node} has no address ${want}`);
    }
    case 'route': {
      if (!node) return check.absent ? ok : noNode;
      if (check.route !== undefined) {
        const parsed = parseRoute(check.route);
        if (!parsed.ok) return fail(parsed.message);
        const found = node.routes.some((r) => routeSatisfies(r, parsed.route) || (parsed.route.metric === undefined && routeSatisfies({ ...r, metric: undefined }, parsed.route)));
        if (check.absent) return found ? fail(`${check.node} still has the route ${check.route}`) : ok;
        if (found) return ok;
        const same = node.routes.find((r) => r.dst === parsed.route.dst);
        return fail(same ? `${check.node}'s route to ${parsed.route.dst} is "${formatRoute(same)}", not "${check.route}"` : `${check.node} has no route to ${parsed.route.dst}${parsed.route.dst === 'default' ? ' (no default route)' : ''}`);
      }
      const to = parseIp(check.to ?? '');
      if (!to) return fail(`"${check.to}" is not an address`);
      const found = lookup(node, to);
      if (check.absent) return found ? fail(`${check.node} has a route to ${check.to}`) : ok;
      return found ? ok : fail(`${check.node} has no route to ${check.to}`);
    }
    case 'nat': {
      if (!node) return check.absent ? ok : noNode;
      const found = node.nat.some((r) => natMatches(check, r));
      if (check.absent) return found ? fail(`${check.node} still has a ${check.type.toUpperCase()} rule`) : ok;
      if (found) return ok;
      return fail(natHint(check, node));
    }
    case 'filter': {
      if (!node) return check.absent ? ok : noNode;
      const found = node.nat.some((r) => filterMatches(check, r));
      const what = `${check.action ? `${check.action.toUpperCase()} ` : ''}rule in ${check.node}'s ${check.chain} chain${check.in ? ` -i ${check.in}` : ''}${check.out ? ` -o ${check.out}` : ''}${check.source ? ` -s ${check.source}` : ''}${check.destination ? ` -d ${check.destination}` : ''}`;
      if (check.absent) return found ? fail(`there is still a ${what}`) : ok;
      return found ? ok : fail(`there is no ${what} (iptables -S ${check.chain})`);
    }
    case 'sysctl': {
      if (!node) return noNode;
      const value = node.forwarding ? '1' : '0';
      return value === check.value ? ok : fail(`forwarding is ${node.forwarding ? 'on' : 'off'} in ${check.node} (${check.key} = ${value})`);
    }
    case 'reach':
    case 'no-reach':
    case 'tcp':
    case 'packet':
    case 'output':
      return fail('this check runs a probe in the lab');
    default:
      return assertNever(check);
  }
}

function downHint(topology: Topology, node: string, ifname: string, iface: Interface): string {
  if (!iface.up) return `${node}:${ifname} is down (ip link set ${ifname} up)`;
  const peer = linkOf(topology, node, ifname)?.peer;
  if (peer) {
    const p = topology.nodes[peer.node]?.interfaces[peer.interface];
    if (p && !p.up) return `${node}:${ifname} has no carrier: its peer ${peer.node}:${peer.interface} is down`;
  }
  return `${node}:${ifname} is ${iface.state ?? 'down'}`;
}

const prefixOf = (v: string | undefined) => (v === undefined ? undefined : canonicalPrefix(v) ?? v);

type NatCheck = Extract<Check, { kind: 'nat' }>;

function natMatches(check: NatCheck, rule: FirewallRule): boolean {
  if (rule.type !== check.type) return false;
  if (rule.type === 'masquerade' || rule.type === 'snat') {
    if (check.source !== undefined && rule.source !== prefixOf(check.source)) return false;
    if (check.destination !== undefined && rule.destination !== prefixOf(check.destination)) return false;
    if (check.out !== undefined && rule.out !== check.out) return false;
    if (check.to !== undefined && rule.type === 'snat' && rule.to !== check.to) return false;
    return true;
  }
  if (rule.type === 'dnat') {
    if (check.port !== undefined && rule.port !== check.port) return false;
    if (check.proto !== undefined && rule.proto !== check.proto) return false;
    if (check.in !== undefined && rule.in !== check.in) return false;
    if (check.destination !== undefined && rule.destination !== prefixOf(check.destination)) return false;
    if (check.to !== undefined && rule.to !== check.to && parseDnatTarget(rule.to)?.address !== check.to) return false;
    return true;
  }
  return false;
}

function natHint(check: NatCheck, node: Namespace): string {
  const same = node.nat.filter((r) => r.type === check.type);
  const what = check.type === 'dnat'
    ? `DNAT rule for ${check.proto ?? 'tcp'} port ${check.port ?? '(any)'}${check.to ? ` to ${check.to}` : ''}`
    : `${check.type.toUpperCase()} rule${check.source ? ` for ${prefixOf(check.source)}` : ''}${check.out ? ` out ${check.out}` : ''}`;
  const has = same.length > 0 ? `; it has ${same.map(describeFirewallRule).join(', ')}` : '';
  return `no ${what} in ${check.node}${has} (iptables -t nat -S)`;
}

type FilterCheck = Extract<Check, { kind: 'filter' }>;

function filterMatches(check: FilterCheck, rule: FirewallRule): boolean {
  if (rule.type === 'forward') {
    if (check.chain !== 'FORWARD' || (check.table ?? 'filter') !== 'filter') return false;
    if (check.action !== undefined && rule.action !== check.action) return false;
    if (check.in !== undefined && rule.in !== check.in) return false;
    if (check.out !== undefined && rule.out !== check.out) return false;
    if (check.source !== undefined && rule.source !== prefixOf(check.source)) return false;
    if (check.destination !== undefined && rule.destination !== prefixOf(check.destination)) return false;
    return true;
  }
  if (rule.type === 'other') {
    if (rule.chain !== check.chain || rule.table !== (check.table ?? 'filter')) return false;
    const arg = (flag: string) => {
      const i = rule.args.indexOf(flag);
      return i >= 0 ? rule.args[i + 1] : undefined;
    };
    if (check.action !== undefined && arg('-j') !== check.action.toUpperCase()) return false;
    if (check.in !== undefined && arg('-i') !== check.in) return false;
    if (check.out !== undefined && arg('-o') !== check.out) return false;
    if (check.source !== undefined && prefixOf(arg('-s')) !== prefixOf(check.source)) return false;
    if (check.destination !== undefined && prefixOf(arg('-d')) !== prefixOf(check.destination)) return false;
    return true;
  }
  return false;
}

/** A route a namespace would use for an address: connected subnets of up devices, then its routes, longest prefix first. */
export interface Lookup { dev?: string; gateway?: string; connected: boolean; dst: string }

/** The namespace's choice of route for `ip` (longest prefix; connected subnets count only on up devices). */
export function lookup(node: Namespace, ip: IpValue): Lookup | undefined {
  let best: { prefix: number; l: Lookup } | undefined;
  const consider = (prefix: number, l: Lookup) => {
    if (!best || prefix > best.prefix) best = { prefix, l };
  };
  for (const [name, iface] of Object.entries(node.interfaces)) {
    for (const a of iface.addresses) {
      const c = parseCidr(a);
      if (c && contains(c, ip) && !isDown(iface)) consider(c.prefix, { dev: name, connected: true, dst: formatCidr(networkOf(c)) });
    }
  }
  for (const r of node.routes) {
    const c: Cidr | undefined = r.dst === 'default' ? { family: ip.family, prefix: 0, value: 0n } : parseCidr(r.dst);
    if (!c || !contains(c, ip)) continue;
    const dev = r.dev ?? (r.gateway ? lookup({ ...node, routes: [] }, parseIp(r.gateway) as IpValue)?.dev : undefined);
    const l: Lookup = { connected: false, dst: r.dst };
    if (dev !== undefined) l.dev = dev;
    if (r.gateway !== undefined) l.gateway = r.gateway;
    consider(c.prefix, l);
  }
  return best?.l;
}

/** The node and interface that hold an address, if any. */
export function ownerOf(topology: Topology, ip: string): { node: string; interface: string; cidr: string } | undefined {
  const want = canonicalIp(ip);
  for (const [name, node] of Object.entries(topology.nodes)) {
    for (const [ifname, iface] of Object.entries(node.interfaces)) {
      for (const a of iface.addresses) if (a.split('/')[0] === want) return { node: name, interface: ifname, cidr: a };
    }
  }
  return undefined;
}

/** The network of the address a node sends from toward `to` (its egress device's first address). */
function sourceOf(topology: Topology, from: string, to: IpValue): string | undefined {
  const node = topology.nodes[from];
  const l = node ? lookup(node, to) : undefined;
  if (!node || !l?.dev) return undefined;
  return node.interfaces[l.dev]?.addresses.find((a) => parseCidr(a)?.family === to.family);
}

/** Why a packet from `from` to `to` would not make it there and back, as the model sees the lab; undefined if the model sees no reason. */
export function diagnoseReach(topology: Topology, from: string, to: string): string | undefined {
  const dst = parseIp(to);
  if (!dst || !topology.nodes[from]) return undefined;
  const src = sourceOf(topology, from, dst);
  const there = walk(topology, from, dst, false);
  if (there.hint) return there.hint;
  if (!there.arrived || !src) return undefined;
  // The reply leaves the destination toward the (possibly masqueraded) source.
  const back = parseIp(there.source ?? src.split('/')[0] ?? '');
  if (!back) return undefined;
  const backNet = there.source ? there.source : formatCidr(networkOf(parseCidr(src) as Cidr));
  const reply = walk(topology, there.arrived, back, true, backNet);
  return reply.hint;
}

interface Walk { hint?: string; arrived?: string; source?: string }

/** Follows routes hop by hop (at most 16), as the kernel would, and stops at the first reason the packet would be lost. */
function walk(topology: Topology, from: string, dst: IpValue, reply: boolean, backNet?: string): Walk {
  let cur = from;
  let source: string | undefined;
  const target = ownerOf(topology, formatIpText(dst));
  const seen = new Set<string>();
  for (let hop = 0; hop < 16; hop += 1) {
    const node = topology.nodes[cur] as Namespace;
    if (target && target.node === cur) return { arrived: cur, ...(source ? { source } : {}) };
    if (seen.has(cur)) return { hint: `the packet loops between namespaces at ${cur}: check the routes` };
    seen.add(cur);
    const l = lookup(node, dst);
    const dstText = reply && backNet ? backNet : formatIpText(dst);
    if (!l) return { hint: reply ? `${cur} has no route back to ${dstText}` : `${cur} has no route to ${dstText}` };
    if (!l.dev) return { hint: `${cur} cannot reach the gateway ${l.gateway ?? ''} of its route to ${l.dst}` };
    const iface = node.interfaces[l.dev];
    if (!iface) return { hint: `${cur}'s route to ${l.dst} uses ${l.dev}, which ${cur} does not have` };
    if (isDown(iface)) return { hint: downHint(topology, cur, l.dev, iface) };
    const nextIp = l.gateway ?? formatIpText(dst);
    const next = ownerOf(topology, nextIp);
    if (!next) return l.gateway ? { hint: `${cur}'s gateway ${l.gateway} is not an address of any namespace in this lab` } : { hint: `no namespace in this lab has ${formatIpText(dst)}` };
    const nextIface = topology.nodes[next.node]?.interfaces[next.interface];
    if (nextIface && isDown(nextIface)) return { hint: downHint(topology, next.node, next.interface, nextIface) };
    if (next.node !== target?.node) {
      const router = topology.nodes[next.node] as Namespace;
      if (!router.forwarding) return { hint: `forwarding is off in ${next.node} (net.ipv4.ip_forward = 0)` };
      const drop = router.nat.find((r) => (r.type === 'forward' && r.action === 'drop') || (r.type === 'other' && r.table === 'filter' && r.chain === 'FORWARD' && r.args.includes('DROP')));
      if (drop) return { hint: `${next.node} may drop it: ${describeFirewallRule(drop)}` };
      // Source NAT on the way out of the router rewrites the source the reply goes back to.
      const out = lookup(router, dst);
      const masq = router.nat.find((r) => (r.type === 'masquerade' || r.type === 'snat') && (!r.out || (r.out.startsWith('!') ? r.out.slice(1) !== out?.dev : r.out === out?.dev)));
      if (!reply && masq && out?.dev) {
        const addr = router.interfaces[out.dev]?.addresses[0];
        if (masq.type === 'snat') source = masq.to;
        else if (addr) source = addr.split('/')[0];
      }
    }
    cur = next.node;
  }
  return {};
}

const formatIpText = formatIp;

/** Why a TCP connection to ADDR:PORT fails, in the model: a missing DNAT, or the path to its target. */
export function diagnoseTcp(topology: Topology, from: string, to: string, listen: string | undefined): string | undefined {
  const target = parseDnatTarget(to);
  if (!target || target.port === undefined) return undefined;
  const owner = ownerOf(topology, target.address);
  if (!owner) {
    // No device has the address (a ClusterIP, a VIP): only a DNAT rule on the way can make it answer.
    const mentioned = Object.entries(topology.nodes).some(([, n]) => n.nat.some((r) => (r.type === 'dnat' && r.destination?.startsWith(`${target.address}/`)) || (r.type === 'other' && r.table === 'nat' && r.args.some((a) => a.startsWith(target.address)))));
    if (!mentioned) return `no namespace has ${target.address} and no NAT rule in the lab matches it: nothing answers ${to}`;
    const dnat = Object.values(topology.nodes).some((n) => n.nat.some((r) => r.type === 'dnat' || (r.type === 'other' && r.args.includes('DNAT'))));
    if (!dnat) return `rules match ${target.address} but no DNAT rule rewrites it to an endpoint`;
    return undefined;
  }
  if (listen && owner.node !== listen) {
    const node = topology.nodes[owner.node] as Namespace;
    const dnat = node.nat.find((r): r is DnatRule => r.type === 'dnat' && r.port === target.port);
    if (!dnat) return `no DNAT rule for tcp port ${target.port} in ${owner.node}: nothing forwards ${to} to ${listen}`;
    const inner = parseDnatTarget(dnat.to);
    const reach = diagnoseReach(topology, from, target.address);
    if (reach) return reach;
    if (inner) return diagnoseReach(topology, owner.node, inner.address) ?? undefined;
    return undefined;
  }
  return diagnoseReach(topology, from, target.address);
}
