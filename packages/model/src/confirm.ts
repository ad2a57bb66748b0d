/**
 * confirm(ops, read): the plan's intent held against the kernel's confirming read after it
 * ran. Every command can succeed while the kernel ends elsewhere (deleting a primary
 * address takes its secondaries with it unless they are promoted): this says so, op by op.
 */
import { firewallRuleKey } from './nat';
import type { Op } from './op';
import type { Problem } from './problem';
import { formatRoute, routeSatisfies } from './route';
import type { Topology } from './topology';

/**
 * One sentence per op whose result the kernel does not show, and (given the desired lab) per
 * wanted address of a changed interface that the kernel lost on the way; empty when it agrees.
 */
export function confirm(ops: readonly Op[], read: Topology, desired?: Topology): Problem[] {
  const out: Problem[] = [];
  const touched = new Set<string>();
  const differs = (op: Op, what: string) => out.push({ path: `nodes.${op.kind === 'veth.add' ? op.a.node : op.node}`, message: `the plan ran, but ${what}` });
  // The last op on a thing decides what it should be (a plan may delete and add the same address).
  const last = new Map<string, Op>();
  for (const op of ops) last.set(intentKey(op), op);
  for (const op of last.values()) {
    switch (op.kind) {
      case 'netns.add':
        if (!read.nodes[op.node]) differs(op, `the kernel has no namespace ${op.node}`);
        break;
      case 'netns.del':
        if (read.nodes[op.node]) differs(op, `namespace ${op.node} is still in the kernel`);
        break;
      case 'veth.add':
        if (!read.nodes[op.a.node]?.interfaces[op.a.interface] || !read.nodes[op.b.node]?.interfaces[op.b.interface]) {
          differs(op, `the kernel does not have the veth pair ${op.a.node}:${op.a.interface} <-> ${op.b.node}:${op.b.interface}`);
        }
        break;
      case 'device.add':
        if (!read.nodes[op.node]?.interfaces[op.interface]) differs(op, `the kernel has no ${op.node}:${op.interface}`);
        break;
      case 'link.del':
        if (read.nodes[op.node]?.interfaces[op.interface]) differs(op, `${op.node}:${op.interface} is still in the kernel`);
        break;
      case 'addr.add': {
        touched.add(`${op.node}\n${op.interface}`);
        const iface = read.nodes[op.node]?.interfaces[op.interface];
        if (iface && !iface.addresses.includes(op.address)) {
          const now = iface.addresses.length > 0 ? iface.addresses.join(', ') : 'no address';
          differs(op, `${op.node}:${op.interface} does not have ${op.address} (the kernel shows ${now})`);
        }
        break;
      }
      case 'addr.del':
        touched.add(`${op.node}\n${op.interface}`);
        if (read.nodes[op.node]?.interfaces[op.interface]?.addresses.includes(op.address)) differs(op, `${op.address} is still on ${op.node}:${op.interface}`);
        break;
      case 'route.add':
        if (read.nodes[op.node] && !read.nodes[op.node]?.routes.some((r) => routeSatisfies(r, op.route))) differs(op, `${op.node} has no route ${formatRoute(op.route)}`);
        break;
      case 'nat.add': {
        const key = firewallRuleKey({ type: 'other', ...op.spec });
        const rules = read.nodes[op.node]?.nat;
        if (rules && !rules.some((r) => firewallRuleKey(r).split(' + ').includes(key))) differs(op, `${op.node} does not have the rule ${key}`);
        break;
      }
      case 'chain.policy': {
        const policies = read.nodes[op.node]?.policies;
        const key = `${op.table}/${op.chain}`;
        if (policies && (policies[key] ?? 'ACCEPT') !== op.policy) differs(op, `${op.node}'s ${op.chain} policy is ${policies[key] ?? 'ACCEPT'}, not ${op.policy}`);
        break;
      }
      default:
        break; // the rest is not read back in a way worth comparing (marks, sysctls, states the kernel moves itself)
    }
  }
  // An address the plan did not touch can still go: the kernel drops secondaries with their primary.
  for (const key of touched) {
    const [node = '', ifname = ''] = key.split('\n');
    const want = desired?.nodes[node]?.interfaces[ifname]?.addresses ?? [];
    const have = read.nodes[node]?.interfaces[ifname]?.addresses;
    if (!have) continue;
    const planned = new Set(ops.flatMap((op) => (op.kind === 'addr.add' && op.node === node && op.interface === ifname ? [op.address] : [])));
    for (const a of want) {
      if (planned.has(a) || have.includes(a)) continue;
      out.push({ path: `nodes.${node}`, message: `the plan ran, but the kernel dropped ${a} from ${node}:${ifname} (it shows ${have.length > 0 ? have.join(', ') : 'no address'}): a secondary address goes with its primary unless net.ipv4.conf.all.promote_secondaries is 1; add ${a} again` });
    }
  }
  return out;
}

/** What an op is about, so that a later op on the same thing supersedes an earlier one. */
function intentKey(op: Op): string {
  switch (op.kind) {
    case 'addr.add':
    case 'addr.del':
      return `addr ${op.node} ${op.interface} ${op.address}`;
    case 'netns.add':
    case 'netns.del':
      return `netns ${op.node}`;
    case 'device.add':
    case 'link.del':
      return `link ${op.node} ${op.interface}`;
    case 'veth.add':
      return `link ${op.a.node} ${op.a.interface}`;
    default:
      return `${op.kind} ${JSON.stringify(op)}`;
  }
}
