/**
 * plan(desired, observed): the ops that turn the observed kernel state into the
 * desired one. Pure: it reads two topologies and returns data. `plan(x, x)` is empty;
 * one changed address is one `addr.del` and one `addr.add`, not a rebuild.
 */
import { buildableType, KINDS } from './interface/index';
import { netnsName, ownerMarker } from './names';
import { firewallRuleKey, ruleSpecs, userChains } from './nat';
import { parseFirewallLine } from './firewall';
import type { Op } from './op';
import { OP_RANK } from './op';
import { formatRoute, routeSatisfies } from './route';
import type { Interface, Namespace, Topology } from './topology';
import { formatEndpoint, linkKey, linkOf } from './topology';

/** The sysctls every new lab namespace gets (net.ipv4.conf.{all,default}.promote_secondaries). */
const PROMOTE_SECONDARIES = ['net.ipv4.conf.all.promote_secondaries', 'net.ipv4.conf.default.promote_secondaries'] as const;

/** How plan names kernel namespaces: nslab's own names by default, plain node names for a standalone script. */
export interface PlanOptions { netns?: (lab: string, node: string) => string }

/** Builds the plan. `observed` is the lab as the kernel has it (empty when it does not exist). */
export function plan(desired: Topology, observed: Topology, options: PlanOptions = {}): Op[] {
  const lab = desired.name;
  const ops: Op[] = [];
  const naming = options.netns ?? netnsName;
  const where = (node: string) => ({ node, netns: naming(lab, node) });

  const removedNodes = new Set(Object.keys(observed.nodes).filter((n) => !(n in desired.nodes)));
  const addedNodes = new Set(Object.keys(desired.nodes).filter((n) => !(n in observed.nodes)));
  for (const node of removedNodes) ops.push({ kind: 'netns.del', ...where(node), reason: `${node} is not in the topology` });
  for (const node of addedNodes) {
    ops.push({ kind: 'netns.add', ...where(node), reason: `${node} is in the topology but not in the kernel` });
    ops.push({ kind: 'netns.mark', ...where(node), marker: ownerMarker(lab, node), reason: `record in the kernel that ${node} belongs to lab ${lab}` });
    // As modern distributions set it: removing a primary address promotes the next one of its subnet instead of dropping it.
    for (const key of PROMOTE_SECONDARIES) ops.push({ kind: 'sysctl.set', ...where(node), key, value: '1', reason: `an address change inside one subnet keeps the new address in ${node}` });
  }

  // Interfaces that are deleted (or recreated), per node: their addresses and routes go with them.
  const gone = new Map<string, Set<string>>();
  const isGone = (node: string, iface: string) => removedNodes.has(node) || (gone.get(node)?.has(iface) ?? false);
  const markGone = (node: string, iface: string) => {
    let s = gone.get(node);
    if (!s) gone.set(node, (s = new Set()));
    s.add(iface);
  };

  const desiredLinks = new Map(desired.links.map((l) => [linkKey(l), l]));
  const observedLinks = new Map(observed.links.map((l) => [linkKey(l), l]));

  // Pass 1: decide which observed interfaces must go.
  for (const [node, obsNs] of Object.entries(observed.nodes)) {
    if (removedNodes.has(node)) continue;
    const desNs = desired.nodes[node];
    for (const [name, obs] of Object.entries(obsNs.interfaces)) {
      if (obs.kind === 'loopback') continue;
      const des = desNs?.interfaces[name];
      // What the model cannot build (a macvlan, a veth to outside the lab) is never removed implicitly.
      if (!des && (obs.kind === 'other' || (obs.kind === 'veth' && !linkOf(observed, node, name)))) continue;
      let reason: string | undefined;
      if (!des) reason = `${node}:${name} is not in the topology`;
      else if (des.kind !== obs.kind) reason = `${node}:${name} is a ${obs.kind} in the kernel but a ${des.kind} in the topology`;
      else if (KINDS[des.kind].differs?.(des, obs)) reason = `${node}:${name} has other ${des.kind} settings than the topology`;
      else if (des.kind === 'veth') {
        const dLink = linkOf(desired, node, name);
        const oLink = linkOf(observed, node, name);
        if (!oLink || !dLink || linkKey(oLink.link) !== linkKey(dLink.link)) {
          reason = `${node}:${name} is not joined to ${dLink ? formatEndpoint(dLink.peer) : 'what the topology says'}`;
        }
      }
      if (!reason) continue;
      if (isGone(node, name)) continue; // already removed with its veth peer
      const oPeer = obs.kind === 'veth' ? linkOf(observed, node, name)?.peer : undefined;
      // The kernel would delete it with its peer's namespace; the plan says so, and deletes it first.
      if (oPeer && removedNodes.has(oPeer.node)) reason = `${node}:${name} is joined to ${formatEndpoint(oPeer)}, and ${oPeer.node} is being removed`;
      ops.push({ kind: 'link.del', ...where(node), interface: name, reason });
      markGone(node, name);
      const peer = obs.kind === 'veth' ? linkOf(observed, node, name)?.peer : undefined;
      if (peer) markGone(peer.node, peer.interface);
    }
  }

  // A device on a parent that goes (macvlan on a recreated veth) goes with it: the kernel deletes it.
  for (let more = true; more; ) {
    more = false;
    for (const [node, obsNs] of Object.entries(observed.nodes)) {
      for (const [name, obs] of Object.entries(obsNs.interfaces)) {
        if (obs.parent !== undefined && isGone(node, obs.parent) && !isGone(node, name)) {
          markGone(node, name);
          more = true;
        }
      }
    }
  }

  // Pass 2: veth pairs to create.
  for (const [key, link] of desiredLinks) {
    const exists = observedLinks.has(key) && !isGone(link.a.node, link.a.interface) && !isGone(link.b.node, link.b.interface);
    if (exists) continue;
    ops.push({
      kind: 'veth.add',
      a: { ...where(link.a.node), interface: link.a.interface },
      b: { ...where(link.b.node), interface: link.b.interface },
      reason: `link ${formatEndpoint(link.a)} <-> ${formatEndpoint(link.b)} is in the topology but not in the kernel`,
    });
  }

  // Pass 3: each desired node's contents.
  for (const [node, desNs] of Object.entries(desired.nodes)) {
    const obsNs: Namespace | undefined = addedNodes.has(node) ? undefined : observed.nodes[node];
    const w = where(node);
    const fresh = (name: string) => !obsNs || !obsNs.interfaces[name] || isGone(node, name);
    const lo = desNs.interfaces['lo'];
    const loObs = obsNs?.interfaces['lo'];
    if (!loObs?.up) ops.push({ kind: 'link.up', ...w, interface: 'lo', reason: `every namespace needs lo up to reach itself` });
    if (lo) diffAddresses(ops, w, 'lo', lo, loObs);

    for (const [name, des] of Object.entries(desNs.interfaces)) {
      if (des.kind === 'loopback' || name === 'lo') continue;
      const isFresh = fresh(name);
      const obs = isFresh ? undefined : obsNs?.interfaces[name];
      if (isFresh && des.kind === 'other' && !buildableType(des)) continue; // kept while the kernel has it, never built (see warnings)
      if (isFresh && des.kind !== 'veth') {
        ops.push({ kind: 'device.add', ...w, interface: name, device: des, reason: `${node}:${name} is in the topology but not in the kernel` });
      }
      if ((des.master ?? '') !== (obs?.master ?? '')) {
        if (des.master) ops.push({ kind: 'link.enslave', ...w, interface: name, master: des.master, reason: `${node}:${name} is a port of bridge ${des.master} in the topology` });
        else ops.push({ kind: 'link.release', ...w, interface: name, reason: `${node}:${name} is on no bridge in the topology` });
      }
      if (des.mtu !== undefined && des.mtu !== obs?.mtu) {
        ops.push({ kind: 'link.mtu', ...w, interface: name, mtu: des.mtu, reason: `${node}:${name} has mtu ${des.mtu} in the topology` });
      }
      diffAddresses(ops, w, name, des, obs);
      if (des.up && !obs?.up) ops.push({ kind: 'link.up', ...w, interface: name, reason: `${node}:${name} is up in the topology` });
      if (!des.up && (obs?.up ?? false)) ops.push({ kind: 'link.down', ...w, interface: name, reason: `${node}:${name} is down in the topology` });
    }

    // Routes: the kernel drops a device's routes with it, so those need no removal.
    const obsRoutes = (obsNs?.routes ?? []).filter((r) => !(r.dev && isGone(node, r.dev)));
    for (const r of obsRoutes) {
      if (!desNs.routes.some((d) => routeSatisfies(r, d))) ops.push({ kind: 'route.del', ...w, route: r, reason: `route ${formatRoute(r)} is not in the topology` });
    }
    for (const d of desNs.routes) {
      if (!obsRoutes.some((r) => routeSatisfies(r, d))) ops.push({ kind: 'route.add', ...w, route: d, reason: `route ${formatRoute(d)} is in the topology but not in the kernel` });
    }

    if (desNs.forwarding !== (obsNs?.forwarding ?? false)) {
      ops.push({ kind: 'sysctl.set', ...w, key: 'net.ipv4.ip_forward', value: desNs.forwarding ? '1' : '0', reason: `forwarding is ${desNs.forwarding ? 'on' : 'off'} for ${node} in the topology` });
    }
    // Knobs: only the ones the topology names are set; the others are the kernel's business.
    for (const [key, value] of Object.entries(desNs.sysctls ?? {})) {
      if (obsNs?.sysctls?.[key] !== value) ops.push({ kind: 'sysctl.set', ...w, key, value, reason: `${key} is ${value} for ${node} in the topology` });
    }

    const obsSpecs = new Map((obsNs?.nat ?? []).flatMap((rule) => ruleSpecs(rule).map((spec) => [firewallRuleKey({ type: 'other', ...spec }), { rule, spec }] as const)));
    const desSpecs = new Map(desNs.nat.flatMap((rule) => ruleSpecs(rule).map((spec) => [firewallRuleKey({ type: 'other', ...spec }), { rule, spec }] as const)));
    for (const [key, { rule, spec }] of obsSpecs) {
      // Rules nslab does not model belong to the file only when it lists `firewall:` for this node.
      if (rule.type === 'other' && !desNs.firewall) continue;
      if (!desSpecs.has(key)) ops.push({ kind: 'nat.del', ...w, rule, spec, reason: `this rule is not in the topology` });
    }
    // User-defined chains (Docker's, kube-proxy's) are created before the rules in and to them.
    // A chain is known to exist when an observed rule is in it or jumps to it; one that exists
    // empty and unreferenced makes `iptables -N` say so, which apply takes as done.
    const obsChains = new Set([...obsSpecs.values()].flatMap(({ spec }) => userChains(spec)));
    const newChains = new Set([...desSpecs.values()].flatMap(({ spec }) => userChains(spec)).filter((c) => !obsChains.has(c)));
    for (const c of newChains) {
      const [table = '', chain = ''] = c.split(' ');
      ops.push({ kind: 'chain.add', ...w, table, chain, reason: `rules of the topology are in or jump to chain ${chain}` });
    }
    for (const [key, { rule, spec }] of desSpecs) {
      if (!obsSpecs.has(key)) ops.push({ kind: 'nat.add', ...w, rule, spec, reason: `this rule is in the topology but not in the kernel` });
    }
    // Policies: only the ones the topology names are set, as knobs are; a table iptables has not made yet is all ACCEPT.
    for (const [key, policy] of Object.entries(desNs.policies ?? {})) {
      if ((obsNs?.policies?.[key] ?? 'ACCEPT') === policy) continue;
      const [table = '', chain = ''] = key.split('/');
      ops.push({ kind: 'chain.policy', ...w, table, chain, policy, reason: `${chain}'s policy is ${policy} for ${node} in the topology` });
    }
    diffNativeFirewall(ops, w, desNs, obsNs);
  }

  return sortOps(ops);
}

