/**
 * Docker networks: each network of the file checked and described (subnet, gateway,
 * driver, VNI), docker_gwbridge added for overlay containers' way out, and the address
 * pools containers draw from (a bridge network's per host, an overlay's shared).
 */
import type { Cidr } from '../address';
import { formatCidr, formatIp, parseCidr, networkOf } from '../address';
import { pathOf } from '../problem';
import type { RawContainer, RawNetwork } from '../schema';
import { own } from '../names';
import { Ipam } from './ipam';
import type { Expansion } from './expansion';
import type { ContainerLayer, NetworkInfo } from './layer';
import { GWBRIDGE, bridgeName } from './devices';

/** docker_gwbridge's subnet when the file does not define the network: the next /16 after docker0's, as Docker's IPAM picks it. */
const GWBRIDGE_SUBNET = '172.18.0.0/16';

/** First VNI Docker's overlay driver hands out (libnetwork's vxlanIDStart). */
export const FIRST_VNI = 4096;

/** Describes the file's networks in `x.layer.networks` and their subnets in `x.subnets`, recording what is wrong with them. */
export function expandNetworks(x: Expansion, networks: Record<string, RawNetwork>): void {
  const { layer, subnets, fail } = x;
  for (const [name, net] of Object.entries(networks)) {
    const path = (k: string) => pathOf('networks', name, k);
    const subnet = parseCidr(net.subnet);
    if (!subnet || subnet.family !== 4) { fail(path('subnet'), `subnet "${net.subnet}" is not an IPv4 prefix like 172.17.0.0/16`); continue; }
    if (networkOf(subnet).value !== subnet.value) fail(path('subnet'), `subnet "${net.subnet}" has host bits set: write ${formatCidr(networkOf(subnet))}`);
    if (subnet.prefix > 30) { fail(path('subnet'), `subnet ${net.subnet} is too small for a gateway and containers: use /30 or larger`); continue; }
    if (name !== GWBRIDGE && bridgeName(name) !== (name === 'bridge' ? 'docker0' : `br-${name}`)) fail(pathOf('networks', name), `network name "${name}" is too long for its bridge br-${name} (15 bytes): use at most 12 characters`);
    for (const [other, cidr] of subnets) {
      const shorter = Math.min(subnet.prefix, cidr.prefix);
      if (networkOf({ ...subnet, prefix: shorter }).value === networkOf({ ...cidr, prefix: shorter }).value) {
        fail(path('subnet'), `subnet ${net.subnet} overlaps network ${other} (${formatCidr(cidr)}): Docker refuses overlapping subnets`);
      }
    }
    subnets.set(name, networkOf(subnet));
    const driver = net.driver ?? 'bridge';
    const info: NetworkInfo = { driver, subnet: formatCidr(networkOf(subnet)), internal: net.internal ?? false, bridges: {} };
    if (driver === 'bridge') {
      const gw = net.gateway ?? formatIp({ family: 4, value: networkOf(subnet).value + 1n });
      if (!new Ipam(networkOf(subnet)).claimText(gw)) fail(path('gateway'), `gateway "${gw}" is not a host address inside ${net.subnet}`);
      else info.gateway = gw;
    }
    if (driver === 'overlay') info.vni = net.vni ?? FIRST_VNI + Object.keys(layer.networks).length;
    if (info.vni !== undefined && (info.vni < 1 || info.vni > 0xffffff)) fail(path('vni'), `vni must be from 1 to 16777215`);
    layer.networks[name] = info;
  }

  // Overlay containers get a second endpoint on docker_gwbridge, a bridge network on their host, for the way out.
  if (Object.values(layer.networks).some((n) => n.driver === 'overlay') && !layer.networks[GWBRIDGE]) {
    const subnet = parseCidr(GWBRIDGE_SUBNET);
    if (subnet) {
      subnets.set(GWBRIDGE, subnet);
      layer.networks[GWBRIDGE] = { driver: 'bridge', subnet: GWBRIDGE_SUBNET, gateway: formatIp({ family: 4, value: subnet.value + 1n }), internal: false, bridges: {} };
    }
  }
}

/** The networks a container joins, in interface order: eth0, eth1, ... (an overlay container joins docker_gwbridge last). */
export function joinedOf(layer: ContainerLayer, c: RawContainer): string[] {
  const list = c.networks ?? ['bridge'];
  return list.some((n) => layer.networks[n]?.driver === 'overlay') && !list.includes(GWBRIDGE) ? [...list, GWBRIDGE] : list;
}

/** Address allocators per (network, host), each seeded with its network's gateway. */
export class AddressPools {
  private readonly pools = new Map<string, Ipam>();

  constructor(private readonly layer: ContainerLayer, private readonly subnets: ReadonlyMap<string, Cidr>) {}

  /** The pool a container on `host` draws from on `network`; undefined for a network that is not defined. */
  of(network: string, host: string): Ipam | undefined {
    const info = own(this.layer.networks, network);
    // A bridge network is local to each host (every host has its own docker0); an overlay spans hosts.
    const key = info?.driver === 'overlay' ? network : `${network}@${host}`;
    let pool = this.pools.get(key);
    const subnet = this.subnets.get(network);
    if (!pool && info && subnet) {
      pool = new Ipam(subnet);
      // The gateway address is reserved even on an overlay (Docker's IPAM does the same), so containers start at .2.
      pool.claimText(info.gateway ?? formatIp({ family: 4, value: subnet.value + 1n }));
      this.pools.set(key, pool);
    }
    return pool;
  }
}
