/**
 * The container view: Docker's model of the lab (sandboxes, endpoints, networks)
 * next to the kernel's (namespaces, veth pairs, bridges). Derived, never stored:
 * from the file's container layer (`meta.containers`) when the lab was applied from
 * `networks`/`containers`, else generically from the kernel: a namespace without
 * bridges is a sandbox, each of its veth ends an endpoint, each bridge a network
 * (and a veth pair that ends in no bridge a point-to-point network).
 *
 * Every endpoint knows what implements it in the kernel view: the veth pair (an
 * edge of the canvas) and the bridge port at its far end.
 */
import { linkKey } from '@nslab/model';
import type { ContainerLayer, Endpoint, Topology } from '@nslab/model';
import type { Selection } from '../state/selection';
import { edgeId } from '../canvas/derive';

/** A sandbox's interface on a network. */
export interface EndpointView {
  /** "sandbox/interface". */
  id: string;
  sandbox: string;
  /** The namespace that has the interface. */
  node: string;
  interface: string;
  /** The id of its network in `ContainerModel.networks`. */
  network: string;
  address?: string;
  /** The far end of its veth pair: a bridge port (or the other namespace's end). */
  peer?: Endpoint;
  /** The bridge the far end is plugged into. */
  bridge?: { node: string; name: string };
  /** The canvas edge of the veth pair. */
  edge?: string;
}

/** A container (Docker's sandbox) or, generically, a namespace. */
export interface SandboxView {
  name: string;
  kind: 'container' | 'namespace' | 'host';
  /** Docker's network mode, for containers. */
  mode?: 'bridge' | 'host' | 'none' | 'container';
  /** The namespace of the sandbox (a host-mode container has the host's). */
  node: string;
  /** The host a container runs on. */
  host?: string;
  endpoints: EndpointView[];
  publish: string[];
  /** Bridges in this namespace (hosts only). */
  bridges: string[];
  /** One line about it ("shares host's network namespace"). */
  note?: string;
  /** Containers in container mode that joined this sandbox: one namespace, several containers (Docker's `--net=container:NAME`). */
  joined?: string[];
}

/** A VXLAN device plugged into one of a network's bridges: the tunnel that carries the network between hosts. */
export interface VxlanView {
  node: string;
  name: string;
  vni?: number;
  /** The other end: a remote VTEP's address, or a multicast group. */
  remote?: string;
  group?: string;
  /** The underlay address it sends from. */
  local?: string;
}

/** A network: a Docker network, a bridge, or a point-to-point veth pair. */
export interface NetworkView {
  id: string;
  name: string;
  kind: 'docker' | 'bridge' | 'direct';
  driver: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  /** The bridges that implement it, per host. */
  bridges: { node: string; name: string }[];
  /** The VXLAN devices that are ports of those bridges (an overlay's tunnels, one per host), as the kernel has them. */
  vxlans: VxlanView[];
  vni?: number;
  /** For a direct network: the link's key. */
  link?: string;
}

/** The container view of a lab. */
export interface ContainerModel {
  /** Where the model came from: the file's container layer, or the kernel alone. */
  source: 'docker' | 'kernel';
  sandboxes: SandboxView[];
  networks: NetworkView[];
  /** Namespaces that are neither containers nor hosts (docker labs only): "internet", a router. */
  others: SandboxView[];
  /** Namespaces that host networks. */
  hosts: SandboxView[];
}

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function peerOf(topology: Topology, node: string, iface: string): { peer: Endpoint; edge: string; key: string } | undefined {
  for (const link of topology.links) {
    if (link.a.node === node && link.a.interface === iface) return { peer: link.b, edge: edgeId(link), key: linkKey(link) };
    if (link.b.node === node && link.b.interface === iface) return { peer: link.a, edge: edgeId(link), key: linkKey(link) };
  }
  return undefined;
}

/** The VXLAN devices the kernel has as ports of these bridges. */
function vxlansOf(topology: Topology, bridges: { node: string; name: string }[]): VxlanView[] {
  const out: VxlanView[] = [];
  for (const br of bridges) {
    for (const [name, iface] of Object.entries(topology.nodes[br.node]?.interfaces ?? {}).sort(([a], [b]) => byName(a, b))) {
      if (iface.kind !== 'vxlan' || iface.master !== br.name) continue;
      const v: VxlanView = { node: br.node, name };
      if (iface.vxlan?.vni !== undefined) v.vni = iface.vxlan.vni;
      if (iface.vxlan?.remote) v.remote = iface.vxlan.remote;
      if (iface.vxlan?.group) v.group = iface.vxlan.group;
      if (iface.vxlan?.local) v.local = iface.vxlan.local;
      out.push(v);
    }
  }
  return out;
}

