/**
 * Patches: how the server tells clients what changed in a lab. A change names the
 * object it touches by path (["nodes","ns1","interfaces","veth9"]) and carries its
 * new value, or none when the object is gone. Pure, so client and server share it.
 */
import type { Namespace, Topology } from './topology';

/** One change: set the value at `path`, or remove it when `value` is absent. */
export interface Change {
  path: string[];
  value?: unknown;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The changes that turn `prev` into `next`, at the grain a viewer cares about:
 * a node's interfaces one by one, its routes, NAT rules, chain policies, unmodelled firewall state and forwarding as wholes,
 * and the list of links.
 */
export function diffTopology(prev: Topology, next: Topology): Change[] {
  const changes: Change[] = [];
  for (const node of Object.keys(prev.nodes)) if (!(node in next.nodes)) changes.push({ path: ['nodes', node] });
  for (const [node, ns] of Object.entries(next.nodes)) {
    const old = prev.nodes[node];
    if (!old) {
      changes.push({ path: ['nodes', node], value: ns });
      continue;
    }
    diffNamespace(node, old, ns, changes);
  }
  if (!same(prev.links, next.links)) changes.push({ path: ['links'], value: next.links });
  return changes;
}

function diffNamespace(node: string, old: Namespace, ns: Namespace, changes: Change[]): void {
  for (const name of Object.keys(old.interfaces)) if (!(name in ns.interfaces)) changes.push({ path: ['nodes', node, 'interfaces', name] });
  for (const [name, iface] of Object.entries(ns.interfaces)) {
    if (!same(old.interfaces[name], iface)) changes.push({ path: ['nodes', node, 'interfaces', name], value: iface });
  }
  if (old.forwarding !== ns.forwarding) changes.push({ path: ['nodes', node, 'forwarding'], value: ns.forwarding });
  if (!same(old.routes, ns.routes)) changes.push({ path: ['nodes', node, 'routes'], value: ns.routes });
  if (!same(old.nat, ns.nat)) changes.push({ path: ['nodes', node, 'nat'], value: ns.nat });
  for (const key of ['policies', 'nftables', 'ip6tables'] as const) {
    if (!same(old[key], ns[key])) changes.push({ path: ['nodes', node, key], ...(ns[key] ? { value: ns[key] } : {}) });
  }
}

/** Applies changes to a topology, returning a new one (the input is not modified). */
export function applyChanges(topology: Topology, changes: Change[]): Topology {
  const out = structuredCloneJson(topology);
  for (const change of changes) {
    const parent = change.path.slice(0, -1).reduce<Record<string, unknown> | undefined>(
      (obj, key) => (obj && typeof obj[key] === 'object' && obj[key] !== null ? (obj[key] as Record<string, unknown>) : undefined),
      out as unknown as Record<string, unknown>,
    );
    const key = change.path[change.path.length - 1];
    if (!parent || key === undefined) continue;
    if ('value' in change && change.value !== undefined) parent[key] = structuredCloneJson(change.value);
    else delete parent[key];
  }
  return out;
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
