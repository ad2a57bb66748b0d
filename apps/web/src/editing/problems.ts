/**
 * Where a problem belongs on screen. The server (and the local check) name a problem
 * by a path into the lab file ("nodes.ns1.interfaces.eth0.addresses[1]") or into the
 * edits it was sent ("edits[0]"); a failed command names its op. This maps each to a
 * node of the canvas and a field of the inspector, so the sentence shows where the
 * learner is looking.
 */
import { opNodes } from '@nslab/model';
import type { Edit, Op, Problem } from '@nslab/model';

/** A problem placed: the node it concerns (if any) and the inspector field key. */
export interface PlacedProblem {
  message: string;
  node?: string;
  /** A field key: "nodes.ns1.interfaces.eth0.addresses", "nodes.ns1.routes", ... or "lab". */
  field: string;
}

/** The inspector field keys, built the same way by the inspector and by `place`. */
export const fieldKey = {
  node: (node: string) => `nodes.${node}`,
  forwarding: (node: string) => `nodes.${node}.forwarding`,
  iface: (node: string, iface: string) => `nodes.${node}.interfaces.${iface}`,
  addresses: (node: string, iface: string) => `nodes.${node}.interfaces.${iface}.addresses`,
  master: (node: string, iface: string) => `nodes.${node}.interfaces.${iface}.master`,
  routes: (node: string) => `nodes.${node}.routes`,
  nat: (node: string) => `nodes.${node}.nat`,
  connect: (node: string) => `nodes.${node}.connect`,
  sysctl: (node: string, name: string) => `nodes.${node}.sysctls.${name}`,
} as const;

/** The field an edit concerns. */
export function editField(edit: Edit): { node?: string; field: string } {
  switch (edit.kind) {
    case 'node.add':
    case 'node.remove':
    case 'node.rename':
      return { node: edit.node, field: fieldKey.node(edit.node) };
    case 'interface.add':
    case 'interface.remove':
      return { node: edit.node, field: fieldKey.iface(edit.node, edit.name) };
    case 'interface.set':
      return { node: edit.node, field: edit.master !== undefined ? fieldKey.master(edit.node, edit.name) : fieldKey.iface(edit.node, edit.name) };
    case 'link.add':
      return { node: edit.a.node, field: fieldKey.connect(edit.a.node) };
    case 'link.remove':
      return { node: edit.a.node, field: fieldKey.iface(edit.a.node, edit.a.interface) };
    case 'address.add':
    case 'address.remove':
      return { node: edit.node, field: fieldKey.addresses(edit.node, edit.interface) };
    case 'route.add':
    case 'route.remove':
      return { node: edit.node, field: fieldKey.routes(edit.node) };
    case 'nat.add':
    case 'nat.remove':
      return { node: edit.node, field: fieldKey.nat(edit.node) };
    case 'forwarding.set':
      return { node: edit.node, field: fieldKey.forwarding(edit.node) };
    case 'sysctl.set':
      return { node: edit.node, field: fieldKey.sysctl(edit.node, edit.name) };
    default: {
      const never: never = edit;
      throw new Error(`unexpected edit ${JSON.stringify(never)}`);
    }
  }
}

/** Splits "nodes.ns1.interfaces.eth0.addresses[1]" into ["nodes","ns1","interfaces","eth0","addresses"]. */
function segments(path: string): string[] {
  return path.replace(/\[\d+\]/g, '').split('.').filter((s) => s.length > 0);
}

/** Places one problem, using the edits it answers to read "edits[i]" paths. */
export function place(problem: Problem, edits: readonly Edit[] = []): PlacedProblem {
  const m = /^edits\[(\d+)\]/.exec(problem.path);
  if (m) {
    const edit = edits[Number(m[1])];
    return edit ? { message: problem.message, ...editField(edit) } : { message: problem.message, field: 'lab' };
  }
  const s = segments(problem.path);
  if (s[0] !== 'nodes' || s[1] === undefined) {
    // A link problem: shown at the node the latest edit touched, else on the lab.
    const last = edits[edits.length - 1];
    return last && problem.path.startsWith('links') ? { message: problem.message, ...editField(last) } : { message: problem.message, field: 'lab' };
  }
  const node = s[1];
  if (s[2] === 'interfaces' && s[3] !== undefined) {
    const iface = s[3];
    if (s[4] === 'addresses') return { message: problem.message, node, field: fieldKey.addresses(node, iface) };
    if (s[4] === 'master') return { message: problem.message, node, field: fieldKey.master(node, iface) };
    return { message: problem.message, node, field: fieldKey.iface(node, iface) };
  }
  if (s[2] === 'routes') return { message: problem.message, node, field: fieldKey.routes(node) };
  if (s[2] === 'nat') return { message: problem.message, node, field: fieldKey.nat(node) };
  if (s[2] === 'forwarding') return { message: problem.message, node, field: fieldKey.forwarding(node) };
  return { message: problem.message, node, field: fieldKey.node(node) };
}

/** The field a failed op concerns, so a kernel error shows beside what caused it. */
export function placeOp(op: Op, message: string): PlacedProblem {
  const node = opNodes(op)[0];
  switch (op.kind) {
    case 'addr.add':
    case 'addr.del':
      return { message, node: op.node, field: fieldKey.addresses(op.node, op.interface) };
    case 'route.add':
    case 'route.del':
      return { message, node: op.node, field: fieldKey.routes(op.node) };
    case 'nat.add':
    case 'nat.del':
      return { message, node: op.node, field: fieldKey.nat(op.node) };
    case 'sysctl.set':
      return { message, node: op.node, field: fieldKey.forwarding(op.node) };
    case 'link.enslave':
    case 'link.release':
      return { message, node: op.node, field: fieldKey.master(op.node, op.interface) };
    case 'device.add':
    case 'link.del':
    case 'link.mtu':
    case 'link.up':
    case 'link.down':
      return { message, node: op.node, field: fieldKey.iface(op.node, op.interface) };
    case 'veth.add':
      return { message, node: op.a.node, field: fieldKey.connect(op.a.node) };
    default:
      return node ? { message, node, field: fieldKey.node(node) } : { message, field: 'lab' };
  }
}

/** The first problem of each node, for the badge on the canvas. */
export function problemsByNode(problems: readonly PlacedProblem[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problems) if (p.node && !(p.node in out)) out[p.node] = p.message;
  return out;
}
