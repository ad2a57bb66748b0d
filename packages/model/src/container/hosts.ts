/** Each container host's side of its networks: the bridges with their gateways, forwarding, and Docker's firewall. */
import type { ChainPolicy } from '../policy';
import type { Expansion } from './expansion';
import type { HostNetwork, PublishedPort } from './docker-rules';
import { DOCKER_POLICIES, dockerRules, overlayBridgeRule } from './docker-rules';
import { DEFAULT_HOST } from './layer';
import { GWBRIDGE, bridgeName } from './devices';

/** A bridge network no container has joined yet still has its bridge on the default host, as `docker network create` makes it. */
export function placeUnjoinedBridges(x: Expansion): void {
  for (const [network, info] of Object.entries(x.layer.networks)) {
    if (info.driver === 'bridge' && network !== GWBRIDGE && Object.keys(info.bridges).length === 0 && x.topology.nodes[DEFAULT_HOST]) info.bridges[DEFAULT_HOST] = bridgeName(network);
  }
}

/** Bridges and gateways per network and host; then each host's firewall (with `published`, its ports per host), as Docker lays it out. */
export function buildHosts(x: Expansion, published: ReadonlyMap<string, PublishedPort[]>): void {
  const hostNetworks = new Map<string, HostNetwork[]>();
  const overlayBridges = new Map<string, string[]>();
  for (const [network, info] of Object.entries(x.layer.networks)) {
    const subnet = x.subnets.get(network);
    if (!subnet) continue;
    for (const [host, bridge] of Object.entries(info.bridges)) {
      const ns = x.nodeOf(host);
      const prefix = subnet.prefix;
      ns.interfaces[bridge] = { kind: 'bridge', up: true, addresses: info.gateway ? [`${info.gateway}/${prefix}`] : [] };
      if (info.driver !== 'bridge') {
        overlayBridges.set(host, [...(overlayBridges.get(host) ?? []), bridge]);
        continue;
      }
      if (!info.internal) ns.forwarding = true;
      const list = hostNetworks.get(host) ?? [];
      list.push({ bridge, subnet: info.subnet, internal: info.internal, icc: network !== GWBRIDGE });
      hostNetworks.set(host, list);
    }
  }
  for (const [host, list] of hostNetworks) {
    const ns = x.nodeOf(host);
    ns.nat.push(...dockerRules(list, published.get(host) ?? []));
    // Docker keeps an overlay's bridge in a namespace of its own, out of reach of the host's FORWARD chain; nslab
    // puts it in the host's, where bridged overlay frames cross FORWARD (br_netfilter): one ACCEPT per overlay
    // bridge lets them through under the DROP policy below, as they pass in Docker.
    ns.nat.push(...(overlayBridges.get(host) ?? []).map(overlayBridgeRule));
    ns.policies = Object.assign(Object.create(null) as Record<string, ChainPolicy>, ns.policies, DOCKER_POLICIES);
  }
}
