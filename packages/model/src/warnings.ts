/**
 * warnings(topology): what is allowed but worth a learner's attention. A warning never
 * stops an apply or an edit: the kernel accepts these states, and a lab read from the
 * kernel (a rule typed in a shell) must always be editable and exportable.
 */
import { contains, parseCidr, parseIp } from './address';
import { parseDnatTarget } from './nat';
import type { Problem } from './problem';
import { pathOf } from './problem';
import type { Topology } from './topology';
import { buildableType, DEVICE_TYPES } from './interface/index';
import { formatEndpoint } from './topology';

/** Every warning of a topology, each with its path and a sentence. */
export function warnings(topology: Topology): Problem[] {
  const out: Problem[] = [];
  for (const [name, node] of Object.entries(topology.nodes)) {
    for (const [ifname, iface] of Object.entries(node.interfaces)) {
      if (iface.kind === 'other' && iface.type !== undefined && !buildableType(iface)) {
        const spec = DEVICE_TYPES[iface.type];
        out.push(spec?.parent && iface.parent === undefined
          ? { path: pathOf('nodes', name, 'interfaces', ifname, 'parent'), message: `${name}:${ifname} is a ${iface.type} with no parent in ${name} (it sits on a device of another namespace, or the file names none): nslab keeps it while the kernel has it but cannot make it again; give it "parent: IFACE" to have it built` }
          : { path: pathOf('nodes', name, 'interfaces', ifname), message: `${name}:${ifname} is a ${iface.type}, which nslab shows and keeps but does not build: an apply keeps it while the kernel has it, and does not make it again` });
      }
    }
    const subnets = Object.values(node.interfaces).flatMap((i) => i.addresses.flatMap((a) => parseCidr(a) ?? []));
    node.nat.forEach((rule, i) => {
      if (rule.type !== 'dnat') return;
      const target = parseDnatTarget(rule.to);
      const ip = target ? parseIp(target.address) : undefined;
      if (!ip || subnets.some((s) => contains(s, ip))) return;
      const routed = node.routes.some((r) => {
        if (r.dst === 'default') return ip.family === 4;
        const dst = parseCidr(r.dst);
        return dst !== undefined && contains(dst, ip);
      });
      if (!routed) {
        out.push({
          path: pathOf('nodes', name, 'nat', i, 'to'),
          message: `dnat target ${target?.address ?? rule.to} is on no subnet of ${name} and no route of ${name} leads to it: packets to it would be dropped until one does`,
        });
      }
    });
  }
  out.push(...duplicateAddresses(topology));
  return out;
}

/**
 * The same address twice on one link: two ends of a veth pair, or devices joined by one
 * bridge (its ports' peers and the bridge itself). ARP answers from both; which one a
 * neighbour reaches is chance.
 */
function duplicateAddresses(topology: Topology): Problem[] {
  // Union-find over "node:interface": a veth joins its two ends, a bridge port joins its bridge.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root) as string;
    parent.set(x, root);
    return root;
  };
  const join = (a: string, b: string) => parent.set(find(a), find(b));
  for (const link of topology.links) join(formatEndpoint(link.a), formatEndpoint(link.b));
  for (const [name, node] of Object.entries(topology.nodes)) {
    for (const [ifname, iface] of Object.entries(node.interfaces)) {
      if (iface.master !== undefined) join(`${name}:${ifname}`, `${name}:${iface.master}`);
    }
  }
  const seen = new Map<string, string>();
  const out: Problem[] = [];
  for (const [name, node] of Object.entries(topology.nodes)) {
    for (const [ifname, iface] of Object.entries(node.interfaces)) {
      if (iface.kind === 'loopback') continue;
      const here = `${name}:${ifname}`;
      iface.addresses.forEach((text, i) => {
        const host = text.slice(0, text.indexOf('/'));
        const key = `${find(here)}|${host}`;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, here);
        else if (first.split(':')[0] !== name) {
          out.push({
            path: pathOf('nodes', name, 'interfaces', ifname, 'addresses', i),
            message: `${host} is on ${first} and on ${here}, which share one link: neighbours will reach one or the other by chance; give one of them another address`,
          });
        }
      });
    }
  }
  return out;
}
