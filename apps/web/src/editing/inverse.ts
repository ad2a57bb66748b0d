/**
 * Undo as data: the edits that take a lab back to where it was before a batch of
 * edits. Sent like any edit, so an undo is planned, shown and run by the server
 * like everything else (the inverse plan), and never replays stale kernel state.
 */
import { applyEdits, formatRoute, parseRoute, resolve, sysctlDefault, toFile } from '@nslab/model';
import type { Edit, Endpoint, RawInterface, Topology } from '@nslab/model';

type Ifaces = Record<string, RawInterface>;

function fileIfaces(state: Topology, node: string): Ifaces {
  return toFile(state).nodes?.[node]?.interfaces ?? {};
}

/** The link that has this end, if any. */
function linkAt(state: Topology, end: Endpoint) {
  return state.links.find((l) => (l.a.node === end.node && l.a.interface === end.interface) || (l.b.node === end.node && l.b.interface === end.interface));
}

/** Edits that put back what `link.add` cannot say in one go: more addresses, a master, down, an MTU. */
function restoreEnd(state: Topology, end: Endpoint): Edit[] {
  const raw = fileIfaces(state, end.node)[end.interface];
  if (!raw) return [];
  const edits: Edit[] = (raw.addresses ?? []).slice(1).map((address) => ({ kind: 'address.add', node: end.node, interface: end.interface, address }));
  if (raw.master !== undefined || raw.up === false || raw.mtu !== undefined) {
    const set: Extract<Edit, { kind: 'interface.set' }> = { kind: 'interface.set', node: end.node, name: end.interface };
    if (raw.master !== undefined) set.master = raw.master;
    if (raw.up === false) set.up = false;
    if (raw.mtu !== undefined) set.mtu = raw.mtu;
    edits.push(set);
  }
  return edits;
}

/** Edits that recreate a link exactly as it is in `state`. */
function recreateLink(state: Topology, link: { a: Endpoint; b: Endpoint }): Edit[] {
  const first = (e: Endpoint) => fileIfaces(state, e.node)[e.interface]?.addresses?.[0] ?? null;
  const add: Extract<Edit, { kind: 'link.add' }> = { kind: 'link.add', a: link.a, b: link.b };
  const addresses: [string | null, string | null] = [first(link.a), first(link.b)];
  if (addresses[0] !== null || addresses[1] !== null) add.addresses = addresses;
  return [add, ...restoreEnd(state, link.a), ...restoreEnd(state, link.b)];
}

