/**
 * The container layer: `networks` and `containers` in a topology file, expanded into
 * namespaces, veths, bridges, addresses, routes and NAT exactly as Docker's bridge
 * driver builds them (and VXLAN for `driver: overlay`). The expansion is plain model
 * data, so `nslab apply --dry-run` and the UI show every command it produces.
 */
import type { Cidr } from '../address';
import { contains, formatCidr, formatIp, parseCidr, parseIp, networkOf } from '../address';
import type { NatRule } from '../nat';
import type { Problem } from '../problem';
import { pathOf } from '../problem';
import type { RawContainer, RawNetwork } from '../schema';
import type { Interface, Namespace, Topology } from '../topology';
import { emptyNamespace } from '../topology';
import { VXLAN_PORT } from '../interface/index';
import { Ipam } from './ipam';
import { own, reservedNameProblem, setOwn } from '../names';
import type { HostNetwork, PublishedPort } from './docker-rules';
import { DOCKER_POLICIES, dockerRules, overlayBridgeRule } from './docker-rules';
import type { ChainPolicy } from '../policy';

/** The node that plays the container host unless a container names another. */
export const DEFAULT_HOST = 'host';

/** VXLAN adds 50 bytes of headers (outer Ethernet, IP, UDP, VXLAN), so overlay endpoints use 1500 - 50, as Docker does. */
export const OVERLAY_MTU = 1450;

/** The bridge network Docker gives overlay containers for their way out (NAT to the host's uplink). */
export const GWBRIDGE = 'docker_gwbridge';

/** docker_gwbridge's subnet when the file does not define the network: the next /16 after docker0's, as Docker's IPAM picks it. */
const GWBRIDGE_SUBNET = '172.18.0.0/16';

/** First VNI Docker's overlay driver hands out (libnetwork's vxlanIDStart). */
const FIRST_VNI = 4096;

/** One endpoint: a container's interface on a network and the veth end that implements it. */
export interface EndpointInfo { network: string; interface: string; address?: string; peer: { node: string; interface: string } }

/** What the container view shows of one container. */
export interface ContainerInfo {
  mode: 'bridge' | 'host' | 'none' | 'container';
  host: string;
  /** The namespace it runs in: its own node, or (container mode) the node of the container it shares. */
  node?: string;
  /** Container mode: the container whose namespace it shares. */
  shares?: string;
  /** The image name it was started from (recorded, never pulled). */
  image?: string;
  /** The command it runs in its namespace. */
  command?: string[];
  /** It is on a user-defined network: the lab runs Docker's embedded DNS for it at 127.0.0.11. */
  dns?: boolean;
  endpoints: EndpointInfo[];
  publish: string[];
}

/** What the container view shows of one network. */
export interface NetworkInfo { driver: 'bridge' | 'overlay'; subnet: string; gateway?: string; internal: boolean; bridges: Record<string, string>; vni?: number }

/** The container layer as the file (or the `docker` command) wrote it: what export gives back. */
export interface ContainerSpec { networks: Record<string, RawNetwork>; containers: Record<string, RawContainer | null> }

/** Docker's model of a lab: sandboxes (containers), endpoints and networks, and the spec they came from. */
export interface ContainerLayer { networks: Record<string, NetworkInfo>; containers: Record<string, ContainerInfo>; spec?: ContainerSpec }

/** Where Docker's embedded DNS answers inside a container (libnetwork's resolver address). */
export const EMBEDDED_DNS = '127.0.0.11';

/**
 * The container's DNS queries, to whatever server /etc/resolv.conf names, go to the
 * embedded DNS. Docker points resolv.conf at 127.0.0.11 and DNATs that to its
 * listener; a lab shares the machine's resolv.conf, so the DNAT takes every query instead.
 */
function embeddedDnsRules(): NatRule[] {
  return (['udp', 'tcp'] as const).map((proto) => ({ type: 'other', table: 'nat', chain: 'OUTPUT', args: ['-p', proto, '-m', proto, '--dport', '53', '-j', 'DNAT', '--to-destination', `${EMBEDDED_DNS}:53`] }));
}

/** A short stable hash (FNV-1a, 32 bits) in hex: Docker names host-side veths veth + 7 hex digits too. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0').slice(0, 7);
}

/** The host-side veth name of a container's endpoint on a network. */
export function hostVethName(container: string, network: string): string {
  return `veth${shortHash(`${container}/${network}`)}`;
}

