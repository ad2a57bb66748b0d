/**
 * The topology file (YAML or JSON): parse, then resolve into the model, then
 * validate; and the reverse, a lab written back as a file.
 */
import { Document, isScalar, isSeq, parse as parseYaml, visit, YAMLParseError } from 'yaml';
import type { core } from 'zod';
import { canonicalCidr, canonicalIp, formatCidr, networkOf, parseCidr } from './address';
import { VXLAN_PORT } from './interface/index';
import type { NatRule } from './nat';
import { assertNever } from './nat';
import type { Problem } from './problem';
import { pathOf } from './problem';
import { formatRoute, parseRoute } from './route';
import type { RawInterface, RawNat, RawService, RawTopology } from './schema';
import { rawTopology } from './schema';
import type { Endpoint, Interface, Namespace, Topology } from './topology';
import { linkOf } from './topology';
import { validate } from './validate';
import { reservedNameProblem } from './names';
import { warnings } from './warnings';
import { formatFirewallLine, parseFirewallLine } from './firewall';
import { isOtherSysctl, normaliseSysctlValue, otherSysctlProblem, parseSysctlName, sysctlDefault, sysctlInterfaceParts, sysctlValueProblem } from './sysctl';
import type { ChainPolicy } from './policy';
import { changedPolicies, parsePolicyKey, policyValueProblem } from './policy';
import type { ContainerLayer } from './container/layer';
import { expandContainers } from './container/expand';
import { withContainerLayer } from './container/export';
import { expandServices } from './container/kube-proxy';

/** What a topology file says besides the topology: text for people. */
export interface TopologyMeta {
  description?: string;
  /** Commands worth trying in this lab. */
  try?: string[];
  /** Docker's view of the lab (sandboxes, endpoints, networks) when the file used `networks`/`containers`. */
  containers?: ContainerLayer;
  /** The file's Kubernetes services, as written (their rules are kube-proxy's, rebuilt from this). */
  services?: Record<string, RawService>;
}

/** Options of parsing: the lab as the kernel has it, so containers keep their addresses. */
export interface ParseOptions { observed?: Topology }

/** The result of reading a file: a topology, or every problem found. */
export type ParseResult =
  | { ok: true; topology: Topology; meta: TopologyMeta; warnings?: Problem[] }
  | { ok: false; problems: Problem[] };

/** Reads a topology file (YAML or JSON, which is YAML) and validates it. */
export function parseTopology(text: string, options: ParseOptions = {}): ParseResult {
  let data: unknown;
  try {
    data = parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const dup = /Map keys must be unique/.test(err.message);
      const line = err.linePos?.[0];
      const where = line ? ` (line ${line.line}, column ${line.col})` : '';
      return { ok: false, problems: [{ path: '', message: dup ? `a name is defined twice${where}: every node, interface and key must be unique` : `the file is not valid YAML or JSON${where}: ${err.message.split('\n')[0]}` }] };
    }
    throw err;
  }
  return parseTopologyData(data, options);
}

/** Validates already-decoded data (a JSON body, a socket message) as a topology file. */
export function parseTopologyData(data: unknown, options: ParseOptions = {}): ParseResult {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, problems: [{ path: '', message: 'a topology is a mapping with at least "name" and "nodes"' }] };
  }
  // Before the schema: it would build plain objects from these keys and lose (or misread) them.
  const reserved = reservedKeys(data, []);
  if (reserved.length > 0) return { ok: false, problems: reserved };
  const parsed = rawTopology.safeParse(data);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(schemaProblem) };
  const problems: Problem[] = [];
  const topology = resolve(parsed.data, problems);
  const layer = parsed.data.networks || parsed.data.containers
    ? expandContainers(topology, parsed.data.networks ?? {}, parsed.data.containers ?? {}, options.observed, problems)
    : undefined;
  if (parsed.data.services) expandServices(topology, parsed.data.services, problems);
  problems.push(...validate(topology));
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };
  const meta: TopologyMeta = {};
  if (layer) meta.containers = layer;
  if (parsed.data.services && Object.keys(parsed.data.services).length > 0) meta.services = parsed.data.services;
  if (parsed.data.description !== undefined) meta.description = parsed.data.description;
  if (parsed.data.try !== undefined) meta.try = parsed.data.try;
  const found = warnings(topology);
  return { ok: true, topology, meta, ...(found.length > 0 ? { warnings: found } : {}) };
}

