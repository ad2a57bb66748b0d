/**
 * validate(topology): every problem at once, each with its path and a sentence a
 * learner can act on. Nothing reaches the kernel until this list is empty.
 */
import type { Cidr } from './address';
import { contains, formatCidr, networkOf, parseCidr, parseIp } from './address';
import { ifnameProblem, nameProblem } from './names';
import { parseDnatTarget } from './nat';
import type { Problem } from './problem';
import { pathOf } from './problem';
import { formatRoute, routeFamily } from './route';
import type { Namespace, Topology } from './topology';
import { formatEndpoint } from './topology';

/** The largest VXLAN network identifier: 24 bits (RFC 7348). */
const VNI_MAX = 0xffffff;

/** Checks a whole topology; an empty list means it can be applied. */
export function validate(topology: Topology): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  const labProblem = nameProblem(topology.name, 'lab');
  if (labProblem) add('name', labProblem);

  // Links first: which interfaces are veth ends.
  const ends = new Map<string, number>();
  topology.links.forEach((link, i) => {
    [link.a, link.b].forEach((e, j) => {
      const path = pathOf('links', i, j);
      const node = topology.nodes[e.node];
      if (!node) {
        add(path, `link ${i + 1} names node "${e.node}", which is not in nodes: add it or fix the name`);
        return;
      }
      const key = formatEndpoint(e);
      const first = ends.get(key);
      if (first !== undefined) add(path, `${key} is already an end of link ${first + 1}: a veth end can be in one link only`);
      else ends.set(key, i);
      const iface = node.interfaces[e.interface];
      if (iface && iface.kind !== 'veth') add(path, `${key} is a ${iface.kind}, but a link end must be a veth: remove "kind: ${iface.kind}" or pick another name`);
    });
    if (formatEndpoint(link.a) === formatEndpoint(link.b)) add(pathOf('links', i), `link ${i + 1} joins ${formatEndpoint(link.a)} to itself`);
  });

  for (const [name, node] of Object.entries(topology.nodes)) {
    const np = nameProblem(name, 'node');
    if (np) add(pathOf('nodes', name), np);
    validateNode(name, node, ends, add);
  }
  return problems;
}