/** A `publish` entry, HOSTPORT:CONTAINERPORT[/tcp|/udp], or why it is not one. */
export function parsePublish(text: string): { proto: 'tcp' | 'udp'; hostPort: number; port: number } | string {
  const m = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  if (!m) return `"${text}" is not HOSTPORT:CONTAINERPORT[/tcp|/udp], e.g. "8080:80"`;
  const hostPort = Number(m[1]);
  const port = Number(m[2]);
  if (hostPort < 1 || hostPort > 65535 || port < 1 || port > 65535) return `ports in "${text}" must be from 1 to 65535`;
  return { proto: (m[3] ?? 'tcp') as 'tcp' | 'udp', hostPort, port };
}

/** The bridge that implements a network on a host: docker0 for "bridge", br-NAME otherwise (at most 15 bytes). */
export function bridgeName(network: string): string {
  if (network === GWBRIDGE) return GWBRIDGE;
  return network === 'bridge' ? 'docker0' : `br-${network}`.slice(0, 15);
}

/** The VXLAN device of an overlay network on each host. */
export function vxlanName(network: string): string {
  return `vx-${network}`.slice(0, 15);
}

/** The address a host uses on the underlay: its first address on an interface that is not a bridge port or bridge. */
function underlayOf(ns: Namespace, dev: string | undefined): { dev: string; address: string } | undefined {
  for (const [name, iface] of Object.entries(ns.interfaces)) {
    if (dev !== undefined && name !== dev) continue;
    if (iface.kind === 'bridge' || iface.kind === 'vxlan' || iface.master) continue;
    const v4 = iface.addresses.find((a) => parseCidr(a)?.family === 4);
    if (v4) return { dev: name, address: v4.slice(0, v4.indexOf('/')) };
  }
  return undefined;
}

/**
 * Expands the container layer into `topology` (which holds the file's own nodes and
 * links). `observed` is the lab as the kernel has it, so containers keep the
 * addresses they already have.
 */