/** Every key of the data, at any depth, that JavaScript reserves (`__proto__`, `constructor`, ...), as problems. */
function reservedKeys(data: unknown, path: (string | number)[]): Problem[] {
  if (data === null || typeof data !== 'object') return [];
  if (Array.isArray(data)) return data.flatMap((v, i) => reservedKeys(v, [...path, i]));
  return Object.keys(data).flatMap((key) => {
    const here = [...path, key];
    const problem = reservedNameProblem(key, 'the');
    if (problem) return [{ path: pathOf(...here), message: `${pathOf(...here)}: ${problem}` }];
    return reservedKeys((data as Record<string, unknown>)[key], here);
  });
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\n${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function schemaProblem(issue: core.$ZodIssue): Problem {
  const path = pathOf(...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
  switch (issue.code) {
    case 'unrecognized_keys':
      return { path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${path ? ` in ${path}` : ''}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling` };
    case 'invalid_type':
      return { path, message: `${path || 'the file'} should be ${article(issue.expected)}${issue.input === undefined ? ' but is missing' : ''}` };
    case 'invalid_value':
      return { path, message: `${path} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'invalid_union':
      return { path, message: `${path} is not a rule nslab knows: "type" must be masquerade, snat, dnat or forward` };
    case 'too_small':
    case 'too_big':
      return { path, message: `${path}: ${issue.message}` };
    default:
      return { path, message: `${path}: ${issue.message}` };
  }
}

function article(expected: string): string {
  const words: Record<string, string> = { string: 'text', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping', record: 'a mapping', tuple: 'a pair like [ns1:eth0, ns2:eth0]' };
  return words[expected] ?? expected;
}

/** Parses "node:interface". */
export function parseEndpoint(text: string): Endpoint | undefined {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1 || text.indexOf(':', i + 1) >= 0) return undefined;
  return { node: text.slice(0, i), interface: text.slice(i + 1) };
}

function resolveInterface(raw: RawInterface, inLink: boolean, name: string): Interface {
  const kind = raw.kind ?? (name === 'lo' ? 'loopback' : inLink ? 'veth' : 'other');
  const iface: Interface = {
    kind,
    up: raw.up ?? true,
    addresses: (raw.addresses ?? []).map((a) => canonicalCidr(a) ?? a),
  };
  if (raw.master !== undefined) iface.master = raw.master;
  if (raw.mtu !== undefined) iface.mtu = raw.mtu;
  if (raw.type !== undefined) iface.type = raw.type;
  if (kind === 'vxlan' || raw.vni !== undefined) {
    iface.vxlan = { vni: raw.vni ?? -1, port: raw.port ?? VXLAN_PORT };
    if (raw.remote !== undefined) iface.vxlan.remote = canonicalIp(raw.remote) ?? raw.remote;
    if (raw.group !== undefined) iface.vxlan.group = canonicalIp(raw.group) ?? raw.group;
    if (raw.local !== undefined) iface.vxlan.local = canonicalIp(raw.local) ?? raw.local;
    if (raw.dev !== undefined) iface.vxlan.dev = raw.dev;
  }
  return iface;
}

function resolveNat(raw: RawNat): NatRule {
  // As iptables stores it, so a re-apply converges: host bits cleared (10.0.0.1/24 is 10.0.0.0/24),
  // and 0.0.0.0/0 left out (it matches everything, and iptables-save prints no -s/-d for it).
  // ::/0 and other IPv6 prefixes stay as written, for validation to refuse.
  const prefix = (v: string | undefined) => {
    if (v === undefined) return undefined;
    const c = parseCidr(v.includes('/') ? v : `${v}/${v.includes(':') ? 128 : 32}`);
    if (!c) return v;
    if (c.family === 4 && c.prefix === 0) return undefined;
    return formatCidr(networkOf(c));
  };
  const opt = <K extends string>(key: K, v: string | undefined) => (v === undefined ? {} : ({ [key]: v } as Record<K, string>));
  switch (raw.type) {
    case 'masquerade':
      return { type: 'masquerade', ...opt('source', prefix(raw.source)), ...opt('destination', prefix(raw.destination)), ...opt('out', raw.out) };
    case 'snat':
      return { type: 'snat', ...opt('source', prefix(raw.source)), ...opt('destination', prefix(raw.destination)), ...opt('out', raw.out), to: raw.to };
    case 'dnat':
      return {
        type: 'dnat', proto: raw.proto ?? 'tcp', port: raw.port, to: raw.to,
        ...opt('in', raw.in), ...opt('destination', prefix(raw.destination)), ...(raw.local ? { local: true } : {}),
      };
    case 'forward':
      return { type: 'forward', action: raw.action, ...opt('source', prefix(raw.source)), ...opt('destination', prefix(raw.destination)), ...opt('in', raw.in), ...opt('out', raw.out) };
    default:
      return assertNever(raw);
  }
}

/** Builds the model from the file's shape; syntax problems (routes, endpoints) go to `problems`. */
export function resolve(raw: RawTopology, problems: Problem[]): Topology {
  const topology: Topology = { name: raw.name, nodes: {}, links: [] };
  (raw.links ?? []).forEach((pair, i) => {
    const ends = pair.map((text, j) => {
      const e = parseEndpoint(text);
      if (!e) problems.push({ path: pathOf('links', i, j), message: `"${text}" is not an endpoint: write NODE:INTERFACE, e.g. ns1:eth0` });
      return e;
    });
    const [a, b] = ends;
    if (a && b) topology.links.push({ a, b });
  });
  for (const [name, rawNode] of Object.entries(raw.nodes ?? {})) {
    const node: Namespace = { forwarding: rawNode?.forwarding ?? false, interfaces: {}, routes: [], nat: [] };
    for (const [ifname, rawIf] of Object.entries(rawNode?.interfaces ?? {})) {
      node.interfaces[ifname] = resolveInterface(rawIf, linkOf(topology, name, ifname) !== undefined, ifname);
    }
    (rawNode?.routes ?? []).forEach((text, i) => {
      const r = parseRoute(text);
      if (r.ok) node.routes.push(r.route);
      else problems.push({ path: pathOf('nodes', name, 'routes', i), message: r.message });
    });
    node.nat = (rawNode?.nat ?? []).map(resolveNat);
    if (rawNode?.firewall !== undefined) {
      node.firewall = true;
      rawNode.firewall.forEach((text, i) => {
        const r = parseFirewallLine(text);
        if (r.ok) node.nat.push(r.rule);
        else problems.push({ path: pathOf('nodes', name, 'firewall', i), message: r.message });
      });
    }
    const knobs = resolveSysctls(name, rawNode?.sysctls, problems);
    if (knobs !== undefined) node.sysctls = knobs;
    const policies = resolvePolicies(name, rawNode?.policies, problems);
    if (policies !== undefined) node.policies = policies;
    topology.nodes[name] = node;
  }
  // An endpoint named only in a link is a veth with no addresses.
  for (const link of topology.links) {
    for (const e of [link.a, link.b]) {
      const node = topology.nodes[e.node];
      if (node && !node.interfaces[e.interface]) node.interfaces[e.interface] = { kind: 'veth', up: true, addresses: [] };
    }
  }
  // An interface's knob needs the interface ("all" and "default" are the kernel's own).
  for (const [name, node] of Object.entries(topology.nodes)) {
    for (const key of Object.keys(node.sysctls ?? {})) {
      const iface = sysctlInterfaceParts(key)?.interface;
      if (iface !== undefined && iface !== 'all' && iface !== 'default' && iface !== 'lo' && !Object.hasOwn(node.interfaces, iface)) {
        problems.push({ path: pathOf('nodes', name, 'sysctls', key), message: `${name} has no interface "${iface}": add it, or set the knob on all` });
      }
    }
  }
  return topology;
}

/**
 * A node's `sysctls:` map: names from the allow-list (sysctl.ts), values as the
 * kernel writes them ("1"; true and 1 are accepted for it). ip_forward has its own
 * key in the file. Undefined when the node sets none.
 */
function resolveSysctls(node: string, raw: Record<string, string | number | boolean> | undefined, problems: Problem[]): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const out = Object.create(null) as Record<string, string>;
  for (const [key, rawValue] of Object.entries(raw)) {
    const path = pathOf('nodes', node, 'sysctls', key);
    if (key === 'net.ipv4.ip_forward') {
      problems.push({ path, message: 'write forwarding: true (or false) on the node instead of net.ipv4.ip_forward' });
      continue;
    }
    const parsed = parseSysctlName(key);
    const value = typeof rawValue === 'boolean' ? (rawValue ? '1' : '0') : normaliseSysctlValue(String(rawValue));
    if (typeof parsed === 'string') {
      // Outside the allow-list: a net.* sysctl kept as the kernel held it (the kernel checks the name before a run).
      const problem = isOtherSysctl(key) ? otherSysctlProblem(key, value) : `nslab does not manage the sysctl "${key}": a lab holds only net.* sysctls, which belong to a network namespace (the rest are the whole machine's)`;
      if (problem !== undefined) problems.push({ path, message: problem });
      else out[key] = value;
      continue;
    }
    const problem = sysctlValueProblem(parsed.spec, value);
    if (problem !== undefined) problems.push({ path, message: `${key} ${problem}` });
    else out[key] = value;
  }
  return out;
}

/**
 * A node's `policies:` map: keys TABLE/CHAIN naming a built-in chain, values ACCEPT or
 * DROP (any case, written back in capitals as iptables prints them). Undefined when the
 * node sets none.
 */
function resolvePolicies(node: string, raw: Record<string, string> | undefined, problems: Problem[]): Record<string, ChainPolicy> | undefined {
  if (raw === undefined) return undefined;
  const out = Object.create(null) as Record<string, ChainPolicy>;
  for (const [key, value] of Object.entries(raw)) {
    const path = pathOf('nodes', node, 'policies', key);
    const parsed = parsePolicyKey(key);
    const problem = typeof parsed === 'string' ? parsed : policyValueProblem(key, value);
    if (problem !== undefined) problems.push({ path, message: typeof parsed === 'string' ? `${node}: ${problem}` : `${node}'s ${key}: ${problem}` });
    else out[key] = value.toUpperCase() as ChainPolicy;
  }
  return out;
}

/** The lab as a topology file's data: defaults left out, VXLAN keys flat, veth kinds implied by links. */
export function toFile(topology: Topology, meta: TopologyMeta = {}): RawTopology {
  const out: RawTopology = { name: topology.name };
  if (meta.description) out.description = meta.description;
  if (meta.try && meta.try.length > 0) out.try = meta.try;
  out.nodes = {};
  for (const [name, node] of Object.entries(topology.nodes)) {
    const rawNode: NonNullable<NonNullable<RawTopology['nodes']>[string]> = {};
    if (node.forwarding) rawNode.forwarding = true;
    // Knobs the kernel holds at their fresh-namespace value are left out, as other defaults are.
    // Sysctls outside the allow-list are in the model only when they differ from a fresh namespace's (or were asked for).
    const knobs = Object.entries(node.sysctls ?? {}).filter(([k, v]) => k !== 'net.ipv4.ip_forward' && (isOtherSysctl(k) || (sysctlDefault(k) !== undefined && v !== sysctlDefault(k)))).sort(([a], [b]) => a.localeCompare(b));
    if (knobs.length > 0) rawNode.sysctls = Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries(knobs));
    const ifaces: Record<string, RawInterface> = {};
    for (const [ifname, iface] of Object.entries(node.interfaces)) {
      if (iface.kind === 'loopback' && iface.addresses.length === 0) continue;
      const r: RawInterface = {};
      const linked = linkOf(topology, name, ifname) !== undefined;
      if (!(iface.kind === 'veth' && linked) && !(iface.kind === 'loopback' && ifname === 'lo')) r.kind = iface.kind;
      if (iface.kind === 'other') r.type = iface.type ?? 'unknown';
      if (iface.addresses.length > 0) r.addresses = [...iface.addresses];
      if (!iface.up) r.up = false;
      if (iface.master) r.master = iface.master;
      if (iface.mtu !== undefined && iface.mtu !== 1500 && iface.kind !== 'loopback') r.mtu = iface.mtu;
      if (iface.vxlan) {
        r.vni = iface.vxlan.vni;
        if (iface.vxlan.remote) r.remote = iface.vxlan.remote;
        if (iface.vxlan.group) r.group = iface.vxlan.group;
        if (iface.vxlan.local) r.local = iface.vxlan.local;
        if (iface.vxlan.dev) r.dev = iface.vxlan.dev;
        if (iface.vxlan.port !== VXLAN_PORT) r.port = iface.vxlan.port;
      }
      if (iface.kind === 'veth' && !linked) continue; // a veth whose peer is outside the lab cannot be rebuilt
      ifaces[ifname] = r;
    }
    if (Object.keys(ifaces).length > 0) rawNode.interfaces = ifaces;
    if (node.routes.length > 0) rawNode.routes = node.routes.map(formatRoute);
    const nat = node.nat.filter((r) => r.type !== 'other');
    if (nat.length > 0) rawNode.nat = nat.map((r) => ({ ...r }));
    // Rules nslab does not model are written as they would be typed, so an apply keeps them exactly.
    const raw = node.nat.flatMap((r) => (r.type === 'other' ? [formatFirewallLine(r)] : []));
    if (raw.length > 0 || node.firewall) rawNode.firewall = raw;
    // Policies are left out at ACCEPT, every chain's policy in a fresh namespace, as other defaults are.
    const policies = changedPolicies(node.policies);
    if (policies.length > 0) rawNode.policies = Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries(policies));
    out.nodes[name] = rawNode;
  }
  if (topology.links.length > 0) out.links = topology.links.map((l) => [`${l.a.node}:${l.a.interface}`, `${l.b.node}:${l.b.interface}`]);
  // A lab with a container layer exports it, not its expansion; services likewise.
  const file = meta.containers?.spec ? withContainerLayer(out, topology, meta.containers.spec) : out;
  if (meta.services) file.services = meta.services;
  return file;
}

/** The lab as YAML text, in the topology file's shape. */
export function toYaml(topology: Topology, meta: TopologyMeta = {}): string {
  return formatYaml(toFile(topology, meta));
}

/** YAML as the examples write it: lists of plain values inline (`[192.168.1.1/24]`), the rest in blocks. */
export function formatYaml(data: unknown): string {
  const doc = new Document(data);
  visit(doc, {
    Seq(_key, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
    Map(_key, node) {
      // An interface with only short lists reads best on one line: { addresses: [10.0.0.1/24] }.
      if (node.items.length <= 3 && node.items.every((p) => isScalar(p.value) || (isSeq(p.value) && p.value.items.every(isScalar) && p.value.items.length <= 2))) {
        node.flow = node.items.length > 0;
      }
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}
