/**
 * Kernel knobs as lab state: the sysctls that decide what learners see, per
 * namespace and per interface, under their sysctl names. One table names every
 * knob nslab reads, shows and lets a user set; anything else is refused with a
 * sentence, so no topology file can write an arbitrary /proc/sys path.
 */

/** Whether a knob belongs to the namespace or to each of its interfaces (net.ipv4.conf.IFNAME.KEY). */
export type SysctlScope = 'namespace' | 'interface';

/** One knob nslab knows. */
export interface SysctlSpec {
  /** For scope "interface", the KEY of net.ipv4.conf.IFNAME.KEY (or net.ipv6.conf...); the full name otherwise. */
  key: string;
  scope: SysctlScope;
  /** net.ipv4.conf or net.ipv6.conf, for interface knobs. */
  family?: 4 | 6;
  /** Values the kernel accepts that nslab offers. */
  values: readonly string[];
  /** The value in a fresh namespace on this kernel (read from a new netns, 2026-12-05); export leaves defaults out. */
  fallback: string;
  /** What it does, for the inspector. */
  help: string;
  /**
   * The value nslab gives `all` and `default` when it creates a namespace (plan.ts), where it
   * differs from the kernel's. The kernel ORs `all` with each device's value for such a knob, so
   * once `all` is set a device's own value changes nothing: it is not compared on export.
   */
  createdAs?: string;
}

/** Every knob nslab handles. */
export const SYSCTLS: readonly SysctlSpec[] = [
  { key: 'net.ipv4.ip_forward', scope: 'namespace', values: ['0', '1'], fallback: '0', help: 'route packets between interfaces (the topology file writes it as forwarding: true)' },
  { key: 'net.ipv6.conf.all.forwarding', scope: 'namespace', values: ['0', '1'], fallback: '0', help: 'route IPv6 packets between interfaces' },
  { key: 'net.ipv4.icmp_echo_ignore_all', scope: 'namespace', values: ['0', '1'], fallback: '0', help: 'ignore every ping' },
  { key: 'net.bridge.bridge-nf-call-iptables', scope: 'namespace', values: ['0', '1'], fallback: '1', help: 'frames switched by a bridge cross iptables too (br_netfilter; Docker and Kubernetes need it)' },
  { key: 'net.bridge.bridge-nf-call-ip6tables', scope: 'namespace', values: ['0', '1'], fallback: '1', help: 'bridged IPv6 frames cross ip6tables too' },
  { key: 'rp_filter', scope: 'interface', family: 4, values: ['0', '1', '2'], fallback: '0', help: 'reverse-path filter: 1 strict (drop a packet whose way back leaves by another interface), 2 loose, 0 off; the higher of all and the interface counts' },
  { key: 'proxy_arp', scope: 'interface', family: 4, values: ['0', '1'], fallback: '0', help: 'answer ARP for addresses this namespace routes to' },
  { key: 'route_localnet', scope: 'interface', family: 4, values: ['0', '1'], fallback: '0', help: 'let 127.0.0.0/8 be routed (DNAT to localhost needs it)' },
  { key: 'promote_secondaries', scope: 'interface', family: 4, values: ['0', '1'], fallback: '0', createdAs: '1', help: 'keep secondary addresses when the primary is removed' },
  { key: 'accept_redirects', scope: 'interface', family: 4, values: ['0', '1'], fallback: '1', help: 'follow ICMP redirects' },
  { key: 'send_redirects', scope: 'interface', family: 4, values: ['0', '1'], fallback: '1', help: 'send ICMP redirects when routing back out the same interface' },
  { key: 'arp_ignore', scope: 'interface', family: 4, values: ['0', '1', '2'], fallback: '0', help: 'which ARP requests to answer: 0 any local address, 1 only the receiving interface\'s' },
  { key: 'arp_announce', scope: 'interface', family: 4, values: ['0', '1', '2'], fallback: '0', help: 'which source address ARP requests use' },
  { key: 'disable_ipv6', scope: 'interface', family: 6, values: ['0', '1'], fallback: '0', help: 'turn IPv6 off' },
];

/** A name the allow-list understands: the spec and, for interface knobs, the interface ("all", "default" or a device). */
export interface SysctlName {
  name: string;
  spec: SysctlSpec;
  interface?: string;
}

/** Reads a sysctl name against the allow-list; a sentence when it is not one nslab handles. */
export function parseSysctlName(name: string): SysctlName | string {
  const direct = SYSCTLS.find((s) => s.scope === 'namespace' && s.key === name);
  if (direct !== undefined) return { name, spec: direct };
  const m = /^net\.(ipv4|ipv6)\.conf\.(.+)\.([a-z0-9_]+)$/.exec(name);
  if (m !== null) {
    const [, fam, iface = '', key] = m;
    const spec = SYSCTLS.find((s) => s.scope === 'interface' && s.key === key && s.family === (fam === 'ipv4' ? 4 : 6));
    if (spec !== undefined) {
      if (iface.length > 15 || /[\s/]/.test(iface) || iface === '.' || iface === '..') return `"${name}": "${iface}" is not an interface name`;
      return { name, spec, interface: iface };
    }
  }
  return `nslab does not manage the sysctl "${name}"; it knows ${SYSCTLS.map((s) => (s.scope === 'namespace' ? s.key : `net.ipv${s.family}.conf.IFNAME.${s.key}`)).join(', ')}`;
}

