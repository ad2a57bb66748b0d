/**
 * Ops: the steps of a plan, as data. Each op names what it changes, says why it
 * exists, and renders the exact argv that carries it out, so a plan can be shown
 * before it runs (a dry run) and logged as it runs.
 */
import { sysctlArgName } from './sysctl';
import { KINDS } from './interface/index';
import type { Interface } from './topology';
import type { Route } from './route';
import { formatRoute } from './route';
import type { FirewallRule, OtherRule, RuleSpec } from './nat';
import { formatFirewallLine } from './firewall';
import { describeFirewallRule } from './nat';
import { assertNever } from './never';
import type { ChainPolicy } from './policy';
import { describePolicy, policyKey } from './policy';

/** Where an op acts: a node of the lab and its kernel namespace name. */
export interface Where { node: string; netns: string }

/** The per-namespace sysctls a plan sets. */
export type SysctlKey = 'net.ipv4.ip_forward' | 'net.ipv4.conf.all.promote_secondaries' | 'net.ipv4.conf.default.promote_secondaries';

/** Every kind of step a plan can hold. */
export type Op = (
  | { kind: 'netns.add' } & Where
  | { kind: 'netns.del' } & Where
  | { kind: 'netns.mark'; marker: string } & Where
  | { kind: 'veth.add'; a: Where & { interface: string }; b: Where & { interface: string } }
  | { kind: 'device.add'; interface: string; device: Interface } & Where
  | { kind: 'link.del'; interface: string } & Where
  | { kind: 'link.enslave'; interface: string; master: string } & Where
  | { kind: 'link.release'; interface: string } & Where
  | { kind: 'link.mtu'; interface: string; mtu: number } & Where
  | { kind: 'link.up'; interface: string } & Where
  | { kind: 'link.down'; interface: string } & Where
  | { kind: 'addr.add'; interface: string; address: string } & Where
  | { kind: 'addr.del'; interface: string; address: string } & Where
  | { kind: 'route.add'; route: Route } & Where
  | { kind: 'route.del'; route: Route } & Where
  | { kind: 'sysctl.set'; key: string; value: string } & Where
  | { kind: 'chain.add'; table: string; chain: string } & Where
  | { kind: 'nat.add'; rule: FirewallRule; spec: RuleSpec } & Where
  | { kind: 'nat.del'; rule: FirewallRule; spec: RuleSpec } & Where
  | { kind: 'chain.policy'; table: string; chain: string; policy: ChainPolicy } & Where
  | { kind: 'nftables.add'; table: string; text: string } & Where
  | { kind: 'nftables.del'; table: string } & Where
  | { kind: 'ip6chain.add'; table: string; chain: string } & Where
  | { kind: 'ip6tables.add'; rule: OtherRule } & Where
  | { kind: 'ip6tables.del'; rule: OtherRule } & Where
) & { reason: string };

/** The kinds of op. */
export type OpKind = Op['kind'];

/**
 * The order ops run in: removals (inner things first) and then creations
 * (outer things first). Ops of equal rank are independent of each other.
 */
export const OP_RANK: Record<OpKind, number> = {
  'nat.del': 0,
  'ip6tables.del': 0,
  'nftables.del': 0,
  'route.del': 1,
  'addr.del': 2,
  'link.release': 3,
  'link.down': 4,
  'link.del': 5,
  'netns.del': 6,
  'netns.add': 10,
  'veth.add': 11,
  'netns.mark': 12,
  'device.add': 13,
  'link.enslave': 14,
  'link.mtu': 15,
  'addr.add': 16,
  'link.up': 17,
  'route.add': 18,
  'sysctl.set': 19,
  'chain.add': 20,
  'nat.add': 21,
  // Last: a DROP policy set after the rules that accept what should pass, so nothing is cut off between.
  'chain.policy': 22,
  'ip6chain.add': 20,
  'ip6tables.add': 21,
  // Native tables last: a table's rules may name devices and addresses made before.
  'nftables.add': 23,
};

