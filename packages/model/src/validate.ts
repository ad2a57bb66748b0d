/**
 * validate(topology): every problem at once, each with its path and a sentence a
 * learner can act on. Nothing reaches the kernel until this list is empty.
 */
import type { Cidr } from './address';
import { contains, formatCidr, formatIp, networkOf, parseCidr, parseIp } from './address';
import { ifnameProblem, nameProblem, own } from './names';
import { parseDnatTarget } from './nat';
import type { Problem } from './problem';
import { pathOf } from './problem';
import { formatRoute, routeFamily, routeKey } from './route';
import type { Interface, Namespace, Topology } from './topology';
import { DEVICE_TYPES } from './interface/index';
import { formatEndpoint } from './topology';

/** The largest VXLAN network identifier: 24 bits (RFC 7348). */
const VNI_MAX = 0xffffff;

/** Why an address cannot be put on an interface (the kernel refuses it or it breaks the namespace), or undefined. */
function addressProblem(cidr: Cidr, ifname: string, kind: string): string | undefined {
  const bits = cidr.family === 4 ? 32n : 128n;
  const top = (n: bigint) => cidr.value >> (bits - n);
  if (cidr.prefix === 0) return 'a prefix length of 0 covers every address: give the interface its own subnet, e.g. /24';
  if (cidr.value === 0n) return 'the unspecified address is not an interface address';
  if (cidr.family === 4 ? top(4n) === 0xen : top(8n) === 0xffn) return 'a multicast address cannot be an interface address';
  if (cidr.family === 6 && cidr.value === 1n && kind !== 'loopback') return `::1 is the loopback address: only lo has it, not ${ifname}`;
  return undefined;
}

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
      const node = own(topology.nodes, e.node);
      if (!node) {
        add(path, `link ${i + 1} names node "${e.node}", which is not in nodes: add it or fix the name`);
        return;
      }
      const key = formatEndpoint(e);
      const first = ends.get(key);
      if (first !== undefined) add(path, `${key} is already an end of link ${first + 1}: a veth end can be in one link only`);
      else ends.set(key, i);
      const iface = own(node.interfaces, e.interface);
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

/** The parent, mode and id of a device of kind other, against its type's table entry (interface/other.ts). */
function validateDevice(name: string, ifname: string, iface: Interface, node: Namespace, add: (path: string, message: string) => void): void {
  const path = (key: string) => pathOf('nodes', name, 'interfaces', ifname, key);
  if (iface.type !== undefined && !/^[a-z0-9_-]{1,32}$/.test(iface.type)) add(path('type'), `"${iface.type}" is not a device type the kernel has: write its name as \`ip -d link\` prints it (macvlan, tun, ...)`);
  const spec = iface.type === undefined ? undefined : DEVICE_TYPES[iface.type];
  const known = Object.keys(DEVICE_TYPES).join(', ');
  if (!spec) {
    for (const key of ['parent', 'mode', 'id'] as const) {
      if (iface[key] !== undefined) add(path(key), `nslab builds only ${known}, not ${iface.type === undefined ? 'a device without a type' : article(iface.type)}: remove "${key}" (the device is kept while the kernel has it)`);
    }
    return;
  }
  // No parent is allowed (warnings.ts): a device read from the kernel whose parent is in another namespace is kept, not built.
  if (!spec.parent && iface.parent !== undefined) add(path('parent'), `${article(spec.type)} has no parent device: remove "parent"`);
  if (iface.parent !== undefined && spec.parent) {
    const p = own(node.interfaces, iface.parent);
    if (!p) add(path('parent'), `${name} has no interface "${iface.parent}" for ${ifname} to sit on: add it, or name one of ${Object.keys(node.interfaces).filter((n) => n !== ifname && n !== 'lo').join(', ') || 'its interfaces (it has none)'}`);
    else if (iface.parent === ifname) add(path('parent'), `${ifname} cannot sit on itself: name another interface of ${name}`);
    else if (p.kind === 'loopback') add(path('parent'), `${article(spec.type)} cannot sit on the loopback device: name another interface of ${name}`);
  }
  if (spec.modes === undefined && iface.mode !== undefined) add(path('mode'), `${article(spec.type)} has no mode: remove "mode"`);
  if (spec.modes !== undefined && iface.mode !== undefined && !spec.modes.includes(iface.mode)) add(path('mode'), `"${iface.mode}" is not ${article(spec.type)} mode: use one of ${spec.modes.join(', ')}`);
  if (spec.modeRequired && iface.mode === undefined) add(path('mode'), `${name}:${ifname} is ${article(spec.type)}: give it "mode", one of ${(spec.modes ?? []).join(', ')}`);
  if (!spec.id && iface.id !== undefined) add(path('id'), `${article(spec.type)} has no VLAN id: remove "id"`);
  if (spec.id && (iface.id === undefined || iface.id < 0 || iface.id > 4095)) add(path('id'), `${name}:${ifname} is a vlan: give it "id", a VLAN id from 0 to 4095`);
}