function validateNode(name: string, node: Namespace, ends: Map<string, number>, add: (path: string, message: string) => void): void {
  const base = ['nodes', name] as const;
  const subnets: { cidr: Cidr; iface: string }[] = [];
  const seen = new Map<string, string>();

  for (const [ifname, iface] of Object.entries(node.interfaces)) {
    const path = pathOf(...base, 'interfaces', ifname);
    const ip = ifnameProblem(ifname);
    if (ip) add(path, ip);
    if (ifname === 'lo' && iface.kind !== 'loopback') add(path, `"lo" is the loopback device of every namespace: pick another name for a ${iface.kind}`);
    if (iface.kind === 'loopback' && ifname !== 'lo') add(path, `only "lo" can be a loopback device: give ${ifname} another kind`);
    if (iface.kind === 'veth' && !ends.has(`${name}:${ifname}`)) add(path, `${name}:${ifname} is a veth but no link uses it: add a link [${name}:${ifname}, OTHER:IFACE]`);
    if (iface.kind === 'other') add(path, `${name}:${ifname} has no kind and is in no link: give it "kind: bridge" (or vxlan) or add a link to it`);

    iface.addresses.forEach((text, i) => {
      const apath = pathOf(...base, 'interfaces', ifname, 'addresses', i);
      const cidr = parseCidr(text);
      if (!cidr) {
        add(apath, `"${text}" is not an address with a prefix length: write e.g. 192.168.1.1/24`);
        return;
      }
      const host = text.slice(0, text.indexOf('/'));
      const prev = seen.get(host);
      if (prev) add(apath, `${host} is already on ${prev} in ${name}: an address can be used once per namespace`);
      else seen.set(host, ifname);
      subnets.push({ cidr, iface: ifname });
    });

    if (iface.master !== undefined) {
      const m = node.interfaces[iface.master];
      const mpath = pathOf(...base, 'interfaces', ifname, 'master');
      if (iface.master === ifname) add(mpath, `${ifname} cannot be a port of itself`);
      else if (!m) add(mpath, `master "${iface.master}" is not an interface of ${name}: a bridge must be in the same namespace as its ports`);
      else if (m.kind !== 'bridge') add(mpath, `master "${iface.master}" is a ${m.kind}, not a bridge: set "kind: bridge" on it`);
    }

    if (iface.vxlan) {
      const v = iface.vxlan;
      const vpath = (k: string) => pathOf(...base, 'interfaces', ifname, k);
      if (iface.kind !== 'vxlan') add(vpath('vni'), `vni is for vxlan devices: add "kind: vxlan" to ${ifname}`);
      if (!Number.isInteger(v.vni) || v.vni < 1 || v.vni > VNI_MAX) add(vpath('vni'), `vni must be a number from 1 to ${VNI_MAX}`);
      if (!v.remote && !v.group) add(vpath('remote'), `a vxlan device needs "remote" (the other end's underlay address) or "group" (a multicast group)`);
      if (v.remote && !parseIp(v.remote)) add(vpath('remote'), `remote "${v.remote}" is not an IP address`);
      if (v.local && !parseIp(v.local)) add(vpath('local'), `local "${v.local}" is not an IP address`);
      if (v.group) {
        const g = parseIp(v.group);
        if (!g || (g.family === 4 && (g.value >> 28n) !== 0xen)) add(vpath('group'), `group "${v.group}" is not an IPv4 multicast address (224.0.0.0/4)`);
        if (!v.dev) add(vpath('dev'), `a multicast vxlan needs "dev": the underlay interface to join the group on`);
      }
      if (v.dev !== undefined && !node.interfaces[v.dev]) add(vpath('dev'), `dev "${v.dev}" is not an interface of ${name}`);
      if (!Number.isInteger(v.port) || v.port < 1 || v.port > 65535) add(vpath('port'), `port ${v.port} is outside 1-65535`);
    }
  }

  node.routes.forEach((route, i) => {
    const path = pathOf(...base, 'routes', i);
    if (route.dev !== undefined && !node.interfaces[route.dev]) add(path, `route "${formatRoute(route)}" uses dev ${route.dev}, which is not an interface of ${name}`);
    if (route.gateway) {
      const gw = parseIp(route.gateway);
      const onLink = gw && subnets.some((s) => (route.dev === undefined || s.iface === route.dev) && contains(s.cidr, gw));
      if (!onLink) {
        const nets = subnets.filter((s) => s.cidr.family === routeFamily(route)).map((s) => formatCidr(networkOf(s.cidr)));
        add(path, `gateway ${route.gateway} of route "${formatRoute(route)}" is on no subnet of ${name}${nets.length ? ` (it has ${nets.join(', ')})` : ' (it has no addresses)'}: a gateway must be directly reachable`);
      }
    }
  });

  node.nat.forEach((rule, i) => {
    const path = (k?: string) => (k ? pathOf(...base, 'nat', i, k) : pathOf(...base, 'nat', i));
    const ifaceCheck = (k: 'in' | 'out', value: string | undefined) => {
      if (value === undefined) return;
      const ifname = value.startsWith('!') ? value.slice(1) : value;
      if (ifname.endsWith('+') || ifnameProblem(ifname) !== undefined) {
        if (!ifname.endsWith('+')) add(path(k), ifnameProblem(ifname) ?? '');
        return;
      }
      if (!node.interfaces[ifname]) add(path(k), `"${k}: ${value}" names no interface of ${name}: the rule would never match (a trailing + matches a prefix, e.g. veth+)`);
    };
    const cidrCheck = (k: 'source' | 'destination', value: string | undefined) => {
      if (value !== undefined && !parseCidr(value)) add(path(k), `${k} "${value}" is not an address or prefix: write e.g. 192.168.1.0/24`);
    };
    switch (rule.type) {
      case 'masquerade':
      case 'snat':
        cidrCheck('source', rule.source);
        cidrCheck('destination', rule.destination);
        ifaceCheck('out', rule.out);
        if (rule.type === 'snat' && !parseIp(rule.to)) add(path('to'), `snat "to" must be an address, not "${rule.to}"`);
        break;
      case 'dnat': {
        if (!Number.isInteger(rule.port) || rule.port < 1 || rule.port > 65535) add(path('port'), `port ${rule.port} is outside 1-65535`);
        ifaceCheck('in', rule.in);
        cidrCheck('destination', rule.destination);
        const target = parseDnatTarget(rule.to);
        if (!target) {
          add(path('to'), `dnat "to" must be ADDRESS:PORT (e.g. 192.168.1.1:80), not "${rule.to}"`);
        } else {
          if (target.port !== undefined && (target.port < 1 || target.port > 65535)) add(path('to'), `port ${target.port} in "${rule.to}" is outside 1-65535`);
          const ip = parseIp(target.address);
          // Deliverable when on a subnet of the node or behind one of its routes (a pod on another node, as kube-proxy DNATs).
          const routed = (r: { dst: string }) => r.dst === 'default' || ((c) => c !== undefined && contains(c, ip as NonNullable<typeof ip>))(parseCidr(r.dst));
          if (ip && !subnets.some((s) => contains(s.cidr, ip)) && !node.routes.some(routed)) {
            add(path('to'), `dnat target ${target.address} is outside every subnet of ${name} and no route of ${name} leads to it: ${name} could not deliver to it`);
          }
        }
        break;
      }
      case 'forward':
        cidrCheck('source', rule.source);
        cidrCheck('destination', rule.destination);
        ifaceCheck('in', rule.in);
        ifaceCheck('out', rule.out);
        break;
      case 'other':
        break;
    }
  });
}