/** Why a value cannot be written to a knob, or undefined when it can. */
export function sysctlValueProblem(spec: SysctlSpec, value: string): string | undefined {
  return spec.values.includes(value) ? undefined : `must be one of ${spec.values.join(', ')}, not "${value}"`;
}

/** Every knob name of a namespace with these interfaces: the namespace's own, then all/default and each interface's. */
export function sysctlNames(interfaces: readonly string[]): string[] {
  const out = SYSCTLS.filter((s) => s.scope === 'namespace').map((s) => s.key);
  for (const iface of ['all', 'default', ...interfaces]) {
    for (const s of SYSCTLS) if (s.scope === 'interface') out.push(`net.ipv${s.family}.conf.${iface}.${s.key}`);
  }
  return out;
}

/**
 * The value a knob has in a fresh lab namespace (export leaves these out); undefined for a
 * device's own value of a knob whose `all` nslab sets (see SysctlSpec.createdAs).
 */
export function sysctlDefault(name: string): string | undefined {
  const parsed = parseSysctlName(name);
  if (typeof parsed === 'string') return undefined;
  const { spec, interface: iface } = parsed;
  if (spec.createdAs === undefined) return spec.fallback;
  return iface === 'all' || iface === 'default' ? spec.createdAs : undefined;
}

/** A per-interface sysctl name: net.ipv4.conf.IFNAME.KEY, net.ipv6.neigh.IFNAME.KEY (IFNAME may hold dots). */
const PER_INTERFACE = /^net\.(ipv4|ipv6)\.(conf|neigh)\.(.+)\.([a-z0-9_]+)$/;

/** The parts of a per-interface sysctl name, or undefined for a namespace's own. */
export function sysctlInterfaceParts(name: string): { family: 'ipv4' | 'ipv6'; table: 'conf' | 'neigh'; interface: string; key: string } | undefined {
  const m = PER_INTERFACE.exec(name);
  if (m === null) return undefined;
  const [, family, table, iface = '', key = ''] = m;
  return { family: family as 'ipv4' | 'ipv6', table: table as 'conf' | 'neigh', interface: iface, key };
}

/** A sysctl name as `sysctl` takes it: an interface name with dots is written with slashes (sysctl(8)). */
export function sysctlArgName(name: string): string {
  const parts = sysctlInterfaceParts(name);
  if (parts === undefined || !parts.interface.includes('.')) return name;
  return `net/${parts.family}/${parts.table}/${parts.interface}/${parts.key}`;
}

/*
 * Sysctls outside the allow-list. A namespace holds some 500 net.* sysctls; nslab offers the
 * table above on the canvas, and keeps every other one the kernel holds off its fresh-namespace
 * value (read with `sysctl -a` against a new namespace's, kernel/sysctl-other.ts): shown,
 * exported and applied back as it was, so `sysctl -w net.ipv4.tcp_syncookies=0` typed in a shell
 * survives export, destroy and apply. They are net.* only: a network namespace's own, never the
 * machine's (kernel.*, vm.*). The kernel judges the value when it is written; the name is checked
 * against the kernel before anything runs.
 */

/** A net.* name of plain parts (an interface name may add @, :, + and -). */
const OTHER_NAME = /^net(\.[A-Za-z0-9_@:+-]+)+$/;
/** A value as `sysctl` prints one: words of digits, letters, '.', ':', '_', '+' and '-', one space apart. */
const OTHER_VALUE = /^[A-Za-z0-9_.:+-]+( [A-Za-z0-9_.:+-]+)*$/;

/** Whether `name` is a net.* sysctl outside the allow-list (shaped as one; the kernel may still not have it). */
export function isOtherSysctl(name: string): boolean {
  return typeof parseSysctlName(name) === 'string' && name.startsWith('net.');
}

/** A value as the file keeps it: blanks (sysctl prints tabs between numbers) made one space. */
export function normaliseSysctlValue(value: string): string {
  return value.trim().split(/\s+/).join(' ');
}

/** Why a net.* sysctl outside the allow-list cannot be written as given, or undefined when it can be tried. */
export function otherSysctlProblem(name: string, value: string): string | undefined {
  if (name.length > 128 || !OTHER_NAME.test(name)) return `"${name}" is not a sysctl name nslab writes: net. followed by dotted words of letters, digits and _`;
  if (value.length === 0 || value.length > 64 || !OTHER_VALUE.test(value)) return `${name} must be a value as sysctl prints it (numbers or words, one space apart), not "${value}"`;
  if (sysctlInterfaceParts(name)?.key === 'forwarding') return `write forwarding: true on the node (or net.ipv6.conf.all.forwarding) instead of ${name}: a device's forwarding follows them`;
  return undefined;
}
