/**
 * Containers: each container of the file in its network mode (bridge, host, none,
 * container:NAME), with an endpoint per joined network (a veth pair to its host's
 * bridge, an address from the network's pool), its default route and embedded DNS.
 */
import { contains, parseCidr, parseIp, networkOf } from '../address';
import { pathOf } from '../problem';
import type { RawContainer } from '../schema';
import type { Interface, Topology } from '../topology';
import { own, reservedNameProblem } from '../names';
import type { Expansion } from './expansion';
import type { ContainerInfo } from './layer';
import { DEFAULT_HOST } from './layer';
import { GWBRIDGE, bridgeName, hostVethName } from './devices';
import type { AddressPools } from './networks';
import { joinedOf } from './networks';
import { OVERLAY_MTU } from './overlay';
import { embeddedDnsRules } from './dns';
import type { Publications } from './publish';

/** One container of the file, by name (a null entry is a container with every default). */
export interface ContainerEntry { name: string; c: RawContainer }

/**
 * Containers that already have an address (in `observed`, the lab as the kernel has it) keep it:
 * claimed from the pools first, in file order. Returns "container/network" -> address with prefix.
 */
export function keepAddresses(x: Expansion, specs: ContainerEntry[], pools: AddressPools, observed: Topology | undefined): Map<string, string> {
  const kept = new Map<string, string>();
  for (const { name, c } of specs) {
    const obsNode = observed ? own(observed.nodes, name) : undefined;
    if (!obsNode || (c.network_mode ?? 'bridge') !== 'bridge') continue;
    joinedOf(x.layer, c).forEach((network, i) => {
      const subnet = x.subnets.get(network);
      const address = obsNode.interfaces[`eth${i}`]?.addresses.find((a) => { const p = parseCidr(a); return subnet && p && networkOf({ ...p, prefix: subnet.prefix }).value === subnet.value && p.prefix === subnet.prefix; });
      const pool = pools.of(network, c.host ?? DEFAULT_HOST);
      if (address && pool?.claimText(address.slice(0, address.indexOf('/')))) kept.set(`${name}/${network}`, address);
    });
  }
  return kept;
}

/** What placing the containers leaves for the later steps. */
export interface Placed {
  /** Per overlay network, the hosts its containers run on. */
  overlayHosts: Map<string, Set<string>>;
}

/** Places each container: its node, endpoints, route, DNS rules and published ports (into `publications`). */
export function placeContainers(x: Expansion, specs: ContainerEntry[], pools: AddressPools, kept: ReadonlyMap<string, string>, publications: Publications): Placed {
  const { layer, topology, fail, nodeOf } = x;
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
      // Docker's fourth mode: no namespace of its own; it joins another container's (resolved by shareNamespaces).
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
    const joined = joinedOf(layer, c);
    let defaultVia: string | undefined;
    joined.forEach((network, i) => {
      const net = own(layer.networks, network);
      if (!net) { fail(pathOf('containers', name, 'networks', i), `network "${network}" is not defined under networks`); return; }
      if (joined.indexOf(network) !== i) { fail(pathOf('containers', name, 'networks', i), `${name} joins ${network} twice`); return; }
      const pool = pools.of(network, host);
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
    publications.publish(x, name, info);
  }
  return { overlayHosts };
}

/** Container mode: the namespace is the shared container's own (followed to its end, as Docker resolves it). */
export function shareNamespaces(x: Expansion): void {
  const { layer, fail } = x;
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
}
