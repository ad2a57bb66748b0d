/**
 * Firewall rules nslab models: the NAT that Docker uses (MASQUERADE, SNAT, DNAT)
 * and forward accept/drop. Rendered to iptables arguments and read back from
 * `iptables-save`, whose output is itself an argument list per rule.
 */
import { canonicalIp, canonicalPrefix, parseIp } from './address';
import { assertNever } from './never';

/** Source NAT to the address of the outgoing interface. */
export interface MasqueradeRule { type: 'masquerade'; source?: string; destination?: string; out?: string }
/** Source NAT to a fixed address. */
export interface SnatRule { type: 'snat'; source?: string; destination?: string; out?: string; to: string }
/** Destination NAT: a port of this namespace forwarded to an address inside (port publishing). */
export interface DnatRule {
  type: 'dnat';
  proto: 'tcp' | 'udp';
  port: number;
  /** "ADDR:PORT" or "ADDR" (same port). */
  to: string;
  in?: string;
  destination?: string;
  /** Also apply to connections made from this namespace itself (Docker's OUTPUT rule). */
  local?: boolean;
}
/** Accept or drop forwarded traffic (the filter table's FORWARD chain). */
export interface ForwardRule {
  type: 'forward';
  action: 'accept' | 'drop';
  source?: string;
  destination?: string;
  in?: string;
  out?: string;
}
/** A rule nslab found in the kernel but does not model: kept as its iptables arguments. */
export interface OtherRule {
  type: 'other'; table: string; chain: string; args: string[];
  /** Inserted at this 1-based position (`iptables -I CHAIN N`) instead of appended, as Docker inserts rules that must precede a chain's final RETURN. */
  insert?: number;
}

/** A firewall rule of a namespace. */
export type FirewallRule = MasqueradeRule | SnatRule | DnatRule | ForwardRule | OtherRule;

/** Where a rule lives: `iptables -t TABLE -A CHAIN ARGS...` (TABLE is nat or filter here, any iptables table in general). */
export interface RuleSpec { table: string; chain: string; args: string[]; insert?: number }

/** An interface match: "eth0", or "!eth0" for every interface but eth0 (as Docker writes `! -o docker0`). */
function ifaceArgs(flag: '-i' | '-o', value: string): string[] {
  return value.startsWith('!') ? ['!', flag, value.slice(1)] : [flag, value];
}

/** The iptables table, chain and match/target arguments of a rule (without -A). */
export function ruleSpecs(rule: FirewallRule): RuleSpec[] {
  switch (rule.type) {
    case 'masquerade':
    case 'snat': {
      const args: string[] = [];
      if (rule.source) args.push('-s', rule.source);
      if (rule.destination) args.push('-d', rule.destination);
      if (rule.out) args.push(...ifaceArgs('-o', rule.out));
      args.push('-j', rule.type === 'masquerade' ? 'MASQUERADE' : 'SNAT');
      if (rule.type === 'snat') args.push('--to-source', rule.to);
      return [{ table: 'nat', chain: 'POSTROUTING', args }];
    }
    case 'dnat': {
      const match = (withIn: boolean): string[] => {
        const args: string[] = [];
        if (rule.destination) args.push('-d', rule.destination);
        if (withIn && rule.in) args.push(...ifaceArgs('-i', rule.in));
        args.push('-p', rule.proto, '-m', rule.proto, '--dport', String(rule.port), '-j', 'DNAT', '--to-destination', rule.to);
        return args;
      };
      const specs: RuleSpec[] = [{ table: 'nat', chain: 'PREROUTING', args: match(true) }];
      if (rule.local) specs.push({ table: 'nat', chain: 'OUTPUT', args: match(false) });
      return specs;
    }
    case 'forward': {
      const args: string[] = [];
      if (rule.source) args.push('-s', rule.source);
      if (rule.destination) args.push('-d', rule.destination);
      if (rule.in) args.push(...ifaceArgs('-i', rule.in));
      if (rule.out) args.push(...ifaceArgs('-o', rule.out));
      args.push('-j', rule.action === 'accept' ? 'ACCEPT' : 'DROP');
      return [{ table: 'filter', chain: 'FORWARD', args }];
    }
    case 'other':
      return [{ table: rule.table, chain: rule.chain, args: rule.args, ...(rule.insert ? { insert: rule.insert } : {}) }];
    default:
      return assertNever(rule);
  }
}

