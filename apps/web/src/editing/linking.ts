/**
 * What a connect gesture means: dragging from a namespace (or a bridge) to another
 * becomes one veth pair with tutorial-style names, plugged into the bridge when an
 * end is a bridge, with addresses from the allocator when the user wants them.
 */
import type { Edit, Topology } from '@nslab/model';
import type { LinkEnd } from './allocator';
import { linkAddresses } from './allocator';
import { bridgePortName, freshEthName } from './naming';

/** The edits of a new link and a line for the command log, or why there is none. */
export type LinkPlan = { ok: true; edits: Edit[]; label: string } | { ok: false; message: string };

/** "ns1" or "host:br0", for sentences. */
export function endLabel(end: LinkEnd): string {
  return end.bridge ? `${end.node}:${end.bridge}` : end.node;
}

/** The edits that join `from` to `to` with a new veth pair. */
export function linkEdits(topology: Topology, from: LinkEnd, to: LinkEnd, withAddresses: boolean): LinkPlan {
  const a = topology.nodes[from.node];
  const b = topology.nodes[to.node];
  if (!a) return { ok: false, message: `there is no namespace "${from.node}"` };
  if (!b) return { ok: false, message: `there is no namespace "${to.node}"` };
  if (from.node === to.node && from.bridge === to.bridge) return { ok: false, message: `a veth pair needs two different ends: drop the link on another namespace or bridge` };
  if (from.bridge && a.interfaces[from.bridge]?.kind !== 'bridge') return { ok: false, message: `${endLabel(from)} is not a bridge` };
  if (to.bridge && b.interfaces[to.bridge]?.kind !== 'bridge') return { ok: false, message: `${endLabel(to)} is not a bridge` };

  const nameFor = (end: LinkEnd, other: LinkEnd, reserved: string[]) =>
    end.bridge ? bridgePortName(topology.nodes[end.node], other.node, reserved) : freshEthName(topology.nodes[end.node], reserved);
  const aName = nameFor(from, to, []);
  const bName = nameFor(to, from, from.node === to.node ? [aName] : []);

  const link: Extract<Edit, { kind: 'link.add' }> = { kind: 'link.add', a: { node: from.node, interface: aName }, b: { node: to.node, interface: bName } };
  if (withAddresses) {
    const addresses = linkAddresses(topology, from, to);
    if (addresses[0] !== null || addresses[1] !== null) link.addresses = addresses;
  }
  const edits: Edit[] = [link];
  if (from.bridge) edits.push({ kind: 'interface.set', node: from.node, name: aName, master: from.bridge });
  if (to.bridge) edits.push({ kind: 'interface.set', node: to.node, name: bName, master: to.bridge });
  return { ok: true, edits, label: `connect ${endLabel(from)} to ${endLabel(to)}` };
}