/**
 * Native nftables tables and ip6tables rules: only a node whose topology lists them (the file's
 * `nftables:` and `firewall6:`) has them made exactly so; otherwise they are left as they are.
 * A table whose text differs is loaded whole again; a rule is removed or appended.
 */
function diffNativeFirewall(ops: Op[], w: { node: string; netns: string }, desNs: Namespace, obsNs: Namespace | undefined): void {
  if (desNs.nftables !== undefined) {
    const have = obsNs?.nftables ?? {};
    for (const table of Object.keys(have)) {
      if (!Object.hasOwn(desNs.nftables, table)) ops.push({ kind: 'nftables.del', ...w, table, reason: `nftables table ${table} is not in the topology` });
    }
    for (const [table, text] of Object.entries(desNs.nftables)) {
      const now = Object.hasOwn(have, table) ? have[table] : undefined;
      if (now === undefined || now.trim() !== text.trim()) ops.push({ kind: 'nftables.add', ...w, table, text, reason: now === undefined ? `nftables table ${table} is in the topology but not in the kernel` : `nftables table ${table} differs from the topology` });
    }
  }
  if (desNs.ip6tables !== undefined) {
    const have = obsNs?.ip6tables ?? [];
    const rule = (line: string) => { const r = parseFirewallLine(line); return r.ok ? r.rule : undefined; };
    for (const line of have) {
      const r = rule(line);
      if (r && !desNs.ip6tables.includes(line)) ops.push({ kind: 'ip6tables.del', ...w, rule: r, reason: `this ip6tables rule is not in the topology` });
    }
    const chains = new Set(have.flatMap((line) => { const r = rule(line); return r ? userChains({ table: r.table, chain: r.chain, args: r.args }) : []; }));
    const added = desNs.ip6tables.filter((line) => !have.includes(line)).flatMap((line) => rule(line) ?? []);
    for (const c of new Set(added.flatMap((r) => userChains({ table: r.table, chain: r.chain, args: r.args })))) {
      if (chains.has(c)) continue;
      const [table = '', chain = ''] = c.split(' ');
      ops.push({ kind: 'ip6chain.add', ...w, table, chain, reason: `ip6tables rules of the topology are in or jump to chain ${chain}` });
    }
    for (const r of added) ops.push({ kind: 'ip6tables.add', ...w, rule: r, reason: `this ip6tables rule is in the topology but not in the kernel` });
  }
}

