/**
 * Kubernetes Services as kube-proxy builds them in iptables mode (the layout of
 * kube-proxy 1.26+, nat table), on every node that runs pods of the lab:
 *
 *   PREROUTING/OUTPUT -> KUBE-SERVICES: one rule per service port (its ClusterIP and
 *   port) -> KUBE-SVC-<hash>: one rule per endpoint, each taken with probability
 *   1/(endpoints left) (`-m statistic --mode random`), the last unconditionally ->
 *   KUBE-SEP-<hash>: mark hairpin traffic for SNAT, then DNAT to POD-IP:TARGET-PORT.
 *   The last rule of KUBE-SERVICES sends traffic for the node's own addresses to
 *   KUBE-NODEPORTS -> KUBE-EXT-<hash> (mark for SNAT, then the service chain).
 *   POSTROUTING -> KUBE-POSTROUTING masquerades what KUBE-MARK-MASQ marked (0x4000).
 *
 * Chain names: kube-proxy hashes "namespace/name:port" and the protocol with SHA-256
 * and keeps 16 base32 characters; nslab keeps the form with its own short hash, and
 * the service chain's hash also covers the endpoints, so a change of endpoints builds
 * a new chain in order rather than appending to an old one (the old one stays, empty).
 * There is no `--cluster-cidr`, so kube-proxy's `! -s CLUSTER-CIDR ... -j KUBE-MARK-MASQ`
 * rule is not written (kube-proxy omits it in that configuration too).
 */
import { parseIp } from '../address';
import type { OtherRule } from '../nat';
import type { Problem } from '../problem';
import { pathOf } from '../problem';
import type { RawService } from '../schema';
import type { Topology } from '../topology';
import { linkOf } from '../topology';

/** The bit KUBE-MARK-MASQ sets (kube-proxy's --iptables-masquerade-bit 14). */
const MASQ_MARK = '0x4000/0x4000';

/** Kubernetes' namespace for services a lab defines. */
const K8S_NAMESPACE = 'default';

/** The NodePort range kube-apiserver accepts by default. */
const NODE_PORTS = [30000, 32767] as const;

/** What the container view and export know of a service. */
export interface ServiceInfo { clusterIP: string; port: number; targetPort: number; protocol: 'tcp' | 'udp'; nodePort?: number; endpoints: { pod: string; address: string }[]; nodes: string[] }

/** 16 base32 characters from a name, standing in for kube-proxy's SHA-256-based chain suffix. */
function chainHash(text: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  for (let seed = 0; out.length < 16; seed += 1) {
    let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < text.length; i += 1) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    for (let k = 0; k < 6 && out.length < 16; k += 1) { out += alphabet[h & 31]; h >>>= 5; }
  }
  return out;
}

function rule(chain: string, args: string[], insert?: number): OtherRule {
  return insert ? { type: 'other', table: 'nat', chain, args, insert } : { type: 'other', table: 'nat', chain, args };
}

/** The pod's address: the first IPv4 address of its first interface that has one. */
function podAddress(topology: Topology, pod: string): string | undefined {
  for (const iface of Object.values(topology.nodes[pod]?.interfaces ?? {})) {
    const v4 = iface.kind !== 'loopback' ? iface.addresses.find((a) => parseIp(a.split('/')[0] ?? '')?.family === 4) : undefined;
    if (v4) return v4.split('/')[0];
  }
  return undefined;
}

