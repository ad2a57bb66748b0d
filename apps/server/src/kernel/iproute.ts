/**
 * Reads iproute2's JSON (`ip -j -d`) into the model. This is the one file that knows
 * iproute2's field names (ifname, addr_info, linkinfo...); nothing outside it does.
 */
import type { Interface, Namespace, Route } from '@nslab/model';
import { canonicalCidr, canonicalPrefix, DEVICE_TYPES, kindFromKernel, parseOwnerMarker, setOwn, VXLAN_PORT } from '@nslab/model';

// The shapes `ip -j -d` prints (only the fields nslab reads). rtnetlink.ts decodes the
// kernel's messages into the same shapes, so one mapping below serves both readers.
/** One entry of `addr_info`. */
export interface IpAddrInfo { family: string; local: string; prefixlen: number; scope?: string }
/** One link of `ip -j -d addr show`. */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  link_type?: string;
  address?: string;
  ifalias?: string;
  master?: string;
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
  addr_info?: IpAddrInfo[];
}
/** One route of `ip -j -d route show`. */
export interface IpRoute { dst: string; gateway?: string; dev?: string; protocol?: string; metric?: number; prefsrc?: string; type?: string }
/** One entry of `ip -j netconf show`. */
export interface IpNetconf { family: string; interface: string; forwarding?: boolean | string }
/** One entry of `ip -j netns list-id`. */
export interface IpNsid { nsid: number; name?: string }

/** Where a veth's other end is, in the terms of the namespace that holds it. */
export interface VethPeer {
  /** The peer's namespace as an nsid of this namespace; undefined when it is in the same namespace. */
  nsid?: number;
  /** The peer's ifindex inside its namespace. */
  ifindex: number;
}

/** One namespace as `ip -j` reports it, in model terms plus what is needed to join veth ends. */
export interface NamespaceReading {
  namespace: Namespace;
  /** The lab and node recorded on lo, if any. */
  owner?: { lab: string; node: string };
  ifindex: Map<number, string>;
  peers: Map<string, VethPeer>;
  /** nsid (as this namespace numbers them) to kernel namespace name. */
  nsids: Map<number, string>;
}

/** Addresses every namespace has by itself on lo, left out of the model. */
const IMPLICIT_LO = new Set(['127.0.0.1/8', '::1/128']);

/**
 * Splits the output of `ip -j -batch -`, which prints one JSON document per command,
 * into those documents: at most `limit` of them, and the text after the last one.
 */
export function splitJsonDocuments(text: string, limit = Infinity): { docs: unknown[]; rest: string } {
  const docs: unknown[] = [];
  let end = 0;
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i += 1;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      if (depth === 0) start = i;
      depth += 1;
    } else if (ch === ']' || ch === '}') {
      depth -= 1;
      if (depth === 0 && start >= 0) {
        docs.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
        end = i + 1;
        if (docs.length >= limit) break;
      }
    }
  }
  return { docs, rest: text.slice(end) };
}

/** The batch lines whose JSON output `readNamespace` expects, in order. */
export const READ_BATCH = ['addr show', 'route show table main', 'netconf show', 'netns list-id'];

/**
 * The whole read of one namespace as one `ip -batch`: the JSON reads, then the firewall
 * through `netns exec ... iptables-save`, which ip forks itself after flushing its own
 * output, so one process from Node reads everything (half the spawns of two commands).
 */
export function readBatch(netns: string, firewall: boolean): string[] {
  return firewall ? [...READ_BATCH, `netns exec ${netns} iptables-save`] : READ_BATCH;
}