function firstAddress(topology: Topology, node: string, iface: string): string | undefined {
  return topology.nodes[node]?.interfaces[iface]?.addresses[0];
}

/** Builds networks and endpoints generically, from the kernel alone. */
class Builder {
  readonly networks = new Map<string, NetworkView>();

  constructor(private readonly topology: Topology, private readonly bridgeNetwork: (node: string, bridge: string) => string | undefined) {}

  /** The network of a bridge, made on first use. */
  bridge(node: string, name: string): string {
    const owned = this.bridgeNetwork(node, name);
    if (owned) return owned;
    const id = `bridge:${node}/${name}`;
    if (!this.networks.has(id)) {
      const address = firstAddress(this.topology, node, name);
      const bridges = [{ node, name }];
      const net: NetworkView = { id, name: `${name} (${node})`, kind: 'bridge', driver: 'bridge', internal: false, bridges, vxlans: vxlansOf(this.topology, bridges) };
      if (address) {
        net.gateway = address.slice(0, address.indexOf('/'));
        net.subnet = address;
      }
      this.networks.set(id, net);
    }
    return id;
  }

  /** The endpoint of a namespace's veth end, with what implements it. */
  endpoint(sandbox: string, node: string, iface: string): EndpointView | undefined {
    const found = peerOf(this.topology, node, iface);
    if (!found) return undefined;
    const { peer, edge, key } = found;
    const master = this.topology.nodes[peer.node]?.interfaces[peer.interface]?.master;
    let network: string;
    let bridge: { node: string; name: string } | undefined;
    if (master && this.topology.nodes[peer.node]?.interfaces[master]?.kind === 'bridge') {
      bridge = { node: peer.node, name: master };
      network = this.bridge(peer.node, master);
    } else {
      network = `veth:${key}`;
      if (!this.networks.has(network)) {
        this.networks.set(network, { id: network, name: `${node}:${iface} ↔ ${peer.node}:${peer.interface}`, kind: 'direct', driver: 'veth pair', internal: false, bridges: [], vxlans: [], link: key });
      }
    }
    const ep: EndpointView = { id: `${sandbox}/${iface}`, sandbox, node, interface: iface, network, peer, edge };
    const address = firstAddress(this.topology, node, iface);
    if (address) ep.address = address;
    if (bridge) ep.bridge = bridge;
    return ep;
  }

  /** A namespace as a sandbox (or a host, when it has bridges): its linked veth ends that are not bridge ports are its endpoints. */
  namespace(node: string): SandboxView {
    const ns = this.topology.nodes[node];
    const entries = Object.entries(ns?.interfaces ?? {}).sort(([a], [b]) => byName(a, b));
    const bridges = entries.filter(([, i]) => i.kind === 'bridge').map(([n]) => n);
    const endpoints: EndpointView[] = [];
    for (const [ifname, iface] of entries) {
      if (iface.kind !== 'veth' || iface.master) continue;
      const ep = this.endpoint(node, node, ifname);
      if (ep) endpoints.push(ep);
    }
    for (const b of bridges) this.bridge(node, b);
    return { name: node, kind: bridges.length > 0 ? 'host' : 'namespace', node, endpoints, publish: [], bridges };
  }
}

