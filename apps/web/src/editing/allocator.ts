/**
 * The address allocator: picks a subnet for a new link and free host addresses in
 * it, so that a lab built by dragging never has one address twice. It reads the lab
 * as it is (the kernel's addresses) and the addresses already picked for the same edit.
 */
import { contains, formatIp, networkOf, nthAddress, parseCidr, prefixSize } from '@nslab/model';
import type { Cidr, Topology } from '@nslab/model';

/** Where new subnets come from: 10.0.0.0/16 cut into /24s, starting at 10.0.1.0/24 (RFC 1918 space). */
export const SUBNET_POOL = '10.0.0.0/16';
/** The prefix length of each allocated subnet: 254 hosts, enough for any bridge of a lab. */
export const SUBNET_PREFIX = 24;

/** Every IPv4 address of the lab, in CIDR form. */
function labAddresses(topology: Topology, extra: readonly string[]): Cidr[] {
  const out: Cidr[] = [];
  for (const ns of Object.values(topology.nodes)) {
    for (const iface of Object.values(ns.interfaces)) {
      for (const a of iface.addresses) {
        const c = parseCidr(a);
        if (c && c.family === 4) out.push(c);
      }
    }
  }
  for (const a of extra) {
    const c = parseCidr(a);
    if (c && c.family === 4) out.push(c);
  }
  return out;
}

/** True when the two prefixes share any address. */
function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a);
}

/** The first /24 of the pool that overlaps no subnet of the lab (nor of `extra`); undefined when the pool is full. */
export function freshSubnet(topology: Topology, extra: readonly string[] = []): Cidr | undefined {
  const pool = parseCidr(SUBNET_POOL);
  if (!pool) return undefined;
  const used = labAddresses(topology, extra).map(networkOf);
  const step = prefixSize({ ...pool, prefix: SUBNET_PREFIX });
  const count = prefixSize(pool) / step;
  for (let i = 1n; i < count; i += 1n) {
    const base = nthAddress(pool, i * step);
    if (!base) break;
    const candidate: Cidr = { ...base, prefix: SUBNET_PREFIX };
    if (!used.some((u) => overlaps(u, candidate))) return candidate;
  }
  return undefined;
}

/**
 * The lowest free host address of `subnet` ("10.0.1.3/24"), skipping the network and
 * broadcast addresses and every address already in the lab or in `extra`.
 */
export function nextHost(topology: Topology, subnet: Cidr, extra: readonly string[] = []): string | undefined {
  const taken = new Set(labAddresses(topology, extra).map((c) => c.value));
  const size = prefixSize(subnet);
  for (let i = 1n; i < size - 1n; i += 1n) {
    const ip = nthAddress(subnet, i);
    if (ip && !taken.has(ip.value)) return `${formatIp(ip)}/${subnet.prefix}`;
  }
  return undefined;
}

/**
 * The IPv4 subnet a bridge serves: from the bridge's own addresses, or else from the
 * addresses at the far ends of its ports (the namespaces plugged into it).
 */
export function bridgeSubnet(topology: Topology, node: string, bridge: string): Cidr | undefined {
  const ns = topology.nodes[node];
  if (!ns) return undefined;
  const candidates: string[] = [...(ns.interfaces[bridge]?.addresses ?? [])];
  for (const [ifname, iface] of Object.entries(ns.interfaces)) {
    if (iface.master !== bridge) continue;
    for (const link of topology.links) {
      const far = link.a.node === node && link.a.interface === ifname ? link.b : link.b.node === node && link.b.interface === ifname ? link.a : undefined;
      if (far) candidates.push(...(topology.nodes[far.node]?.interfaces[far.interface]?.addresses ?? []));
    }
  }
  for (const a of candidates) {
    const c = parseCidr(a);
    if (c && c.family === 4) return networkOf(c);
  }
  return undefined;
}

/** One end of a new link, as the allocator sees it: a namespace, or a bridge inside one. */
export interface LinkEnd {
  node: string;
  bridge?: string;
}

/**
 * Addresses for the two ends of a new link. Two namespaces share a fresh /24 (.1 and
 * .2; a router, which forwards, gets .1 whichever end it is); a namespace plugged into a bridge gets the next free address of the bridge's
 * subnet (a fresh one if the bridge has none yet); the bridge side gets none, since
 * a bridge port carries no address. Two bridges get none at all.
 */
export function linkAddresses(topology: Topology, a: LinkEnd, b: LinkEnd, extra: readonly string[] = []): [string | null, string | null] {
  if (a.bridge && b.bridge) return [null, null];
  if (a.bridge || b.bridge) {
    const bridgeEnd = (a.bridge ? a : b) as Required<LinkEnd>;
    const subnet = bridgeSubnet(topology, bridgeEnd.node, bridgeEnd.bridge) ?? freshSubnet(topology, extra);
    const host = subnet ? nextHost(topology, subnet, extra) ?? null : null;
    return a.bridge ? [null, host] : [host, null];
  }
  const subnet = freshSubnet(topology, extra);
  if (!subnet) return [null, null];
  const first = nextHost(topology, subnet, extra) ?? null;
  const second = nextHost(topology, subnet, first ? [...extra, first] : extra) ?? null;
  // A router (a namespace that forwards) takes the subnet's first address, as a gateway usually has.
  const forwards = (e: LinkEnd) => topology.nodes[e.node]?.forwarding === true;
  return forwards(b) && !forwards(a) ? [second, first] : [first, second];
}

/** The IPv4 subnets an interface is on: its own addresses', or else those of its veth peer. */
function interfaceSubnets(topology: Topology, node: string, name: string): Cidr[] {
  const own = topology.nodes[node]?.interfaces[name]?.addresses ?? [];
  const link = topology.links.find((l) => (l.a.node === node && l.a.interface === name) || (l.b.node === node && l.b.interface === name));
  const far = link ? (link.a.node === node && link.a.interface === name ? link.b : link.a) : undefined;
  const peer = far ? topology.nodes[far.node]?.interfaces[far.interface]?.addresses ?? [] : [];
  const subnets = (list: readonly string[]) => list.map(parseCidr).filter((c): c is Cidr => c !== undefined && c.family === 4).map(networkOf);
  const mine = subnets(own);
  return mine.length > 0 ? mine : subnets(peer);
}

/**
 * What the address field of an interface suggests: the next free address of the subnet it
 * (or its veth peer) is on, else the first of a fresh subnet.
 */
export function addressHint(topology: Topology, node: string, name: string): string {
  const subnet = interfaceSubnets(topology, node, name)[0] ?? freshSubnet(topology);
  return (subnet && nextHost(topology, subnet)) ?? '10.0.1.1/24';
}

/**
 * What the route field of a namespace suggests: a default route via a neighbour on one of its
 * subnets (a namespace that forwards, if one is there), else an example.
 */
export function routeHint(topology: Topology, node: string): string {
  const ns = topology.nodes[node];
  const subnets = Object.keys(ns?.interfaces ?? {}).flatMap((name) => interfaceSubnets(topology, node, name));
  const neighbours: { forwards: boolean; address: string }[] = [];
  for (const [other, n] of Object.entries(topology.nodes)) {
    if (other === node) continue;
    for (const iface of Object.values(n.interfaces)) {
      for (const a of iface.addresses) {
        const c = parseCidr(a);
        if (c && subnets.some((s) => contains(s, c))) neighbours.push({ forwards: n.forwarding, address: formatIp(c) });
      }
    }
  }
  const via = neighbours.find((n) => n.forwards) ?? neighbours[0];
  return via ? `default via ${via.address}` : 'default via 10.0.1.1';
}