function routeArgs(route: Route): string[] {
  const args = [route.dst];
  if (route.gateway) args.push('via', route.gateway);
  if (route.dev) args.push('dev', route.dev);
  if (route.metric !== undefined) args.push('metric', String(route.metric));
  if (route.src) args.push('src', route.src);
  return args;
}

/**
 * The exact command line an op runs, as an argv array (never a shell string). A device is
 * always named after `dev` or `name`, where ip reads the next word as a name whatever it is
 * (`ip link set up up` would not name a device called "up"; `ip link set dev up up` does).
 */
export function opArgv(op: Op): string[] {
  switch (op.kind) {
    case 'netns.add': return ['ip', 'netns', 'add', op.netns];
    case 'netns.del': return ['ip', 'netns', 'del', op.netns];
    case 'netns.mark': return ['ip', '-n', op.netns, 'link', 'set', 'lo', 'alias', op.marker];
    case 'veth.add': return ['ip', 'link', 'add', 'name', op.a.interface, 'netns', op.a.netns, 'type', 'veth', 'peer', 'name', op.b.interface, 'netns', op.b.netns];
    case 'device.add': {
      const create = KINDS[op.device.kind].create;
      if (!create) throw new Error(`a ${op.device.kind} device cannot be created alone`);
      return ['ip', '-n', op.netns, ...create(op.interface, op.device)];
    }
    case 'link.del': return ['ip', '-n', op.netns, 'link', 'del', 'dev', op.interface];
    case 'link.enslave': return ['ip', '-n', op.netns, 'link', 'set', 'dev', op.interface, 'master', op.master];
    case 'link.release': return ['ip', '-n', op.netns, 'link', 'set', 'dev', op.interface, 'nomaster'];
    case 'link.mtu': return ['ip', '-n', op.netns, 'link', 'set', 'dev', op.interface, 'mtu', String(op.mtu)];
    case 'link.up': return ['ip', '-n', op.netns, 'link', 'set', 'dev', op.interface, 'up'];
    case 'link.down': return ['ip', '-n', op.netns, 'link', 'set', 'dev', op.interface, 'down'];
    case 'addr.add': return ['ip', '-n', op.netns, 'addr', 'add', op.address, 'dev', op.interface];
    case 'addr.del': return ['ip', '-n', op.netns, 'addr', 'del', op.address, 'dev', op.interface];
    case 'route.add': return ['ip', '-n', op.netns, 'route', 'add', ...routeArgs(op.route)];
    case 'route.del': return ['ip', '-n', op.netns, 'route', 'del', ...routeArgs(op.route)];
    case 'sysctl.set': return ['ip', 'netns', 'exec', op.netns, 'sysctl', '-qw', `${sysctlArgName(op.key)}=${op.value}`];
    case 'chain.add': return ['ip', 'netns', 'exec', op.netns, 'iptables', '-w', '-t', op.table, '-N', op.chain];
    case 'nat.add': return ['ip', 'netns', 'exec', op.netns, 'iptables', '-w', '-t', op.spec.table, ...(op.spec.insert ? ['-I', op.spec.chain, String(op.spec.insert)] : ['-A', op.spec.chain]), ...op.spec.args];
    case 'nat.del': return ['ip', 'netns', 'exec', op.netns, 'iptables', '-w', '-t', op.spec.table, '-D', op.spec.chain, ...op.spec.args];
    case 'chain.policy': return ['ip', 'netns', 'exec', op.netns, 'iptables', '-w', '-t', op.table, '-P', op.chain, op.policy];
    case 'nftables.add': return ['ip', 'netns', 'exec', op.netns, 'nft', '-f', '-'];
    case 'nftables.del': return ['ip', 'netns', 'exec', op.netns, 'nft', 'delete', 'table', ...op.table.split(' ')];
    case 'ip6chain.add': return ['ip', 'netns', 'exec', op.netns, 'ip6tables', '-w', '-t', op.table, '-N', op.chain];
    case 'ip6tables.add': return ['ip', 'netns', 'exec', op.netns, 'ip6tables', '-w', '-t', op.rule.table, '-A', op.rule.chain, ...op.rule.args];
    case 'ip6tables.del': return ['ip', 'netns', 'exec', op.netns, 'ip6tables', '-w', '-t', op.rule.table, '-D', op.rule.chain, ...op.rule.args];
    default: return assertNever(op);
  }
}