/** The identity of a rule: its table, chain and arguments. */
export function firewallRuleKey(rule: FirewallRule): string {
  return ruleSpecs(rule).map((s) => `${s.table} ${s.chain} ${s.args.join(' ')}`).join(' + ');
}

/** A short description of a rule for people ("MASQUERADE 192.168.1.0/24 out uplink"). */
export function describeFirewallRule(rule: FirewallRule): string {
  switch (rule.type) {
    case 'masquerade':
      return `MASQUERADE${rule.source ? ` from ${rule.source}` : ''}${rule.destination ? ` to ${rule.destination}` : ''}${rule.out ? ` out ${rule.out}` : ''}`;
    case 'snat':
      return `SNAT${rule.source ? ` from ${rule.source}` : ''}${rule.out ? ` out ${rule.out}` : ''} to ${rule.to}`;
    case 'dnat':
      return `DNAT ${rule.proto}/${rule.port}${rule.in ? ` in ${rule.in}` : ''} -> ${rule.to}`;
    case 'forward':
      return `FORWARD ${rule.action.toUpperCase()}${rule.source ? ` from ${rule.source}` : ''}${rule.destination ? ` to ${rule.destination}` : ''}${rule.in ? ` in ${rule.in}` : ''}${rule.out ? ` out ${rule.out}` : ''}`;
    case 'other':
      return `${rule.table}/${rule.chain} ${rule.args.join(' ')}`;
    default:
      return assertNever(rule);
  }
}

/** Splits one `iptables-save` line into words, honouring its double quotes. */
export function splitRuleLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quoted = false;
  let has = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i] ?? '';
    if (quoted) {
      if (ch === '\\' && i + 1 < line.length) { cur += line[i + 1]; i += 1; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') { quoted = true; has = true; }
    else if (ch === ' ' || ch === '\t') { if (has || cur) words.push(cur); cur = ''; has = false; }
    else { cur += ch; has = true; }
  }
  if (has || cur) words.push(cur);
  return words;
}

/**
 * Reads the rules of `iptables-save` output (all tables) into model rules. Rules in
 * chains nslab does not model come back as `other`, so nothing is hidden.
 */
export function parseIptablesSave(text: string): FirewallRule[] {
  const rules: FirewallRule[] = [];
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) { table = line.slice(1); continue; }
    if (!line.startsWith('-A ')) continue;
    const words = splitRuleLine(line);
    const chain = words[1] ?? '';
    const args = words.slice(2);
    rules.push(recognise(table, chain, args) ?? { type: 'other', table, chain, args });
  }
  return mergeLocalDnat(rules);
}

/** Pairs a PREROUTING DNAT with its OUTPUT twin into one rule with `local: true`. */
function mergeLocalDnat(rules: FirewallRule[]): FirewallRule[] {
  const out: FirewallRule[] = [];
  const outputs = rules.filter((r): r is OtherRule => r.type === 'other' && r.table === 'nat' && r.chain === 'OUTPUT');
  const used = new Set<OtherRule>();
  for (const rule of rules) {
    if (rule.type === 'dnat') {
      const twin = outputs.find((o) => !used.has(o) && o.args.join(' ') === ruleSpecs({ ...rule, local: true })[1]?.args.join(' '));
      if (twin) { used.add(twin); out.push({ ...rule, local: true }); continue; }
    }
    if (rule.type === 'other' && used.has(rule)) continue;
    out.push(rule);
  }
  return out.filter((r) => !(r.type === 'other' && used.has(r)));
}

/** Reads the options of one rule into a map ("! -o X" becomes -o "!X"); undefined when an option repeats or is unknown. */
function options(args: string[], known: Set<string>): Map<string, string> | undefined {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const negated = args[i] === '!';
    if (negated) i += 1;
    const key = args[i] ?? '';
    const value = args[i + 1];
    if (!known.has(key) || value === undefined || m.has(key)) return undefined;
    if (negated && key !== '-i' && key !== '-o') return undefined;
    m.set(key, negated ? `!${value}` : value);
  }
  return m;
}

