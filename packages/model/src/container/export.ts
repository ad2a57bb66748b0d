/**
 * Export of a lab that has a container layer: the file gives back `networks` and
 * `containers` as they were written, and leaves out what they expand to (container
 * namespaces, bridges, host-side veths, VXLAN devices, Docker's rules), so applying
 * the export rebuilds the same kernel state and a re-apply of it runs nothing.
 */
import type { NatRule } from '../nat';
import { natKey } from '../nat';
import { parseFirewallLine } from '../firewall';
import type { RawTopology } from '../schema';
import type { Topology } from '../topology';
import type { ContainerSpec } from './layer';
import { expandContainers } from './expand';
import { vxlanName } from './devices';

/** `file` (the lab's plain export) with the expansion of `spec` replaced by `spec` itself. */
export function withContainerLayer(file: RawTopology, topology: Topology, spec: ContainerSpec): RawTopology {
  const own = new Set(Object.keys(spec.containers));
  // Expand the spec over the lab's other nodes with their rules cleared: the rules it adds are exactly the generated ones.
  const scratch: Topology = { name: topology.name, nodes: {}, links: topology.links.filter((l) => !own.has(l.a.node) && !own.has(l.b.node)) };
  for (const [name, node] of Object.entries(topology.nodes)) {
    if (!own.has(name)) scratch.nodes[name] = { forwarding: node.forwarding, interfaces: { ...node.interfaces }, routes: [], nat: [] };
  }
  const layer = expandContainers(scratch, spec.networks, spec.containers, topology, []);
  const generated = new Map<string, Set<string>>();
  const mark = (node: string, iface: string) => {
    const set = generated.get(node) ?? new Set<string>();
    set.add(iface);
    generated.set(node, set);
  };
  for (const [network, info] of Object.entries(layer.networks)) {
    for (const [host, bridge] of Object.entries(info.bridges)) {
      mark(host, bridge);
      if (info.driver === 'overlay') mark(host, vxlanName(network));
    }
  }
  for (const info of Object.values(layer.containers)) for (const e of info.endpoints) mark(e.peer.node, e.peer.interface);
  const isGenerated = (node: string, iface: string) => own.has(node) || (generated.get(node)?.has(iface) ?? false);

  const out: RawTopology = { ...file, nodes: { ...file.nodes } };
  for (const [name, raw] of Object.entries(out.nodes ?? {})) {
    if (own.has(name)) { delete out.nodes?.[name]; continue; }
    if (!raw || !out.nodes) continue;
    const node = { ...raw };
    if (node.interfaces) {
      const kept = Object.fromEntries(Object.entries(node.interfaces).filter(([ifname]) => !isGenerated(name, ifname)));
      if (Object.keys(kept).length > 0) node.interfaces = kept;
      else delete node.interfaces;
    }
    const rules = new Set((scratch.nodes[name]?.nat ?? []).map(natKey));
    if (node.nat) {
      const kept = node.nat.filter((r) => !rules.has(natKey(r as NatRule)));
      if (kept.length > 0) node.nat = kept;
      else delete node.nat;
    }
    // Docker's and kube-proxy's own chains come back as raw firewall lines: those are generated too.
    if (node.firewall) {
      const kept = node.firewall.filter((line) => {
        const parsed = parseFirewallLine(line);
        return !parsed.ok || !rules.has(natKey(parsed.rule));
      });
      if (kept.length > 0) node.firewall = kept;
      else delete node.firewall;
    }
    // Docker's FORWARD DROP is generated too; a policy the layer does not set stays in the file.
    if (node.policies) {
      const made = scratch.nodes[name]?.policies ?? {};
      const kept = Object.entries(node.policies).filter(([key, value]) => made[key] !== value);
      if (kept.length > 0) node.policies = Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries(kept));
      else delete node.policies;
    }
    out.nodes[name] = node;
  }
  const links = (file.links ?? []).filter(([a, b]) => ![a, b].some((text) => {
    const i = text.indexOf(':');
    return isGenerated(text.slice(0, i), text.slice(i + 1));
  }));
  if (links.length > 0) out.links = links;
  else delete out.links;
  if (Object.keys(spec.networks).length > 0) out.networks = spec.networks;
  if (Object.keys(spec.containers).length > 0) out.containers = spec.containers;
  return out;
}