function toInterface(link: IpLink): Interface {
  const kind = kindFromKernel(link.linkinfo?.info_kind, link.link_type);
  const addresses = (link.addr_info ?? [])
    .filter((a) => a.scope !== 'link' && !(a.family === 'inet6' && a.local.startsWith('fe80:')))
    .map((a) => canonicalCidr(`${a.local}/${a.prefixlen}`) ?? `${a.local}/${a.prefixlen}`)
    .filter((a) => !(kind === 'loopback' && IMPLICIT_LO.has(a)));
  const iface: Interface = {
    kind,
    up: (link.flags ?? []).includes('UP'),
    addresses,
    state: (link.operstate ?? 'unknown').toLowerCase(),
  };
  if (link.mtu !== undefined) iface.mtu = link.mtu;
  if (link.address && kind !== 'loopback') iface.mac = link.address;
  if (link.master) iface.master = link.master;
  // A device nslab does not model keeps the kernel's word for what it is (shown, exported, kept).
  if (kind === 'other') {
    iface.type = link.linkinfo?.info_kind ?? link.link_type ?? 'unknown';
    deviceParams(iface, link);
  }
  if (kind === 'vxlan') {
    const d = link.linkinfo?.info_data ?? {};
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    iface.vxlan = { vni: typeof d['id'] === 'number' ? d['id'] : 0, port: typeof d['port'] === 'number' ? d['port'] : VXLAN_PORT };
    const remote = str(d['remote']);
    const group = str(d['group']);
    const local = str(d['local']);
    const dev = str(d['link']) ?? link.link;
    if (remote) iface.vxlan.remote = remote;
    if (group) iface.vxlan.group = group;
    if (local) iface.vxlan.local = local;
    if (dev) iface.vxlan.dev = dev;
  }
  return iface;
}

/**
 * What rebuilds a device of a type nslab builds under kind other (DEVICE_TYPES): its parent when
 * that is in this namespace (`link` by name; `link_index` with `link_netnsid` is one elsewhere,
 * which the model cannot name), its mode (tun's is info_data.type), and a vlan's id.
 */
function deviceParams(iface: Interface, link: IpLink): void {
  const spec = iface.type === undefined ? undefined : DEVICE_TYPES[iface.type];
  if (!spec) return;
  const data = link.linkinfo?.info_data ?? {};
  if (spec.parent && link.link !== undefined && link.link_netnsid === undefined) iface.parent = link.link;
  const mode = iface.type === 'tun' ? data['type'] : data['mode'];
  if (spec.modes && typeof mode === 'string') iface.mode = mode;
  if (spec.id && typeof data['id'] === 'number') iface.id = data['id'];
}

function toRoute(r: IpRoute): Route | undefined {
  if (r.protocol === 'kernel' || (r.type && r.type !== 'unicast')) return undefined;
  const dst = r.dst === 'default' ? 'default' : canonicalPrefix(r.dst);
  if (!dst) return undefined;
  const route: Route = { dst };
  if (r.gateway) route.gateway = r.gateway;
  if (r.dev) route.dev = r.dev;
  if (r.metric) route.metric = r.metric;
  if (r.prefsrc) route.src = r.prefsrc;
  return route;
}

/** Reads the documents printed for READ_BATCH into a namespace reading. */
export function readNamespace(docs: unknown[]): NamespaceReading {
  const [links, routes, netconf, nsids] = docs as [IpLink[]?, IpRoute[]?, IpNetconf[]?, IpNsid[]?];
  const namespace: Namespace = { forwarding: false, interfaces: {}, routes: [], nat: [] };
  const reading: NamespaceReading = { namespace, ifindex: new Map(), peers: new Map(), nsids: new Map() };
  for (const link of links ?? []) {
    setOwn(namespace.interfaces, link.ifname, toInterface(link)); // a device a shell named __proto__ is an entry too
    reading.ifindex.set(link.ifindex, link.ifname);
    if (link.linkinfo?.info_kind === 'veth' && link.link_index !== undefined) {
      const peer: VethPeer = { ifindex: link.link_index };
      if (link.link_netnsid !== undefined) peer.nsid = link.link_netnsid;
      reading.peers.set(link.ifname, peer);
    }
    if (link.link_type === 'loopback') {
      const owner = parseOwnerMarker(link.ifalias);
      if (owner) reading.owner = owner;
    }
  }
  // Same-namespace veth pairs name their peer instead of giving link_index.
  for (const link of links ?? []) {
    if (link.linkinfo?.info_kind === 'veth' && link.link_index === undefined && link.link) {
      const idx = [...reading.ifindex].find(([, n]) => n === link.link)?.[0];
      if (idx !== undefined) reading.peers.set(link.ifname, { ifindex: idx });
    }
  }
  for (const r of routes ?? []) {
    const route = toRoute(r);
    if (route) namespace.routes.push(route);
  }
  const all = (netconf ?? []).find((c) => c.family === 'inet' && c.interface === 'all');
  namespace.forwarding = all?.forwarding === true || all?.forwarding === 'on';
  for (const n of nsids ?? []) if (n.name) reading.nsids.set(n.nsid, n.name);
  return reading;
}
