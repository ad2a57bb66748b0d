/**
 * The container layer: `networks` and `containers` in a topology file, expanded into
 * namespaces, veths, bridges, addresses, routes and NAT exactly as Docker's bridge
 * driver builds them (and VXLAN for `driver: overlay`). The expansion is plain model
 * data, so `nslab apply --dry-run` and the UI show every command it produces.
 *
 * One step per concern, in this order: networks (networks.ts), addresses containers
 * already have, containers and their published ports (containers.ts, publish.ts), the
 * hosts' bridges and firewall (hosts.ts), overlays' VXLAN devices (overlay.ts).
 */
import type { Problem } from '../problem';
import type { RawContainer, RawNetwork } from '../schema';
import type { Topology } from '../topology';
import { startExpansion } from './expansion';
import type { ContainerLayer } from './layer';
import { AddressPools, expandNetworks } from './networks';
import { keepAddresses, placeContainers, shareNamespaces } from './containers';
import { Publications } from './publish';
import { buildHosts, placeUnjoinedBridges } from './hosts';
import { expandOverlays } from './overlay';

/**
 * Expands the container layer into `topology` (which holds the file's own nodes and
 * links). `observed` is the lab as the kernel has it, so containers keep the
 * addresses they already have.
 */
export function expandContainers(
  topology: Topology,
  networks: Record<string, RawNetwork>,
  containers: Record<string, RawContainer | null>,
  observed: Topology | undefined,
  problems: Problem[],
): ContainerLayer {
  const layer: ContainerLayer = { networks: {}, containers: {}, spec: { networks, containers } };
  const x = startExpansion(topology, layer, problems);
  expandNetworks(x, networks);
  const pools = new AddressPools(layer, x.subnets);
  const specs = Object.entries(containers).map(([name, c]) => ({ name, c: c ?? {} }));
  const kept = keepAddresses(x, specs, pools, observed);
  const publications = new Publications();
  const { overlayHosts } = placeContainers(x, specs, pools, kept, publications);
  placeUnjoinedBridges(x);
  shareNamespaces(x);
  buildHosts(x, publications.byHost);
  expandOverlays(x, networks, overlayHosts);
  return layer;
}