export function expandContainers(
  topology: Topology,
  networks: Record<string, RawNetwork>,
  containers: Record<string, RawContainer | null>,
  observed: Topology | undefined,
  problems: Problem[],
): ContainerLayer {
  const layer: ContainerLayer = { networks: {}, containers: {}, spec: { networks, containers } };
  const fail = (path: string, message: string) => problems.push({ path, message });
  const nodeOf = (name: string): Namespace => {
    const node = own(topology.nodes, name) ?? emptyNamespace();
    setOwn(topology.nodes, name, node);
    return node;
  };
  const subnets = new Map<string, Cidr>();

  for (const [name, net] of Object.entries(networks)) {
    const path = (k: string) => pathOf('networks', name, k);
    const subnet = parseCidr(net.subnet);
    if (!subnet || subnet.family !== 4) { fail(path('subnet'), `subnet "${net.subnet}" is not an IPv4 prefix like 172.17.0.0/16`); continue; }
    if (networkOf(subnet).value !== subnet.value) fail(path('subnet'), `subnet "${net.subnet}" has host bits set: write ${formatCidr(networkOf(subnet))}`);
    if (subnet.prefix > 30) { fail(path('subnet'), `subnet ${net.subnet} is too small for a gateway and containers: use /30 or larger`); continue; }
    if (name !== GWBRIDGE && bridgeName(name) !== (name === 'bridge' ? 'docker0' : `br-${name}`)) fail(pathOf('networks', name), `network name "${name}" is too long for its bridge br-${name} (15 bytes): use at most 12 characters`);
    for (const [other, cidr] of subnets) {
      const shorter = Math.min(subnet.prefix, cidr.prefix);
      if (networkOf({ ...subnet, prefix: shorter }).value === networkOf({ ...cidr, prefix: shorter }).value) {
        fail(path('subnet'), `subnet ${net.subnet} overlaps network ${other} (${formatCidr(cidr)}): Docker refuses overlapping subnets`);
      }
    }
    subnets.set(name, networkOf(subnet));
    const driver = net.driver ?? 'bridge';
    const info: NetworkInfo = { driver, subnet: formatCidr(networkOf(subnet)), internal: net.internal ?? false, bridges: {} };
    if (driver === 'bridge') {
      const gw = net.gateway ?? formatIp({ family: 4, value: networkOf(subnet).value + 1n });
      if (!new Ipam(networkOf(subnet)).claimText(gw)) fail(path('gateway'), `gateway "${gw}" is not a host address inside ${net.subnet}`);
      else info.gateway = gw;
    }
    if (driver === 'overlay') info.vni = net.vni ?? FIRST_VNI + Object.keys(layer.networks).length;
    if (info.vni !== undefined && (info.vni < 1 || info.vni > 0xffffff)) fail(path('vni'), `vni must be from 1 to 16777215`);
    layer.networks[name] = info;
  }

  // Overlay containers get a second endpoint on docker_gwbridge, a bridge network on their host, for the way out.
  if (Object.values(layer.networks).some((n) => n.driver === 'overlay') && !layer.networks[GWBRIDGE]) {
    const subnet = parseCidr(GWBRIDGE_SUBNET);
    if (subnet) {
      subnets.set(GWBRIDGE, subnet);
      layer.networks[GWBRIDGE] = { driver: 'bridge', subnet: GWBRIDGE_SUBNET, gateway: formatIp({ family: 4, value: subnet.value + 1n }), internal: false, bridges: {} };
    }
  }
  /** The networks a container joins, in interface order: eth0, eth1, ... */
  const joinedOf = (c: RawContainer): string[] => {
    const list = c.networks ?? ['bridge'];
    return list.some((n) => layer.networks[n]?.driver === 'overlay') && !list.includes(GWBRIDGE) ? [...list, GWBRIDGE] : list;
  };

  // Allocators per (network, host), seeded with gateways.
  const pools = new Map<string, Ipam>();
  // A bridge network is local to each host (every host has its own docker0); an overlay spans hosts.
  const poolOf = (network: string, host: string): Ipam | undefined => {
    const info = own(layer.networks, network);
    const key = info?.driver === 'overlay' ? network : `${network}@${host}`;
    let pool = pools.get(key);
    const subnet = subnets.get(network);
    if (!pool && info && subnet) {
      pool = new Ipam(subnet);
      // The gateway address is reserved even on an overlay (Docker's IPAM does the same), so containers start at .2.
      pool.claimText(info.gateway ?? formatIp({ family: 4, value: subnet.value + 1n }));
      pools.set(key, pool);
    }
    return pool;
  };

  const specs = Object.entries(containers).map(([name, c]) => ({ name, c: c ?? {} }));
  // Containers that already have an address keep it: claim those first, in file order.
  const kept = new Map<string, string>();
  for (const { name, c } of specs) {
    const obsNode = observed ? own(observed.nodes, name) : undefined;
    if (!obsNode || (c.network_mode ?? 'bridge') !== 'bridge') continue;
    joinedOf(c).forEach((network, i) => {
      const subnet = subnets.get(network);
      const address = obsNode.interfaces[`eth${i}`]?.addresses.find((a) => { const p = parseCidr(a); return subnet && p && networkOf({ ...p, prefix: subnet.prefix }).value === subnet.value && p.prefix === subnet.prefix; });
      const pool = poolOf(network, c.host ?? DEFAULT_HOST);
      if (address && pool?.claimText(address.slice(0, address.indexOf('/')))) kept.set(`${name}/${network}`, address);
    });
  }

  const published = new Map<string, string>();
  const publishedOn = new Map<string, PublishedPort[]>();
  const overlayHosts = new Map<string, Set<string>>();
  for (const { name, c } of specs) {
    const path = (k: string) => pathOf('containers', name, k);
    const rawMode = c.network_mode ?? 'bridge';
    const mode = rawMode.startsWith('container:') ? 'container' : rawMode as ContainerInfo['mode'];
    const host = c.host ?? DEFAULT_HOST;
    const info: ContainerInfo = { mode, host, endpoints: [], publish: c.publish ?? [] };
    if (c.image !== undefined) info.image = c.image;
    if (c.command !== undefined) info.command = c.command;
    layer.containers[name] = info;
    if (own(topology.nodes, name)) { fail(pathOf('containers', name), `"${name}" is both a node and a container: rename one`); continue; }
    if (name === host) { fail(path('host'), `container ${name} cannot run on itself`); continue; }
    const reserved = reservedNameProblem(host, 'host');
    if (reserved) { fail(path('host'), reserved); continue; }
    if (mode === 'container') {
      // Docker's fourth mode: no namespace of its own; it joins another container's (resolved below).
      info.shares = rawMode.slice('container:'.length);
      if (c.networks?.length || c.publish?.length) fail(pathOf('containers', name), `a container in container mode uses ${info.shares}'s network: remove "networks" and "publish"`);
      continue;
    }
    const hostNs = nodeOf(host);
    if (mode === 'host') {
      if (c.networks?.length) fail(path('networks'), `a container in host mode shares ${host}'s network namespace: it joins no networks (remove "networks")`);
      if (c.publish?.length) fail(path('publish'), 'a container in host mode uses the host\'s ports directly: "publish" does not apply');
      continue;
    }
    const node = nodeOf(name);
    info.node = name;
    if (mode === 'none') {
      if (c.networks?.length || c.publish?.length) fail(pathOf('containers', name), 'a container in none mode has only lo: remove "networks" and "publish"');
      continue;
    }
    const joined = joinedOf(c);
    let defaultVia: string | undefined;
    joined.forEach((network, i) => {
      const net = own(layer.networks, network);
      if (!net) { fail(pathOf('containers', name, 'networks', i), `network "${network}" is not defined under networks`); return; }
      if (joined.indexOf(network) !== i) { fail(pathOf('containers', name, 'networks', i), `${name} joins ${network} twice`); return; }
      const pool = poolOf(network, host);
      const asked = i === 0 ? c.ip : undefined;
      if (asked !== undefined && network === 'bridge') { fail(path('ip'), 'a fixed address (ip) is for user-defined networks only, as in Docker: join a network of your own'); return; }
      const keptAddress = kept.get(`${name}/${network}`);
      const claimed = asked !== undefined && keptAddress?.split('/')[0] !== asked ? pool?.claimText(asked) : undefined;
      if (asked !== undefined && keptAddress?.split('/')[0] !== asked && !claimed) {
        // In Docker's words: an address outside the network, or one already taken (the gateway, another container).
        const subnet = layer.networks[network]?.subnet ?? '';
        const prefix = parseCidr(subnet);
        const ip = parseIp(asked);
        fail(path('ip'), prefix && ip && !contains(prefix, ip)
          ? `Invalid address ${asked}: It does not belong to any of this network's subnets (${network} is ${subnet})`
          : `Address already in use: ${asked} is taken in network ${network} (${subnet})`);
        return;
      }
      const address = keptAddress ?? (claimed && pool ? pool.cidrOf(claimed) : undefined) ?? (pool ? ((ip) => (ip ? pool.cidrOf(ip) : undefined))(pool.next()) : undefined);
      if (!address) { fail(pathOf('containers', name, 'networks', i), `network ${network} has no free address left for ${name}`); return; }
      const ifname = `eth${i}`;
      const peer = hostVethName(name, network);
      const bridge = bridgeName(network);
      const iface: Interface = { kind: 'veth', up: true, addresses: [address] };
      if (net.driver === 'overlay') iface.mtu = OVERLAY_MTU;
      node.interfaces[ifname] = iface;
      const hostSide: Interface = { kind: 'veth', up: true, addresses: [], master: bridge };
      if (net.driver === 'overlay') hostSide.mtu = OVERLAY_MTU;
      hostNs.interfaces[peer] = hostSide;
      topology.links.push({ a: { node: name, interface: ifname }, b: { node: host, interface: peer } });
      net.bridges[host] = bridge;
      if (net.driver === 'overlay') {
        const hosts = overlayHosts.get(network) ?? new Set<string>();
        hosts.add(host);
        overlayHosts.set(network, hosts);
      }
      // The default route: via the first non-internal bridge network; an overlay container's goes out through docker_gwbridge.
      if (net.driver === 'bridge' && !net.internal && (defaultVia === undefined || network === GWBRIDGE)) defaultVia = net.gateway;
      info.endpoints.push({ network, interface: ifname, address, peer: { node: host, interface: peer } });
    });
    if (defaultVia) node.routes.push({ dst: 'default', gateway: defaultVia });
    // Docker's embedded DNS answers container names on user-defined networks (never on the default bridge).
    if (info.endpoints.some((e) => e.network !== 'bridge' && e.network !== GWBRIDGE)) {
      info.dns = true;
      node.nat.push(...embeddedDnsRules());
    }

    (c.publish ?? []).forEach((text, i) => {
      const ppath = pathOf('containers', name, 'publish', i);
      const parsed = parsePublish(text);
      if (typeof parsed === 'string') { fail(ppath, parsed); return; }
      const { proto, hostPort, port } = parsed;
      const first = info.endpoints.find((e) => own(layer.networks, e.network)?.driver === 'bridge');
      if (!first?.address) { fail(ppath, `${name} has no bridge network to publish from`); return; }
      const key = `${host} ${proto}/${hostPort}`;
      const taken = published.get(key);
      if (taken) { fail(ppath, `${host}'s port ${hostPort}/${proto} is already published by ${taken}`); return; }
      published.set(key, name);
      const list = publishedOn.get(host) ?? [];
      list.push({ proto, hostPort, address: first.address.slice(0, first.address.indexOf('/')), port, bridge: bridgeName(first.network) });
      publishedOn.set(host, list);
    });
  }

  // A bridge network no container has joined yet still has its bridge on the default host, as `docker network create` makes it.
  for (const [network, info] of Object.entries(layer.networks)) {
    if (info.driver === 'bridge' && network !== GWBRIDGE && Object.keys(info.bridges).length === 0 && topology.nodes[DEFAULT_HOST]) info.bridges[DEFAULT_HOST] = bridgeName(network);
  }

  // Container mode: the namespace is the shared container's own (followed to its end, as Docker resolves it).
  for (const [name, info] of Object.entries(layer.containers)) {
    if (info.mode !== 'container') continue;
    const seen = new Set([name]);
    let target = info.shares ?? '';
    while (layer.containers[target]?.mode === 'container' && !seen.has(target)) { seen.add(target); target = layer.containers[target]?.shares ?? ''; }
    const shared = layer.containers[target];
    if (!shared) fail(pathOf('containers', name, 'network_mode'), `container "${info.shares}" is not defined under containers: network_mode container:NAME names a container`);
    else if (seen.has(target)) fail(pathOf('containers', name, 'network_mode'), `${name} shares a namespace in a circle: one container must have its own network`);
    else if (shared.mode === 'host') fail(pathOf('containers', name, 'network_mode'), `${target} runs in host mode: use network_mode: host for ${name} too`);
    else if (shared.node) { info.node = shared.node; info.host = shared.host; }
  }

  // Bridges and gateways per network and host; then each host's firewall, as Docker lays it out.
  const hostNetworks = new Map<string, HostNetwork[]>();
  const overlayBridges = new Map<string, string[]>();
  for (const [network, info] of Object.entries(layer.networks)) {
    const subnet = subnets.get(network);
    if (!subnet) continue;
    for (const [host, bridge] of Object.entries(info.bridges)) {
      const ns = nodeOf(host);
      const prefix = subnet.prefix;
      ns.interfaces[bridge] = { kind: 'bridge', up: true, addresses: info.gateway ? [`${info.gateway}/${prefix}`] : [] };
      if (info.driver !== 'bridge') {
        overlayBridges.set(host, [...(overlayBridges.get(host) ?? []), bridge]);
        continue;
      }
      if (!info.internal) ns.forwarding = true;
      const list = hostNetworks.get(host) ?? [];
      list.push({ bridge, subnet: info.subnet, internal: info.internal, icc: network !== GWBRIDGE });
      hostNetworks.set(host, list);
    }
  }
  for (const [host, list] of hostNetworks) {
    const ns = nodeOf(host);
    ns.nat.push(...dockerRules(list, publishedOn.get(host) ?? []));
    // Docker keeps an overlay's bridge in a namespace of its own, out of reach of the host's FORWARD chain; nslab
    // puts it in the host's, where bridged overlay frames cross FORWARD (br_netfilter): one ACCEPT per overlay
    // bridge lets them through under the DROP policy below, as they pass in Docker.
    ns.nat.push(...(overlayBridges.get(host) ?? []).map(overlayBridgeRule));
    ns.policies = Object.assign(Object.create(null) as Record<string, ChainPolicy>, ns.policies, DOCKER_POLICIES);
  }

  // Overlays: a VXLAN device per host, enslaved to the network's bridge, pointed at the other hosts.
  for (const [network, hosts] of overlayHosts) {
    const info = own(layer.networks, network);
    if (!info) continue;
    const spec = own(networks, network);
    const underlays = new Map<string, { dev: string; address: string }>();
    for (const host of hosts) {
      const u = underlayOf(nodeOf(host), spec?.dev);
      if (!u) fail(pathOf('networks', network), `host ${host} has no underlay address for overlay ${network}: give it an interface with an IPv4 address linked to the other hosts${spec?.dev ? ` (named ${spec.dev})` : ''}`);
      else underlays.set(host, u);
    }
    const list = [...underlays];
    for (const [host, u] of list) {
      const others = list.filter(([h]) => h !== host);
      const ns = nodeOf(host);
      const vx: Interface = { kind: 'vxlan', up: true, addresses: [], master: bridgeName(network), vxlan: { vni: info.vni ?? FIRST_VNI, port: VXLAN_PORT, dev: u.dev, local: u.address } };
      // Two hosts: point-to-point. More: a multicast group on the underlay, which the underlay bridge floods.
      if (others.length === 1 && vx.vxlan) vx.vxlan.remote = others[0]?.[1].address;
      else if (vx.vxlan) vx.vxlan.group = `239.1.${((info.vni ?? 0) >> 8) & 255}.${(info.vni ?? 0) & 255}`;
      ns.interfaces[vxlanName(network)] = vx;
    }
  }
  return layer;
}