/** Adds kube-proxy's rules for `services` to every node that hosts their pods (or the nodes each service names). */
export function expandServices(topology: Topology, services: Record<string, RawService>, problems: Problem[]): Record<string, ServiceInfo> {
  const out: Record<string, ServiceInfo> = {};
  const fail = (path: string, message: string) => problems.push({ path, message });
  const perNode = new Map<string, OtherRule[]>();
  const nodes = new Set<string>();
  const taken = new Map<string, string>();
  for (const [name, svc] of Object.entries(services)) {
    const path = (k: string) => pathOf('services', name, k);
    const protocol = svc.protocol ?? 'tcp';
    const ip = parseIp(svc.clusterIP);
    if (!ip || ip.family !== 4) { fail(path('clusterIP'), `clusterIP "${svc.clusterIP}" is not an IPv4 address like 10.96.0.10`); continue; }
    const targetPort = svc.targetPort ?? svc.port;
    for (const [k, v] of [['port', svc.port], ['targetPort', targetPort]] as const) if (v < 1 || v > 65535) fail(path(k), `${k} ${v} is outside 1-65535`);
    if (svc.nodePort !== undefined && (svc.nodePort < NODE_PORTS[0] || svc.nodePort > NODE_PORTS[1])) fail(path('nodePort'), `nodePort ${svc.nodePort} is outside the NodePort range ${NODE_PORTS[0]}-${NODE_PORTS[1]}`);
    const key = `${svc.clusterIP}:${svc.port}/${protocol}`;
    if (taken.has(key)) fail(path('clusterIP'), `${key} is already service ${taken.get(key) ?? ''}'s`);
    taken.set(key, name);
    const endpoints: ServiceInfo['endpoints'] = [];
    (svc.pods ?? []).forEach((pod, i) => {
      const address = topology.nodes[pod] ? podAddress(topology, pod) : undefined;
      if (!topology.nodes[pod]) fail(pathOf('services', name, 'pods', i), `pod "${pod}" is not a node or container of this lab`);
      else if (!address) fail(pathOf('services', name, 'pods', i), `pod ${pod} has no IPv4 address to send the service's traffic to`);
      else endpoints.push({ pod, address });
    });
    // kube-proxy runs on every node: by default the nodes the pods are plugged into.
    const hostsOf = svc.nodes ?? [...new Set(endpoints.flatMap(({ pod }) => Object.keys(topology.nodes[pod]?.interfaces ?? {}).map((i) => linkOf(topology, pod, i)?.peer.node).filter((n): n is string => n !== undefined)))];
    hostsOf.forEach((n, i) => { if (!topology.nodes[n]) fail(pathOf('services', name, 'nodes', i), `node "${n}" is not a node of this lab`); else nodes.add(n); });
    const info: ServiceInfo = { clusterIP: svc.clusterIP, port: svc.port, targetPort, protocol, endpoints, nodes: hostsOf };
    if (svc.nodePort !== undefined) info.nodePort = svc.nodePort;
    out[name] = info;

    const portName = `${K8S_NAMESPACE}/${name}`;
    const svcChain = `KUBE-SVC-${chainHash(`${portName}:${protocol}:${endpoints.map((e) => e.address).join(',')}`)}`;
    const extChain = `KUBE-EXT-${chainHash(`${portName}:${protocol}:ext`)}`;
    const p = ['-p', protocol];
    const rules: OtherRule[] = [
      rule('KUBE-SERVICES', ['-d', `${svc.clusterIP}/32`, ...p, '-m', 'comment', '--comment', `${portName} cluster IP`, '-m', protocol, '--dport', String(svc.port), '-j', svcChain], 1),
    ];
    endpoints.forEach((e, i) => {
      const sep = `KUBE-SEP-${chainHash(`${portName}:${protocol}:${e.address}:${targetPort}`)}`;
      const left = endpoints.length - i;
      const pick = left > 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', (1 / left).toFixed(11)] : [];
      rules.push(rule(svcChain, ['-m', 'comment', '--comment', `${portName} -> ${e.address}:${targetPort}`, ...pick, '-j', sep]));
      rules.push(
        rule(sep, ['-s', `${e.address}/32`, '-m', 'comment', '--comment', portName, '-j', 'KUBE-MARK-MASQ']),
        rule(sep, [...p, '-m', 'comment', '--comment', portName, '-m', protocol, '-j', 'DNAT', '--to-destination', `${e.address}:${targetPort}`]),
      );
    });
    if (svc.nodePort !== undefined) {
      rules.push(
        rule('KUBE-NODEPORTS', [...p, '-m', 'comment', '--comment', portName, '-m', protocol, '--dport', String(svc.nodePort), '-j', extChain]),
        rule(extChain, ['-m', 'comment', '--comment', `masquerade traffic for ${portName} external destinations`, '-j', 'KUBE-MARK-MASQ']),
        rule(extChain, ['-j', svcChain]),
      );
    }
    for (const n of hostsOf) perNode.set(n, [...(perNode.get(n) ?? []), ...rules]);
  }
  for (const n of nodes) {
    const node = topology.nodes[n];
    if (!node) continue;
    node.forwarding = true;
    node.nat.push(
      rule('PREROUTING', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']),
      rule('OUTPUT', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']),
      rule('POSTROUTING', ['-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING']),
      rule('KUBE-MARK-MASQ', ['-j', 'MARK', '--set-xmark', MASQ_MARK]),
      rule('KUBE-POSTROUTING', ['-m', 'mark', '!', '--mark', MASQ_MARK, '-j', 'RETURN']),
      rule('KUBE-POSTROUTING', ['-j', 'MARK', '--set-xmark', '0x4000/0x0']),
      rule('KUBE-POSTROUTING', ['-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE', '--random-fully']),
      rule('KUBE-SERVICES', ['-m', 'comment', '--comment', 'kubernetes service nodeports; NOTE: this must be the last rule in this chain', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'KUBE-NODEPORTS']),
      ...(perNode.get(n) ?? []),
    );
  }
  return out;
}