/** "a macvlan", "an ifb". */
function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
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
    // A device of a kind nslab does not build is fine when it says what the kernel calls it (an export writes that).
    if (iface.kind === 'other' && iface.type === undefined) add(path, `${name}:${ifname} has no kind and is in no link: give it "kind: bridge" (or vxlan) or add a link to it`);
    if (iface.type !== undefined && iface.kind !== 'other') add(pathOf(...base, 'interfaces', ifname, 'type'), `"type" names the kernel's kind of a device nslab does not build: use it with "kind: other", or remove it`);
    if (iface.kind === 'other') validateDevice(name, ifname, iface, node, add);

    iface.addresses.forEach((text, i) => {
      const apath = pathOf(...base, 'interfaces', ifname, 'addresses', i);
      const cidr = parseCidr(text);
      if (!cidr) {
        add(apath, `"${text}" is not an address with a prefix length: write e.g. 192.168.1.1/24`);
        return;
      }
      const special = addressProblem(cidr, ifname, iface.kind);
      if (special) { add(apath, `"${text}": ${special}`); return; }
      const host = text.slice(0, text.indexOf('/'));
      const prev = seen.get(host);
      if (prev) add(apath, `${host} is already on ${prev} in ${name}: an address can be used once per namespace`);
      else seen.set(host, ifname);
      subnets.push({ cidr, iface: ifname });
    });

    if (iface.master !== undefined && iface.kind === 'bridge') add(pathOf(...base, 'interfaces', ifname, 'master'), `${ifname} is a bridge: Linux does not put a bridge inside another bridge; connect them with a veth pair instead`);
    else if (iface.master !== undefined) {
      const m = own(node.interfaces, iface.master);
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
      if (v.remote && v.group) add(vpath('group'), `a vxlan device takes "remote" (one peer) or "group" (multicast), not both: remove one`);
      if (!v.remote && !v.group) add(vpath('remote'), `a vxlan device needs "remote" (the other end's underlay address) or "group" (a multicast group)`);
      if (v.remote && !parseIp(v.remote)) add(vpath('remote'), `remote "${v.remote}" is not an IP address`);
      if (v.local && !parseIp(v.local)) add(vpath('local'), `local "${v.local}" is not an IP address`);
      if (v.group) {
        const g = parseIp(v.group);
        if (!g || (g.family === 4 && (g.value >> 28n) !== 0xen)) add(vpath('group'), `group "${v.group}" is not an IPv4 multicast address (224.0.0.0/4)`);
        if (!v.dev) add(vpath('dev'), `a multicast vxlan needs "dev": the underlay interface to join the group on`);
      }
      if (v.dev !== undefined && !own(node.interfaces, v.dev)) add(vpath('dev'), `dev "${v.dev}" is not an interface of ${name}`);
      if (!Number.isInteger(v.port) || v.port < 1 || v.port > 65535) add(vpath('port'), `port ${v.port} is outside 1-65535`);
    }
  }

  const hosts = new Set(subnets.map((s) => formatIp(s.cidr)));
  const connected = new Set(subnets.map((s) => `${s.cidr.family} ${formatCidr(networkOf(s.cidr))} ${s.cidr.family === 4 ? 0 : 256}`));
  const keys = new Map<string, number>();
  node.routes.forEach((route, i) => {
    const path = pathOf(...base, 'routes', i);
    // The readers (nsread, ip) read the IPv4 main table: an IPv6 route would be built but never seen again.
    if (routeFamily(route) === 6) { add(path, `route "${formatRoute(route)}" is IPv6: nslab builds and shows IPv4 routes only, so it would be added but never shown or removed; add it from a terminal instead`); return; }
    const key = routeKey(route);
    const first = keys.get(key);
    if (first !== undefined) add(path, `route "${formatRoute(route)}" has the destination and metric of route ${first + 1} (default and 0.0.0.0/0 are one destination): the kernel keeps one; remove one or give it another metric`);
    else keys.set(key, i);
    if (route.src !== undefined && !hosts.has(route.src)) add(path, `src ${route.src} of route "${formatRoute(route)}" is not an address of ${name}: use one of its own addresses${hosts.size ? ` (${[...hosts].join(', ')})` : ''}`);
    if (!route.gateway && connected.has(`${routeFamily(route)} ${route.dst} ${route.metric ?? (routeFamily(route) === 4 ? 0 : 256)}`)) {
      add(path, `route "${formatRoute(route)}" is the route the kernel already adds for the interface's own subnet: remove it (or give it another metric)`);
    }
    if (route.dev !== undefined && !own(node.interfaces, route.dev)) add(path, `route "${formatRoute(route)}" uses dev ${route.dev}, which is not an interface of ${name}`);
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
      if (ifname.endsWith('+')) {
        // A prefix match reaches iptables as one word: its stem obeys the interface name rules too.
        const stem = ifname.slice(0, -1);
        if (!/^[A-Za-z0-9_.@][A-Za-z0-9_.@-]{0,13}$/.test(stem)) add(path(k), `"${k}: ${value}" is not an interface prefix: write 1-14 letters, digits, '_', '.', '@' or '-' (not first) before the +, e.g. veth+`);
        return;
      }
      if (ifnameProblem(ifname) !== undefined) {
        add(path(k), ifnameProblem(ifname) ?? '');
        return;
      }
      if (!own(node.interfaces, ifname)) add(path(k), `"${k}: ${value}" names no interface of ${name}: the rule would never match (a trailing + matches a prefix, e.g. veth+)`);
    };
    const cidrCheck = (k: 'source' | 'destination', value: string | undefined) => {
      if (value === undefined) return;
      const c = parseCidr(value);
      if (!c) add(path(k), `${k} "${value}" is not an address or prefix: write e.g. 192.168.1.0/24`);
      else if (c.family !== 4) add(path(k), `${k} "${value}" is IPv6, but these rules are IPv4 (iptables): write an IPv4 prefix such as 192.168.1.0/24`);
    };
    switch (rule.type) {
      case 'masquerade':
      case 'snat':
        cidrCheck('source', rule.source);
        cidrCheck('destination', rule.destination);
        ifaceCheck('out', rule.out);
        if (rule.type === 'snat' && parseIp(rule.to)?.family !== 4) add(path('to'), `snat "to" must be an IPv4 address (these rules are iptables, IPv4), not "${rule.to}"`);
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
          // A target beyond this node's subnets is reached by routing (kube-proxy's pattern): warnings.ts says so.
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