/** The edits that undo one edit made on `state` (the lab just before it). */
export function inverseOf(state: Topology, edit: Edit): Edit[] {
  switch (edit.kind) {
    case 'node.add':
      return [{ kind: 'node.remove', node: edit.node }];
    case 'node.remove': {
      const ns = state.nodes[edit.node];
      if (!ns) return [];
      const file = toFile(state).nodes?.[edit.node] ?? {};
      const edits: Edit[] = [{ kind: 'node.add', node: edit.node, ...(ns.forwarding ? { forwarding: true } : {}) }];
      const linked = new Set<string>();
      const links = state.links.filter((l) => l.a.node === edit.node || l.b.node === edit.node);
      for (const l of links) for (const e of [l.a, l.b]) if (e.node === edit.node) linked.add(e.interface);
      // Bridges before the ports that name them as master.
      const ifaces = Object.entries(file.interfaces ?? {}).sort(([, x], [, y]) => Number(y.kind === 'bridge') - Number(x.kind === 'bridge'));
      for (const [name, raw] of ifaces) if (!linked.has(name)) edits.push({ kind: 'interface.add', node: edit.node, name, interface: raw });
      for (const l of links) edits.push(...recreateLink(state, l));
      for (const route of file.routes ?? []) edits.push({ kind: 'route.add', node: edit.node, route });
      for (const rule of file.nat ?? []) edits.push({ kind: 'nat.add', node: edit.node, rule });
      return edits;
    }
    case 'node.rename':
      return [{ kind: 'node.rename', node: edit.to, to: edit.node }];
    case 'interface.add':
      return [{ kind: 'interface.remove', node: edit.node, name: edit.name }];
    case 'interface.remove': {
      const end = { node: edit.node, interface: edit.name };
      const link = linkAt(state, end);
      const raw = fileIfaces(state, edit.node)[edit.name];
      const edits: Edit[] = link ? recreateLink(state, link) : raw ? [{ kind: 'interface.add', node: edit.node, name: edit.name, interface: raw }] : [];
      for (const [name, iface] of Object.entries(state.nodes[edit.node]?.interfaces ?? {})) {
        if (iface.master === edit.name) edits.push({ kind: 'interface.set', node: edit.node, name, master: edit.name });
      }
      return edits;
    }
    case 'interface.set': {
      const iface = state.nodes[edit.node]?.interfaces[edit.name];
      if (!iface) return [];
      const back: Extract<Edit, { kind: 'interface.set' }> = { kind: 'interface.set', node: edit.node, name: edit.name };
      if (edit.up !== undefined) back.up = iface.up;
      if (edit.master !== undefined) back.master = iface.master ?? null;
      if (edit.mtu !== undefined) back.mtu = iface.mtu ?? null;
      return [back];
    }
    case 'link.add':
      return [{ kind: 'link.remove', a: edit.a }];
    case 'link.remove': {
      const link = linkAt(state, edit.a);
      return link ? recreateLink(state, link) : [];
    }
    case 'address.add':
      return [{ kind: 'address.remove', node: edit.node, interface: edit.interface, address: edit.address }];
    case 'address.remove':
      return [{ kind: 'address.add', node: edit.node, interface: edit.interface, address: edit.address }];
    case 'route.add':
      return [{ kind: 'route.remove', node: edit.node, route: edit.route }];
    case 'route.remove': {
      const parsed = parseRoute(edit.route);
      const target = parsed.ok ? formatRoute(parsed.route) : edit.route;
      const found = state.nodes[edit.node]?.routes.map(formatRoute).find((r) => r === target);
      return [{ kind: 'route.add', node: edit.node, route: found ?? edit.route }];
    }
    case 'nat.add': {
      const count = toFile(state).nodes?.[edit.node]?.nat?.length ?? 0;
      return [{ kind: 'nat.remove', node: edit.node, index: count }];
    }
    case 'nat.remove': {
      const rule = toFile(state).nodes?.[edit.node]?.nat?.[edit.index];
      return rule ? [{ kind: 'nat.add', node: edit.node, rule }] : [];
    }
    case 'forwarding.set':
      return [{ kind: 'forwarding.set', node: edit.node, value: state.nodes[edit.node]?.forwarding ?? false }];
    case 'sysctl.set': {
      // The value before, when the lab state knows it (knobs are read on demand, so it may not).
      const before = state.nodes[edit.node]?.sysctls?.[edit.name] ?? sysctlDefault(edit.name);
      return before === undefined ? [] : [{ kind: 'sysctl.set', node: edit.node, name: edit.name, value: before }];
    }
    default: {
      const never: never = edit;
      throw new Error(`unexpected edit ${JSON.stringify(never)}`);
    }
  }
}

/** The lab after edits, as the server will compute it (unvalidated: an undo only needs the shape). */
export function afterEdits(state: Topology, edits: Edit[]): Topology | undefined {
  const result = applyEdits(toFile(state), edits);
  if (!result.ok) return undefined;
  return resolve(result.file, []);
}

/**
 * The edits that undo a batch made on `state`: each edit's inverse, computed on the
 * lab as it stood just before that edit, in reverse order. Undefined when the batch
 * cannot be replayed here (the server would refuse it too).
 */
export function invertEdits(state: Topology, edits: Edit[]): Edit[] | undefined {
  const parts: Edit[][] = [];
  let current = state;
  for (const edit of edits) {
    parts.unshift(inverseOf(current, edit));
    const next = afterEdits(current, [edit]);
    if (!next) return undefined;
    current = next;
  }
  return parts.flat();
}