/** One line for people: what the op does, in the lab's own names. */
export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'netns.add': return `create namespace ${op.node}`;
    case 'netns.del': return `delete namespace ${op.node}`;
    case 'netns.mark': return `mark ${op.node} as owned by this lab`;
    case 'veth.add': return `create veth pair ${op.a.node}:${op.a.interface} <-> ${op.b.node}:${op.b.interface}`;
    case 'device.add': return `create ${op.device.kind} ${op.interface} in ${op.node}`;
    case 'link.del': return `delete ${op.node}:${op.interface}`;
    case 'link.enslave': return `attach ${op.node}:${op.interface} to bridge ${op.master}`;
    case 'link.release': return `detach ${op.node}:${op.interface} from its bridge`;
    case 'link.mtu': return `set mtu ${op.mtu} on ${op.node}:${op.interface}`;
    case 'link.up': return `bring ${op.node}:${op.interface} up`;
    case 'link.down': return `bring ${op.node}:${op.interface} down`;
    case 'addr.add': return `add ${op.address} to ${op.node}:${op.interface}`;
    case 'addr.del': return `remove ${op.address} from ${op.node}:${op.interface}`;
    case 'route.add': return `add route ${formatRoute(op.route)} in ${op.node}`;
    case 'route.del': return `remove route ${formatRoute(op.route)} in ${op.node}`;
    case 'sysctl.set': return op.key === 'net.ipv4.ip_forward'
      ? `${op.value === '1' ? 'enable' : 'disable'} IPv4 forwarding in ${op.node}`
      : `set ${op.key}=${op.value} in ${op.node}`;
    case 'chain.add': return `create chain ${op.chain} in ${op.node}'s ${op.table} table`;
    case 'nat.add': return `add ${describeFirewallRule(op.rule)} in ${op.node}`;
    case 'nat.del': return `remove ${describeFirewallRule(op.rule)} in ${op.node}`;
    case 'chain.policy': return `set ${describePolicy(policyKey(op.table, op.chain), op.policy)} in ${op.node}`;
    case 'nftables.add': return `load nftables table ${op.table} in ${op.node}`;
    case 'nftables.del': return `delete nftables table ${op.table} in ${op.node}`;
    case 'ip6chain.add': return `create ip6tables chain ${op.chain} in ${op.node}'s ${op.table} table`;
    case 'ip6tables.add': return `add ip6tables rule "${formatFirewallLine(op.rule)}" in ${op.node}`;
    case 'ip6tables.del': return `remove ip6tables rule "${formatFirewallLine(op.rule)}" in ${op.node}`;
    default: return assertNever(op);
  }
}

/**
 * What an op's command reads on its standard input, or undefined for none. `nft -f -` reads
 * the table: first made (empty) and deleted, then the table's text, in one transaction, so
 * the table is replaced whole whether or not it existed and nothing is half-loaded.
 */
export function opInput(op: Op): string | undefined {
  if (op.kind !== 'nftables.add') return undefined;
  return `table ${op.table}\ndelete table ${op.table}\n${op.text.trimEnd()}\n`;
}

/** The nodes an op touches (for showing an error at the right place on the canvas). */
export function opNodes(op: Op): string[] {
  return op.kind === 'veth.add' ? [op.a.node, op.b.node] : [op.node];
}

/** Renders an argv as one command line for display (quoting words that need it). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
