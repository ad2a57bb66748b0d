/**
 * The lab model. One set of types describes both the desired topology (from a file
 * or the canvas) and the observed kernel state, so `plan(desired, observed)` can
 * compute the difference.
 */
import type { FirewallRule } from './nat';
import type { ChainPolicy } from './policy';
import type { Route } from './route';

/** The kinds of network device nslab knows; `other` is anything else the kernel has. */
export type InterfaceKind = 'veth' | 'bridge' | 'vxlan' | 'dummy' | 'loopback' | 'other';

/** The VXLAN device's parameters (`ip link add ... type vxlan ...`). */
export interface VxlanParams {
  vni: number;
  remote?: string;
  group?: string;
  local?: string;
  dev?: string;
  /** UDP destination port; the IANA port 4789 when not given. */
  port: number;
}

/** A network device inside a namespace. */
export interface Interface {
  kind: InterfaceKind;
  /** Administratively up (`ip link set X up`). */
  up: boolean;
  /** Addresses in CIDR form, canonical text. */
  addresses: string[];
  /** The bridge this device is a port of. */
  master?: string;
  mtu?: number;
  vxlan?: VxlanParams;
  /** Observed only: the MAC address. */
  mac?: string;
  /** Observed only: the kernel's operstate in lower case ("up", "down", "lowerlayerdown", "unknown"). */
  state?: string;
  /** Observed only: the far end of a veth that is not part of a lab link (another lab, or unknown). */
  peer?: string;
  /** For kind `other`: the kernel's own kind of the device (`macvlan`, `ipvlan`, `tun`...), as `ip -d link` names it. */
  type?: string;
  /** For kind `other` of a type that sits on another device (macvlan, macvtap, ipvlan, vlan): that device, in the same namespace. */
  parent?: string;
  /** For kind `other`: the type's mode (macvlan `bridge`, ipvlan `l2`, tun `tap`...), as iproute2 names it. */
  mode?: string;
  /** For kind `other` of type vlan: the VLAN id (0-4095). */
  id?: number;
}

/** A network namespace: a node of the lab. */
export interface Namespace {
  /** net.ipv4.ip_forward in this namespace. */
  forwarding: boolean;
  interfaces: Record<string, Interface>;
  routes: Route[];
  nat: FirewallRule[];
  /**
   * Desired only: the file lists `firewall:` for this node, so it owns the node's rules that
   * nslab does not model (`other` rules); without it an apply leaves those rules alone.
   */
  firewall?: boolean;
  /**
   * Kernel knobs by sysctl name (sysctl.ts's allow-list), as null-prototype objects.
   * Desired: the ones the file sets. Observed: every knob, when they were read.
   */
  sysctls?: Record<string, string>;
  /**
   * Built-in chains' policies by "TABLE/CHAIN" (policy.ts), as null-prototype objects.
   * Desired: the ones the file sets (the others are left as the kernel has them).
   * Observed: every built-in chain of each table iptables-save printed.
   */
  policies?: Record<string, ChainPolicy>;
  /**
   * Native nftables tables (not iptables-nft's own) by "FAMILY NAME" ("inet filter"), each as
   * `nft list table FAMILY NAME` prints it, in a null-prototype object. Observed: every one the
   * kernel has. Desired: present when the file lists `nftables:`, which then owns the node's
   * native tables (an apply makes them exactly these); absent, they are left as they are.
   */
  nftables?: Record<string, string>;
  /**
   * ip6tables rules as firewall lines ("-t filter -A INPUT -p ipv6-icmp -j ACCEPT"). Observed:
   * every rule. Desired: present when the file lists `firewall6:`, which then owns the node's
   * ip6tables rules; absent, they are left as they are.
   */
  ip6tables?: string[];
}

/** One end of a link: an interface of a node. */
export interface Endpoint {
  node: string;
  interface: string;
}

/** The cable a user sees: the two ends of a veth pair. */
export interface Link {
  a: Endpoint;
  b: Endpoint;
}

/** A whole lab. */
export interface Topology {
  name: string;
  nodes: Record<string, Namespace>;
  links: Link[];
}

/** An empty namespace with the defaults of the topology file. */
export function emptyNamespace(): Namespace {
  return { forwarding: false, interfaces: {}, routes: [], nat: [] };
}

/** "node:interface", the way the topology file writes an endpoint. */
export function formatEndpoint(e: Endpoint): string {
  return `${e.node}:${e.interface}`;
}

/** A link's identity regardless of the order of its ends. */
export function linkKey(link: Link): string {
  const a = formatEndpoint(link.a);
  const b = formatEndpoint(link.b);
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** The link that has this endpoint, and which end it is. */
export function linkOf(topology: Topology, node: string, iface: string): { link: Link; peer: Endpoint } | undefined {
  for (const link of topology.links) {
    if (link.a.node === node && link.a.interface === iface) return { link, peer: link.b };
    if (link.b.node === node && link.b.interface === iface) return { link, peer: link.a };
  }
  return undefined;
}
