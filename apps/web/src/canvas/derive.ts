/**
 * The canvas is derived, never stored: React Flow nodes and edges are computed by
 * pure functions from the lab (what the kernel has), the saved positions and the
 * selection. A namespace becomes one node that lists its interfaces as ports (each
 * a pair of handles, left and right) and draws each bridge as a box of its member
 * ports; a veth pair becomes an edge between exactly its two ports.
 */
import type { Edge, Node } from '@xyflow/react';
import { describeFirewallRule, formatRoute, linkKey } from '@nslab/model';
import type { Interface, InterfaceKind, Link, Namespace, Topology } from '@nslab/model';
import { NODE_WIDTH, nodeHeight } from './geometry';
import type { Selection } from '../state/selection';
import type { Size, XY } from '../state/plane';

/** The kernel's link state, reduced to what a learner sees. */
export type Carrier = 'up' | 'down' | 'unknown';

/** One interface as a port of a node. */
export interface PortView {
  name: string;
  kind: InterfaceKind;
  /** Administratively up (`ip link set X up`). */
  up: boolean;
  /** Whether the link has carrier: a veth whose peer is down has none. */
  carrier: Carrier;
  addresses: string[];
  /** The far end of a veth ("ns2:eth0"), or where an unlinked veth's peer lives. */
  peer?: string;
  /** True when this port is an end of a lab link (so an edge attaches to it). */
  linked: boolean;
  /** One line of kind-specific facts: a VXLAN's VNI and remote. */
  detail?: string;
}

/** A bridge drawn inside its namespace, with the ports plugged into it. */
export interface BridgeView {
  name: string;
  up: boolean;
  carrier: Carrier;
  addresses: string[];
  ports: PortView[];
}

/** What kind of thing a namespace plays in the lab, for its icon. */
export type NodeRole = 'namespace' | 'router' | 'host' | 'internet';

/** The data of a namespace node: plain values only (no callbacks), equal by reference when unchanged. */
export interface NamespaceData extends Record<string, unknown> {
  name: string;
  role: NodeRole;
  forwarding: boolean;
  /** Routes in `ip route` syntax. */
  routes: string[];
  /** NAT and forward rules, one line each. */
  nat: string[];
  /** Interfaces not in a bridge (and not bridges), in name order; `lo` only when it has addresses. */
  ports: PortView[];
  bridges: BridgeView[];
  /** A problem to show at the node (a failed command, an invalid edit). */
  problem?: string;
}

/** A namespace node of the canvas. */
export type NamespaceNode = Node<NamespaceData, 'namespace'>;

/** The data of a veth edge. */
export interface LinkData extends Record<string, unknown> {
  /** Either end is down or has no carrier. */
  down: boolean;
}

/** A veth edge of the canvas. */
export type LinkEdge = Edge<LinkData>;

/** Shared edge data, so an unchanged edge keeps equal data by reference. */
const UP_DATA: LinkData = { down: false };
const DOWN_DATA: LinkData = { down: true };

const CARRIER: Record<string, Carrier> = { up: 'up', unknown: 'unknown', down: 'down', lowerlayerdown: 'down', notpresent: 'down', dormant: 'down' };

/** The carrier of an interface; an interface read without state (a desired one) counts as its admin state. */
export function carrierOf(iface: Interface): Carrier {
  if (!iface.up) return 'down';
  if (iface.state === undefined) return 'up';
  return CARRIER[iface.state] ?? 'unknown';
}

/** True when a port should look down: administratively down or without carrier. */
export function looksDown(port: { up: boolean; carrier: Carrier }): boolean {
  return !port.up || port.carrier === 'down';
}

function peerOf(links: readonly Link[], node: string, ifname: string): string | undefined {
  for (const l of links) {
    if (l.a.node === node && l.a.interface === ifname) return `${l.b.node}:${l.b.interface}`;
    if (l.b.node === node && l.b.interface === ifname) return `${l.a.node}:${l.a.interface}`;
  }
  return undefined;
}