const NAT_OPTIONS = new Set(['-s', '-d', '-o', '-i', '-p', '-m', '--dport', '-j', '--to-source', '--to-destination']);

function recognise(table: string, chain: string, args: string[]): FirewallRule | undefined {
  const o = options(args, NAT_OPTIONS);
  if (!o) return undefined;
  const src = o.has('-s') ? canonicalPrefix(o.get('-s') ?? '') : undefined;
  const dst = o.has('-d') ? canonicalPrefix(o.get('-d') ?? '') : undefined;
  if ((o.has('-s') && !src) || (o.has('-d') && !dst)) return undefined;
  const base = { ...(src ? { source: src } : {}), ...(dst ? { destination: dst } : {}) };
  const target = o.get('-j');
  if (table === 'nat' && chain === 'POSTROUTING' && !o.has('-i') && !o.has('-p')) {
    const out = o.get('-o');
    if (target === 'MASQUERADE' && o.size === 1 + Number(!!src) + Number(!!dst) + Number(!!out)) {
      return { type: 'masquerade', ...base, ...(out ? { out } : {}) };
    }
    const to = o.get('--to-source');
    if (target === 'SNAT' && to && canonicalIp(to)) return { type: 'snat', ...base, ...(out ? { out } : {}), to };
    return undefined;
  }
  if (table === 'nat' && chain === 'PREROUTING' && target === 'DNAT' && !o.has('-s') && !o.has('-o')) {
    const proto = o.get('-p');
    const port = Number(o.get('--dport'));
    const to = o.get('--to-destination');
    if ((proto !== 'tcp' && proto !== 'udp') || o.get('-m') !== proto || !Number.isInteger(port) || !to) return undefined;
    const inIf = o.get('-i');
    return { type: 'dnat', proto, port, to, ...(inIf ? { in: inIf } : {}), ...(dst ? { destination: dst } : {}) };
  }
  if (table === 'filter' && chain === 'FORWARD' && (target === 'ACCEPT' || target === 'DROP') && !o.has('-p') && !o.has('-m')) {
    const inIf = o.get('-i');
    const outIf = o.get('-o');
    return { type: 'forward', action: target === 'ACCEPT' ? 'accept' : 'drop', ...base, ...(inIf ? { in: inIf } : {}), ...(outIf ? { out: outIf } : {}) };
  }
  return undefined;
}

/** Targets that are iptables extensions or verdicts, not chains (what `-j` may name besides a user-defined chain). */
const TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE', 'REJECT', 'LOG', 'NFLOG', 'MASQUERADE', 'SNAT', 'DNAT', 'REDIRECT', 'MARK', 'CONNMARK', 'CT', 'NOTRACK', 'TRACE', 'TCPMSS', 'TPROXY', 'CLASSIFY', 'NETMAP']);

/** The names of chains built into the tables nslab uses; every other chain is user-defined and must be created (`iptables -N`). */
const BUILTIN_CHAIN_NAMES = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** The user-defined chains a rule needs, as "table chain": the chain it is in and the chain it jumps to. */
export function userChains(spec: RuleSpec): string[] {
  const out: string[] = [];
  if (!BUILTIN_CHAIN_NAMES.has(spec.chain)) out.push(`${spec.table} ${spec.chain}`);
  const j = spec.args.indexOf('-j');
  const target = j >= 0 ? spec.args[j + 1] : undefined;
  if (target && !TARGETS.has(target) && !BUILTIN_CHAIN_NAMES.has(target)) out.push(`${spec.table} ${target}`);
  return out;
}

/** The address and port of a DNAT target ("10.0.0.2:80" or "10.0.0.2"). */
export function parseDnatTarget(to: string): { address: string; port?: number } | undefined {
  const m = /^([0-9.]+)(?::([0-9]{1,5}))?$/.exec(to);
  if (!m) return undefined;
  const address = m[1] ?? '';
  if (!parseIp(address) || parseIp(address)?.family !== 4) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  return { address, ...(port !== undefined ? { port } : {}) };
}
