/**
 * Docker's iptables layout on one host, rule for rule, as Docker Engine 24/25 with
 * iptables (libnetwork's bridge driver, userland proxy on, no IPv6) writes it:
 *
 * - nat:    PREROUTING and OUTPUT jump to DOCKER only for the host's own addresses
 *           (`-m addrtype --dst-type LOCAL`, and `! -d 127.0.0.0/8` on OUTPUT, where
 *           docker-proxy serves loopback); DOCKER returns what comes from a bridge and
 *           DNATs published ports; POSTROUTING masquerades each non-internal subnet
 *           and the hairpin of a container reaching its own published port.
 * - filter: FORWARD jumps to DOCKER-USER, then DOCKER-ISOLATION-STAGE-1 (traffic
 *           leaving a bridge for another interface goes to STAGE-2, which drops it
 *           if it enters another bridge), then per bridge: replies accepted, new
 *           connections to a container through DOCKER (published ports only), and
 *           everything leaving the bridge accepted. An internal network drops all
 *           that leaves or enters it from outside its subnet, and has no NAT.
 *           FORWARD's policy is DROP (DOCKER_POLICIES).
 *
 * Docker inserts most rules at the top of their chain (`iptables -I`), so the later a
 * network is created, the higher its rules. The rules come out here in the order
 * that produces that layout from an empty firewall and keeps it when a network or a
 * container is added later: per-network FORWARD rules go in at position 3, below the
 * two jumps, as Docker's re-inserted jumps leave them.
 */
import type { OtherRule } from '../nat';
import type { ChainPolicy } from '../policy';

/** Docker's chains (libnetwork: DockerChain, IsolationChain1/2, UserChain). */
export const DOCKER_CHAIN = 'DOCKER';
export const ISOLATION_1 = 'DOCKER-ISOLATION-STAGE-1';
export const ISOLATION_2 = 'DOCKER-ISOLATION-STAGE-2';
export const USER_CHAIN = 'DOCKER-USER';

/**
 * The policies Docker sets on a host with a bridge network: FORWARD DROP, which the daemon
 * sets (since 1.13, still in 24) when it turns IP forwarding on, so that only what its
 * ACCEPT rules let through is forwarded.
 */
export const DOCKER_POLICIES: Readonly<Record<string, ChainPolicy>> = { 'filter/FORWARD': 'DROP' };

/** One bridge network as present on a host, in the order the networks were created. */
export interface HostNetwork { bridge: string; subnet: string; internal: boolean; icc: boolean }

/** One published port: HOSTPORT on the host to ADDRESS:PORT of a container behind `bridge`. */
export interface PublishedPort { proto: 'tcp' | 'udp'; hostPort: number; address: string; port: number; bridge: string }

/** The first position below FORWARD's jumps to DOCKER-USER and DOCKER-ISOLATION-STAGE-1. */
const BELOW_JUMPS = 3;

function rule(table: 'nat' | 'filter', chain: string, args: string[], insert?: number): OtherRule {
  return insert ? { type: 'other', table, chain, args, insert } : { type: 'other', table, chain, args };
}

/**
 * What lets an overlay's bridged frames through the host's FORWARD chain: nslab keeps the overlay
 * bridge in the host's namespace, where Docker has it in a namespace of its own that the host's
 * DROP policy never sees (expand.ts).
 */
export function overlayBridgeRule(bridge: string): OtherRule {
  return rule('filter', 'FORWARD', ['-i', bridge, '-o', bridge, '-j', 'ACCEPT'], BELOW_JUMPS);
}

/** The host's Docker rules, in the order they are to be added. Empty when the host has no bridge network. */
export function dockerRules(networks: HostNetwork[], published: PublishedPort[]): OtherRule[] {
  if (networks.length === 0) return [];
  const out: OtherRule[] = [];
  if (networks.some((n) => !n.internal)) {
    out.push(
      rule('nat', 'PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', DOCKER_CHAIN]),
      rule('nat', 'OUTPUT', ['!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', DOCKER_CHAIN]),
    );
  }
  out.push(
    rule('filter', 'FORWARD', ['-j', USER_CHAIN]),
    rule('filter', 'FORWARD', ['-j', ISOLATION_1]),
    rule('filter', USER_CHAIN, ['-j', 'RETURN']),
    rule('filter', ISOLATION_1, ['-j', 'RETURN']),
    rule('filter', ISOLATION_2, ['-j', 'RETURN']),
  );
  for (const n of networks) {
    const br = n.bridge;
    const icc = rule('filter', 'FORWARD', ['-i', br, '-o', br, '-j', n.icc ? 'ACCEPT' : 'DROP'], BELOW_JUMPS);
    if (n.internal) {
      // setupInternalNetworkRules: in-drop, then out-drop, each inserted at the top; then ICC.
      out.push(
        rule('filter', ISOLATION_1, ['!', '-d', n.subnet, '-i', br, '-j', 'DROP'], 1),
        rule('filter', ISOLATION_1, ['!', '-s', n.subnet, '-o', br, '-j', 'DROP'], 1),
        icc,
      );
      continue;
    }
    // setupIPTablesInternal (NAT, skip-DNAT, ICC, outgoing), ProgramChain (DOCKER link, conntrack), setINC.
    out.push(
      rule('nat', 'POSTROUTING', ['-s', n.subnet, '!', '-o', br, '-j', 'MASQUERADE'], 1),
      rule('nat', DOCKER_CHAIN, ['-i', br, '-j', 'RETURN'], 1),
      icc,
      rule('filter', 'FORWARD', ['-i', br, '!', '-o', br, '-j', 'ACCEPT'], BELOW_JUMPS),
      rule('filter', 'FORWARD', ['-o', br, '-j', DOCKER_CHAIN], BELOW_JUMPS),
      rule('filter', 'FORWARD', ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'], BELOW_JUMPS),
      rule('filter', ISOLATION_1, ['-i', br, '!', '-o', br, '-j', ISOLATION_2], 1),
      rule('filter', ISOLATION_2, ['-o', br, '-j', 'DROP'], 1),
    );
  }
  for (const p of published) {
    const dport = ['-p', p.proto, '-m', p.proto, '--dport'];
    out.push(
      rule('nat', 'POSTROUTING', ['-s', `${p.address}/32`, '-d', `${p.address}/32`, ...dport, String(p.port), '-j', 'MASQUERADE']),
      rule('nat', DOCKER_CHAIN, ['!', '-i', p.bridge, ...dport, String(p.hostPort), '-j', 'DNAT', '--to-destination', `${p.address}:${p.port}`]),
      rule('filter', DOCKER_CHAIN, ['-d', `${p.address}/32`, '!', '-i', p.bridge, '-o', p.bridge, ...dport, String(p.port), '-j', 'ACCEPT']),
    );
  }
  return out;
}
