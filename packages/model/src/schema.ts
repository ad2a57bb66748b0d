/**
 * The topology file's shape, as schemas: what keys exist and what types they hold.
 * Unknown keys are errors. Meaning (names, addresses, references) is checked by
 * `validate`, which sees the resolved model.
 */
import { z } from 'zod';

const kind = z.enum(['veth', 'bridge', 'vxlan', 'dummy', 'loopback', 'other']);
const port = z.number().int();

/** One interface as the file writes it (VXLAN keys flat, as in `ip link add ... type vxlan`). */
export const rawInterface = z.strictObject({
  kind: kind.optional(),
  addresses: z.array(z.string()).optional(),
  up: z.boolean().optional(),
  master: z.string().optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
  vni: z.number().int().optional(),
  remote: z.string().optional(),
  group: z.string().optional(),
  local: z.string().optional(),
  dev: z.string().optional(),
  port: port.optional(),
  /** With `kind: other`: the kernel's kind of the device (macvlan, tun...), kept but never built. */
  type: z.string().max(32).optional(),
  /** With `kind: other` of a type that sits on a device (macvlan, macvtap, ipvlan, vlan): that device, in the same node. */
  parent: z.string().optional(),
  /** With `kind: other`: the type's mode (macvlan bridge, ipvlan l2, tun tap...). */
  mode: z.string().max(32).optional(),
  /** With `kind: other, type: vlan`: the VLAN id. */
  id: z.number().int().optional(),
});

const masquerade = z.strictObject({ type: z.literal('masquerade'), source: z.string().optional(), destination: z.string().optional(), out: z.string().optional() });
const snat = z.strictObject({ type: z.literal('snat'), source: z.string().optional(), destination: z.string().optional(), out: z.string().optional(), to: z.string() });
const dnat = z.strictObject({
  type: z.literal('dnat'),
  proto: z.enum(['tcp', 'udp']).optional(),
  port,
  to: z.string(),
  in: z.string().optional(),
  destination: z.string().optional(),
  local: z.boolean().optional(),
});
const forward = z.strictObject({
  type: z.literal('forward'),
  action: z.enum(['accept', 'drop']),
  source: z.string().optional(),
  destination: z.string().optional(),
  in: z.string().optional(),
  out: z.string().optional(),
});

/** One firewall rule as the file writes it. */
export const rawFirewallRule = z.discriminatedUnion('type', [masquerade, snat, dnat, forward]);

/** One node (namespace) as the file writes it. */
export const rawNode = z.strictObject({
  forwarding: z.boolean().optional(),
  interfaces: z.record(z.string(), rawInterface).optional(),
  routes: z.array(z.string()).optional(),
  nat: z.array(rawFirewallRule).optional(),
  /** Raw iptables rules, e.g. "-t filter -A INPUT -p icmp -j DROP": listing them makes the file own the node's raw rules. */
  firewall: z.array(z.string().max(1000)).max(1000).optional(),
  /** Raw ip6tables rules, as `firewall:` writes iptables ones: listing them makes the file own the node's ip6tables rules. */
  firewall6: z.array(z.string().max(1000)).max(1000).optional(),
  /** Native nftables tables by "FAMILY NAME", each the text `nft list table FAMILY NAME` prints: listing them makes the file own the node's native tables. */
  nftables: z.record(z.string(), z.string().max(200_000)).optional(),
  /** Kernel knobs by sysctl name: { net.ipv4.conf.all.rp_filter: 1 }. */
  sysctls: z.record(z.string(), z.union([z.string(), z.number().int(), z.boolean()])).optional(),
  /** Built-in chains' policies by TABLE/CHAIN: { filter/FORWARD: DROP }. */
  policies: z.record(z.string().max(64), z.string().max(16)).optional(),
});

/** A Docker-style network: nslab builds it the way Docker's bridge (or overlay) driver does. */
export const rawNetwork = z.strictObject({
  driver: z.enum(['bridge', 'overlay']).optional(),
  subnet: z.string(),
  gateway: z.string().optional(),
  internal: z.boolean().optional(),
  vni: z.number().int().optional(),
  /** Overlay only: the hosts' underlay interface the VXLAN devices send through. */
  dev: z.string().optional(),
});

/** A Docker-style container: a namespace joined to networks, or sharing the host's (host mode). */
export const rawContainer = z.strictObject({
  networks: z.array(z.string()).optional(),
  /** bridge (networks), host, none, or container:NAME (another container's namespace). */
  network_mode: z.union([z.enum(['bridge', 'host', 'none']), z.string().regex(/^container:[^\s:]+$/, 'network_mode is bridge, host, none or container:NAME')]).optional(),
  /** Its address on its first network (`docker run --ip`): user-defined networks only, as in Docker. */
  ip: z.string().optional(),
  /** The image it was started from: recorded and shown, never pulled. */
  image: z.string().optional(),
  /** A command it runs inside its namespace (as `docker run IMAGE CMD...`). */
  command: z.array(z.string()).optional(),
  publish: z.array(z.string()).optional(),
  /** The node playing the machine this container runs on; "host" unless given. */
  host: z.string().optional(),
});

/** A Kubernetes Service (type ClusterIP, or NodePort with nodePort), rendered as kube-proxy's iptables rules. */
export const rawService = z.strictObject({
  clusterIP: z.string(),
  port,
  /** The pods' port; the service's port unless given. */
  targetPort: port.optional(),
  protocol: z.enum(['tcp', 'udp']).optional(),
  nodePort: port.optional(),
  /** The selected pods: nodes (or containers) of the lab. */
  pods: z.array(z.string()).optional(),
  /** The nodes kube-proxy runs on; by default the nodes the pods are plugged into. */
  nodes: z.array(z.string()).optional(),
});

/** The whole file. */
export const rawTopology = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  try: z.array(z.string()).optional(),
  nodes: z.record(z.string(), rawNode.nullable()).optional(),
  links: z.array(z.tuple([z.string(), z.string()])).optional(),
  networks: z.record(z.string(), rawNetwork).optional(),
  containers: z.record(z.string(), rawContainer.nullable()).optional(),
  services: z.record(z.string(), rawService).optional(),
});

/** The file's types, as the schemas infer them. */
export type RawTopology = z.infer<typeof rawTopology>;
export type RawNode = z.infer<typeof rawNode>;
export type RawInterface = z.infer<typeof rawInterface>;
export type RawFirewallRule = z.infer<typeof rawFirewallRule>;
export type RawNetwork = z.infer<typeof rawNetwork>;
export type RawContainer = z.infer<typeof rawContainer>;
export type RawService = z.infer<typeof rawService>;
