/**
 * Edits: the small changes a user makes on the canvas ("add an address", "connect
 * these two"). The server applies them to the lab's file form, validates the result
 * like any file, and plans against the kernel, so an edit is never a raw command.
 */
import { z } from 'zod';
import { rawInterface, rawFirewallRule } from './schema';
import type { RawTopology } from './schema';
import type { Problem } from './problem';
import { assertNever } from './never';
import { parseRoute, formatRoute, routeSatisfies } from './route';
import { reservedNameProblem } from './names';

const name = z.string().max(64);
const endpoint = z.strictObject({ node: name, interface: name });

/** One edit, as sent by a client. */
export const editSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('node.add'), node: name, forwarding: z.boolean().optional() }),
  z.strictObject({ kind: z.literal('node.remove'), node: name }),
  z.strictObject({ kind: z.literal('node.rename'), node: name, to: name }),
  z.strictObject({ kind: z.literal('interface.add'), node: name, name, interface: rawInterface }),
  z.strictObject({ kind: z.literal('interface.remove'), node: name, name }),
  z.strictObject({ kind: z.literal('interface.set'), node: name, name, up: z.boolean().optional(), master: z.string().nullable().optional(), mtu: z.number().int().nullable().optional() }),
  z.strictObject({ kind: z.literal('link.add'), a: endpoint, b: endpoint, addresses: z.tuple([z.string().nullable(), z.string().nullable()]).optional() }),
  z.strictObject({ kind: z.literal('link.remove'), a: endpoint }),
  z.strictObject({ kind: z.literal('address.add'), node: name, interface: name, address: z.string().max(64) }),
  z.strictObject({ kind: z.literal('address.remove'), node: name, interface: name, address: z.string().max(64) }),
  z.strictObject({ kind: z.literal('route.add'), node: name, route: z.string().max(200) }),
  z.strictObject({ kind: z.literal('route.remove'), node: name, route: z.string().max(200) }),
  z.strictObject({ kind: z.literal('nat.add'), node: name, rule: rawFirewallRule }),
  z.strictObject({ kind: z.literal('nat.remove'), node: name, index: z.number().int().min(0) }),
  z.strictObject({ kind: z.literal('forwarding.set'), node: name, value: z.boolean() }),
  z.strictObject({ kind: z.literal('sysctl.set'), node: name, name: z.string().max(80), value: z.string().max(8) }),
]);

/** One edit. */
export type Edit = z.infer<typeof editSchema>;

type RawNodes = NonNullable<RawTopology['nodes']>;
type RawNodeValue = NonNullable<RawNodes[string]>;