function diffAddresses(ops: Op[], w: { node: string; netns: string }, name: string, des: Interface, obs: Interface | undefined): void {
  const have = new Set(obs?.addresses ?? []);
  const want = new Set(des.addresses);
  for (const a of have) if (!want.has(a)) ops.push({ kind: 'addr.del', ...w, interface: name, address: a, reason: `${a} is not on ${w.node}:${name} in the topology` });
  for (const a of want) if (!have.has(a)) ops.push({ kind: 'addr.add', ...w, interface: name, address: a, reason: `${a} is on ${w.node}:${name} in the topology` });
}

/** Orders ops by rank, keeping the plan's order among equals; bridges before the devices that use them. */
export function sortOps(ops: Op[]): Op[] {
  // Bridges first, then devices, then devices on a parent (a macvlan on a dummy made by this plan).
  const subRank = (op: Op) => (op.kind === 'device.add' ? (op.device.kind === 'bridge' ? 0 : op.device.parent !== undefined ? 2 : 1) : 0);
  return ops
    .map((op, i) => ({ op, i }))
    .sort((x, y) => OP_RANK[x.op.kind] - OP_RANK[y.op.kind] || subRank(x.op) - subRank(y.op) || x.i - y.i)
    .map((x) => x.op);
}

/** The ops that remove a whole lab: one `netns.del` per namespace (their contents go with them). */
export function planDestroy(observed: Topology): Op[] {
  return Object.keys(observed.nodes).map((node) => ({
    kind: 'netns.del' as const,
    node,
    netns: netnsName(observed.name, node),
    reason: `lab ${observed.name} is being destroyed`,
  }));
}

/** An empty lab of the given name: what `observe` returns for a lab that does not exist. */
export function emptyTopology(name: string): Topology {
  return { name, nodes: {}, links: [] };
}