function portView(node: string, name: string, iface: Interface, links: readonly Link[]): PortView {
  const linkedPeer = peerOf(links, node, name);
  const port: PortView = { name, kind: iface.kind, up: iface.up, carrier: carrierOf(iface), addresses: iface.addresses, linked: linkedPeer !== undefined };
  const peer = linkedPeer ?? iface.peer;
  if (peer !== undefined) port.peer = peer;
  if (iface.vxlan) {
    const v = iface.vxlan;
    port.detail = `vxlan ${v.vni}${v.remote ? ` → ${v.remote}` : v.group ? ` group ${v.group}` : ''}${v.port !== 4789 ? ` :${v.port}` : ''}`;
  }
  return port;
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name, 'en', { numeric: true });

/** The role a namespace plays, from what it has: a bridge makes a host, forwarding a router. */
export function roleOf(name: string, ns: Namespace): NodeRole {
  if (/^internet/.test(name)) return 'internet';
  if (Object.values(ns.interfaces).some((i) => i.kind === 'bridge')) return 'host';
  if (ns.forwarding) return 'router';
  return 'namespace';
}

/** The data of one namespace node. */
export function namespaceData(name: string, ns: Namespace, links: readonly Link[], problem?: string): NamespaceData {
  const ports: PortView[] = [];
  const bridges = new Map<string, BridgeView>();
  const entries = Object.entries(ns.interfaces);
  for (const [ifname, iface] of entries) {
    if (iface.kind === 'bridge') bridges.set(ifname, { name: ifname, up: iface.up, carrier: carrierOf(iface), addresses: iface.addresses, ports: [] });
  }
  for (const [ifname, iface] of entries) {
    if (iface.kind === 'bridge') continue;
    if (iface.kind === 'loopback' && iface.addresses.length === 0) continue;
    const port = portView(name, ifname, iface, links);
    const bridge = iface.master ? bridges.get(iface.master) : undefined;
    if (bridge) bridge.ports.push(port);
    else ports.push(port);
  }
  const data: NamespaceData = {
    name,
    role: roleOf(name, ns),
    forwarding: ns.forwarding,
    routes: ns.routes.map(formatRoute),
    nat: ns.nat.map(describeFirewallRule),
    ports: ports.sort(byName),
    bridges: [...bridges.values()].sort(byName).map((b) => ({ ...b, ports: b.ports.sort(byName) })),
  };
  if (problem) data.problem = problem;
  return data;
}

/** The estimated height of a node with this data (see geometry.ts). */
export function dataHeight(data: NamespaceData): number {
  return nodeHeight(data.ports.length, data.bridges.map((b) => b.ports.length), data.routes.length + data.nat.length > 0);
}

/** Where a node without a saved position goes until the layout places it: a grid, so nothing stacks. */
export function fallbackPosition(index: number): XY {
  return { x: (index % 6) * (NODE_WIDTH + 80), y: Math.floor(index / 6) * 220 };
}

/** The handle id of a port on one side of its node. */
export function handleId(ifname: string, side: 'l' | 'r'): string {
  return `${ifname}:${side}`;
}

/** The id of a link's edge. */
export function edgeId(link: Link): string {
  return `link:${linkKey(link)}`;
}

/** Everything the canvas draws, derived. */
export interface Derived {
  nodes: NamespaceNode[];
  edges: LinkEdge[];
}

/** Inputs of `derive`, each from its own store. */
export interface DeriveInput {
  topology: Topology | undefined;
  positions: Readonly<Record<string, XY>>;
  selection: Selection;
  /** Problems to show at nodes, by node name. */
  problems?: Readonly<Record<string, string>>;
  /** Sizes the browser measured, by node (React Flow needs them back on every node it is given). */
  measured?: Readonly<Record<string, Size>>;
  /** The previous data by node, reused when nothing it depends on changed (keeps memoised nodes still). */
  cache?: DataCache;
  /** Extra class names by node name and by edge id (highlight.ts: the focused terminal, a packet, a trace). */
  highlight?: { nodes: Readonly<Record<string, string>>; edges: Readonly<Record<string, string>> };
}

/** Node data kept between derivations, keyed by the namespace object it was made from. */
export interface DataCache {
  links?: readonly Link[];
  entries: Map<string, { ns: Namespace; problem: string | undefined; data: NamespaceData }>;
}