/** Applies edits to a file-form topology. Returns the new file, or the problems (with edit paths). */
export function applyEdits(file: RawTopology, edits: Edit[]): { ok: true; file: RawTopology } | { ok: false; problems: Problem[] } {
  const out = JSON.parse(JSON.stringify(file)) as RawTopology;
  const nodes: RawNodes = (out.nodes ??= {});
  const problems: Problem[] = [];
  edits.forEach((edit, i) => {
    const fail = (message: string) => problems.push({ path: `edits[${i}]`, message });
    // Names index plain objects below: one JavaScript reserves is refused before any lookup.
    const reserved = editNames(edit).map((n) => reservedNameProblem(n, 'the')).find((p) => p !== undefined);
    if (reserved) { fail(reserved); return; }
    const nodeOf = (n: string): RawNodeValue | undefined => {
      if (!(n in nodes)) { fail(`there is no node "${n}"`); return undefined; }
      return (nodes[n] ??= {});
    };
    switch (edit.kind) {
      case 'node.add':
        if (edit.node in nodes) fail(`a node named "${edit.node}" already exists: pick another name`);
        else nodes[edit.node] = edit.forwarding ? { forwarding: true } : {};
        break;
      case 'node.remove':
        if (!(edit.node in nodes)) fail(`there is no node "${edit.node}"`);
        delete nodes[edit.node];
        // Everything that joins the node goes with it: the far end of each of its veth pairs (a bridge port too).
        out.links = (out.links ?? []).filter((link) => {
          const mine = link.filter((e) => e.startsWith(`${edit.node}:`)).length;
          if (mine === 0) return true;
          for (const e of link) if (!e.startsWith(`${edit.node}:`)) removeEnd(nodes, e);
          return false;
        });
        break;
      case 'node.rename': {
        const n = nodeOf(edit.node);
        if (!n) break;
        if (edit.to in nodes) { fail(`a node named "${edit.to}" already exists`); break; }
        nodes[edit.to] = n;
        delete nodes[edit.node];
        out.links = (out.links ?? []).map(([a, b]) => [rename(a, edit.node, edit.to), rename(b, edit.node, edit.to)]);
        break;
      }
      case 'interface.add': {
        const n = nodeOf(edit.node);
        if (!n) break;
        n.interfaces ??= {};
        if (edit.name in n.interfaces) fail(`${edit.node} already has an interface "${edit.name}"`);
        else n.interfaces[edit.name] = edit.interface;
        break;
      }
      case 'interface.remove': {
        const n = nodeOf(edit.node);
        if (!n) break;
        if (!n.interfaces?.[edit.name]) { fail(`${edit.node} has no interface "${edit.name}"`); break; }
        delete n.interfaces[edit.name];
        const end = `${edit.node}:${edit.name}`;
        // A veth end cannot go alone: the kernel deletes its peer with it.
        out.links = (out.links ?? []).filter(([a, b]) => {
          if (a !== end && b !== end) return true;
          removeEnd(nodes, a === end ? b : a);
          return false;
        });
        for (const iface of Object.values(n.interfaces)) if (iface.master === edit.name) delete iface.master;
        break;
      }
      case 'interface.set': {
        const n = nodeOf(edit.node);
        if (!n) break;
        const iface = n.interfaces?.[edit.name];
        if (!iface) { fail(`${edit.node} has no interface "${edit.name}"`); break; }
        if (edit.up !== undefined) { if (edit.up) delete iface.up; else iface.up = false; }
        if (edit.master !== undefined) { if (edit.master === null) delete iface.master; else iface.master = edit.master; }
        if (edit.mtu !== undefined) { if (edit.mtu === null) delete iface.mtu; else iface.mtu = edit.mtu; }
        break;
      }
      case 'link.add': {
        const ends = [edit.a, edit.b];
        ends.forEach((e, j) => {
          const n = nodeOf(e.node);
          if (!n) return;
          n.interfaces ??= {};
          if (n.interfaces[e.interface]) { fail(`${e.node} already has an interface "${e.interface}": pick another name`); return; }
          const address = edit.addresses?.[j];
          n.interfaces[e.interface] = address ? { addresses: [address] } : {};
        });
        (out.links ??= []).push([`${edit.a.node}:${edit.a.interface}`, `${edit.b.node}:${edit.b.interface}`]);
        break;
      }
      case 'link.remove': {
        const end = `${edit.a.node}:${edit.a.interface}`;
        const link = (out.links ?? []).find(([a, b]) => a === end || b === end);
        if (!link) { fail(`${end} is not the end of a link`); break; }
        out.links = (out.links ?? []).filter((l) => l !== link);
        for (const e of link) {
          const [n, ifname] = e.split(':') as [string, string];
          const ifaces = nodes[n]?.interfaces;
          if (ifaces) delete ifaces[ifname];
        }
        break;
      }
      case 'address.add':
      case 'address.remove': {
        const n = nodeOf(edit.node);
        const iface = n?.interfaces?.[edit.interface];
        if (!n) break;
        if (!iface) { fail(`${edit.node} has no interface "${edit.interface}"`); break; }
        const list = iface.addresses ?? [];
        if (edit.kind === 'address.add') iface.addresses = [...list, edit.address];
        else {
          if (!list.includes(edit.address)) { fail(`${edit.address} is not on ${edit.node}:${edit.interface}`); break; }
          iface.addresses = list.filter((a) => a !== edit.address);
        }
        break;
      }
      case 'route.add':
      case 'route.remove': {
        const n = nodeOf(edit.node);
        if (!n) break;
        const parsed = parseRoute(edit.route);
        if (edit.kind === 'route.add') {
          // A route the node already has (as the kernel shows it, e.g. with its dev) is not added twice.
          const have = (n.routes ?? []).some((r) => {
            const p = parseRoute(r);
            return parsed.ok && p.ok && routeSatisfies(p.route, parsed.route);
          });
          if (!have) n.routes = [...(n.routes ?? []), edit.route];
          break;
        }
        const target = parsed.ok ? formatRoute(parsed.route) : edit.route;
        const before = n.routes ?? [];
        // "10.9.0.0/16 via 10.0.0.1" names the route the kernel shows as "... via 10.0.0.1 dev eth0".
        n.routes = before.filter((r) => {
          const p = parseRoute(r);
          return (p.ok ? formatRoute(p.route) : r) !== target && !(p.ok && parsed.ok && routeSatisfies(p.route, parsed.route));
        });
        if (n.routes.length === before.length) fail(`${edit.node} has no route "${edit.route}"`);
        break;
      }
      case 'nat.add': {
        const n = nodeOf(edit.node);
        if (n) n.nat = [...(n.nat ?? []), edit.rule];
        break;
      }
      case 'nat.remove': {
        const n = nodeOf(edit.node);
        if (!n) break;
        if (!n.nat || edit.index >= n.nat.length) { fail(`${edit.node} has no NAT rule number ${edit.index + 1}`); break; }
        n.nat = n.nat.filter((_, j) => j !== edit.index);
        break;
      }
      case 'forwarding.set': {
        const n = nodeOf(edit.node);
        if (n) { if (edit.value) n.forwarding = true; else delete n.forwarding; }
        break;
      }
      case 'sysctl.set': {
        // Validated with the whole file (sysctl.ts's allow-list) like any other key.
        const n = nodeOf(edit.node);
        if (n) n.sysctls = Object.assign(Object.create(null) as Record<string, string>, n.sysctls, { [edit.name]: edit.value });
        break;
      }
      default:
        assertNever(edit);
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, file: out };
}

/** Every user-chosen name an edit uses as a key (nodes, interfaces, masters). */
function editNames(edit: Edit): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(edit)) {
    if (typeof value === 'string' && (key === 'node' || key === 'name' || key === 'to' || key === 'interface' || key === 'master')) names.push(value);
    if (key === 'a' || key === 'b') names.push((value as { node: string }).node, (value as { interface: string }).interface);
  }
  if (edit.kind === 'interface.add' && edit.interface.master !== undefined) names.push(edit.interface.master);
  return names;
}

/** Deletes the interface at "node:interface" (the far end of a veth that goes). */
function removeEnd(nodes: RawNodes, end: string): void {
  const i = end.indexOf(':');
  const ifaces = nodes[end.slice(0, i)]?.interfaces;
  if (!ifaces) return;
  delete ifaces[end.slice(i + 1)];
}

function rename(end: string, from: string, to: string): string {
  return end.startsWith(`${from}:`) ? `${to}:${end.slice(from.length + 1)}` : end;
}