/** The container view of a lab. */
export function containerModel(topology: Topology, layer: ContainerLayer | undefined): ContainerModel {
  const names = Object.keys(topology.nodes).sort(byName);
  if (!layer || Object.keys(layer.containers).length + Object.keys(layer.networks).length === 0) {
    const b = new Builder(topology, () => undefined);
    const all = names.map((n) => b.namespace(n));
    return { source: 'kernel', sandboxes: all.filter((s) => s.kind === 'namespace'), hosts: all.filter((s) => s.kind === 'host'), others: [], networks: sortNetworks([...b.networks.values()]) };
  }

  // Docker networks, and which bridge of which host implements each.
  const owner = new Map<string, string>();
  const networks: NetworkView[] = [];
  for (const [name, info] of Object.entries(layer.networks).sort(([a], [b]) => byName(a, b))) {
    const id = `net:${name}`;
    // One network however many hosts it spans: an overlay is a bridge per host joined by their VXLAN devices.
    const bridges = Object.entries(info.bridges).map(([node, bridge]) => ({ node, name: bridge })).sort((a, c) => byName(a.node, c.node));
    const net: NetworkView = { id, name, kind: 'docker', driver: info.driver, subnet: info.subnet, internal: info.internal, bridges, vxlans: vxlansOf(topology, bridges) };
    if (info.gateway) net.gateway = info.gateway;
    if (info.vni !== undefined) net.vni = info.vni;
    for (const br of net.bridges) owner.set(`${br.node}/${br.name}`, id);
    networks.push(net);
  }
  const b = new Builder(topology, (node, bridge) => owner.get(`${node}/${bridge}`));

  const sandboxes: SandboxView[] = [];
  const containerNodes = new Set<string>();
  for (const [name, info] of Object.entries(layer.containers).sort(([a], [c]) => byName(a, c))) {
    const node = info.node ?? info.host;
    if (info.node) containerNodes.add(info.node);
    const endpoints: EndpointView[] = [];
    for (const e of info.endpoints) {
      const ep = b.endpoint(name, node, e.interface);
      const view: EndpointView = ep ?? { id: `${name}/${e.interface}`, sandbox: name, node, interface: e.interface, network: `net:${e.network}`, peer: e.peer };
      view.network = `net:${e.network}`;
      if (e.address) view.address = e.address;
      endpoints.push(view);
    }
    const sandbox: SandboxView = { name, kind: 'container', mode: info.mode, node, host: info.host, endpoints, publish: info.publish, bridges: [] };
    if (info.mode === 'host') sandbox.note = `shares ${info.host}'s network namespace: no interfaces of its own`;
    else if (info.mode === 'none') sandbox.note = 'none mode: only lo, no network';
    else if (info.mode === 'container') sandbox.note = `shares ${info.shares ?? ''}'s network namespace: one sandbox, the same interfaces`;
    sandboxes.push(sandbox);
  }
  // Container mode: no sandbox of its own; the container is listed in the sandbox whose namespace it shares.
  for (const s of sandboxes.filter((x) => x.mode === 'container')) {
    const owner = sandboxes.find((x) => x.mode !== 'container' && x.node === s.node && x.host === s.host);
    if (!owner) continue;
    (owner.joined ??= []).push(s.name);
    sandboxes.splice(sandboxes.indexOf(s), 1);
  }
  const hostNodes = new Set(networks.flatMap((n) => n.bridges.map((br) => br.node)));
  const hosts: SandboxView[] = [];
  const others: SandboxView[] = [];
  for (const n of names) {
    if (containerNodes.has(n)) continue;
    const s = b.namespace(n);
    if (hostNodes.has(n) || s.kind === 'host') hosts.push({ ...s, kind: 'host' });
    else others.push(s);
  }
  return { source: 'docker', sandboxes, networks: sortNetworks([...networks, ...b.networks.values()]), others, hosts };
}

function sortNetworks(networks: NetworkView[]): NetworkView[] {
  const rank = { docker: 0, bridge: 1, direct: 2 } as const;
  return networks.sort((a, b) => rank[a.kind] - rank[b.kind] || byName(a.name, b.name));
}

/** What selecting an item of the container view selects (the same selection as the kernel view's). */
export function selectEndpoint(ep: EndpointView): Selection {
  return { kind: 'node', node: ep.node, interface: ep.interface };
}

/** Selecting a sandbox selects its namespace. */
export function selectSandbox(s: SandboxView): Selection {
  return { kind: 'node', node: s.node };
}

/** Selecting a network selects its (first) bridge, or the veth pair of a direct network. */
export function selectNetwork(n: NetworkView): Selection {
  if (n.link) return { kind: 'link', key: n.link };
  const br = n.bridges[0];
  return br ? { kind: 'node', node: br.node, interface: br.name } : undefined;
}

/** Whether an endpoint is the selection: its own interface, or its veth pair. */
export function endpointSelected(ep: EndpointView, sel: Selection): boolean {
  if (!sel) return false;
  if (sel.kind === 'link') return ep.edge === `link:${sel.key}`;
  if (sel.node === ep.node && sel.interface === ep.interface) return true;
  return ep.peer !== undefined && sel.node === ep.peer.node && sel.interface === ep.peer.interface;
}

/** Whether a network is the selection: one of its bridges, or its veth pair. */
export function networkSelected(n: NetworkView, sel: Selection): boolean {
  if (!sel) return false;
  if (sel.kind === 'link') return n.link === sel.key;
  return n.bridges.some((b) => b.node === sel.node && b.name === sel.interface);
}

/** Whether a sandbox is the selection (its namespace, with no interface picked). */
export function sandboxSelected(s: SandboxView, sel: Selection): boolean {
  return sel?.kind === 'node' && sel.node === s.node && sel.interface === undefined;
}