/** A new, empty cache for `derive`. */
export function createDataCache(): DataCache {
  return { entries: new Map() };
}

/** React Flow nodes and edges for a lab. Pure, apart from filling the optional cache. */
export function derive({ topology, positions, selection, problems = {}, measured = {}, cache, highlight }: DeriveInput): Derived {
  if (!topology) return { nodes: [], edges: [] };
  const names = Object.keys(topology.nodes).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const linksSame = cache?.links === topology.links;
  const nodes: NamespaceNode[] = names.map((name, i) => {
    const ns = topology.nodes[name] as Namespace;
    const problem = problems[name];
    const hit = cache?.entries.get(name);
    let data: NamespaceData;
    if (hit && linksSame && hit.ns === ns && hit.problem === problem) data = hit.data;
    else {
      data = namespaceData(name, ns, topology.links, problem);
      cache?.entries.set(name, { ns, problem, data });
    }
    const node: NamespaceNode = {
      id: name,
      type: 'namespace',
      position: positions[name] ?? fallbackPosition(i),
      data,
      ariaLabel: `Namespace ${name}`,
    };
    if (selection?.kind === 'node' && selection.node === name) node.selected = true;
    const marked = highlight?.nodes[name];
    if (marked) node.className = marked;
    const size = measured[name];
    if (size) node.measured = size;
    return node;
  });
  if (cache) {
    cache.links = topology.links;
    for (const key of cache.entries.keys()) if (!(key in topology.nodes)) cache.entries.delete(key);
  }

  const centre = new Map(nodes.map((n) => [n.id, n.position.x + NODE_WIDTH / 2]));
  const edges: LinkEdge[] = topology.links.map((link) => {
    const a = topology.nodes[link.a.node]?.interfaces[link.a.interface];
    const b = topology.nodes[link.b.node]?.interfaces[link.b.interface];
    const down = !a || !b || looksDown({ up: a.up, carrier: carrierOf(a) }) || looksDown({ up: b.up, carrier: carrierOf(b) });
    const ca = centre.get(link.a.node) ?? 0;
    const cb = centre.get(link.b.node) ?? 0;
    const sameNode = link.a.node === link.b.node;
    const aRight = sameNode || ca <= cb;
    const id = edgeId(link);
    const edge: LinkEdge = {
      id,
      source: link.a.node,
      target: link.b.node,
      sourceHandle: handleId(link.a.interface, aRight ? 'r' : 'l'),
      targetHandle: handleId(link.b.interface, sameNode ? 'r' : aRight ? 'l' : 'r'),
      type: 'link',
      data: down ? DOWN_DATA : UP_DATA,
      ariaLabel: `veth ${link.a.node}:${link.a.interface} to ${link.b.node}:${link.b.interface}`,
    };
    const marked = highlight?.edges[id];
    if (down || marked) edge.className = down && marked ? `link-down ${marked}` : down ? 'link-down' : marked;
    if (selection?.kind === 'link' && `link:${selection.key}` === id) edge.selected = true;
    return edge;
  });
  return { nodes, edges };
}

/**
 * Keeps the previous object of each node or edge that did not change, so React Flow
 * and the memoised node components skip it. Shallow: same id, position, data and selection.
 */
export function reuse<T extends { id: string; selected?: boolean; data?: unknown; position?: XY; measured?: Partial<Size>; sourceHandle?: string | null; targetHandle?: string | null; className?: string }>(prev: readonly T[], next: T[]): T[] {
  if (prev.length === 0) return next;
  const old = new Map(prev.map((p) => [p.id, p]));
  let changed = prev.length !== next.length;
  const out = next.map((n, i) => {
    const p = old.get(n.id);
    const same = p !== undefined && p.selected === n.selected && p.data === n.data && p.className === n.className
      && p.position?.x === n.position?.x && p.position?.y === n.position?.y
      && p.measured?.width === n.measured?.width && p.measured?.height === n.measured?.height
      && p.sourceHandle === n.sourceHandle && p.targetHandle === n.targetHandle;
    if (!same || prev[i] !== p) changed = true;
    return same ? p : n;
  });
  return changed ? out : (prev as T[]);
}
