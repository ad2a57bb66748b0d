/** Overlay networks (`driver: overlay`): a VXLAN device per host, enslaved to the network's bridge, pointed at the other hosts. */
import { parseCidr } from '../address';
import { pathOf } from '../problem';
import type { RawNetwork } from '../schema';
import type { Interface, Namespace } from '../topology';
import { VXLAN_PORT } from '../interface/index';
import { own } from '../names';
import type { Expansion } from './expansion';
import { bridgeName, vxlanName } from './devices';
import { FIRST_VNI } from './networks';

/** VXLAN adds 50 bytes of headers (outer Ethernet, IP, UDP, VXLAN), so overlay endpoints use 1500 - 50, as Docker does. */
export const OVERLAY_MTU = 1450;

/** The address a host uses on the underlay: its first address on an interface that is not a bridge port or bridge. */
function underlayOf(ns: Namespace, dev: string | undefined): { dev: string; address: string } | undefined {
  for (const [name, iface] of Object.entries(ns.interfaces)) {
    if (dev !== undefined && name !== dev) continue;
    if (iface.kind === 'bridge' || iface.kind === 'vxlan' || iface.master) continue;
    const v4 = iface.addresses.find((a) => parseCidr(a)?.family === 4);
    if (v4) return { dev: name, address: v4.slice(0, v4.indexOf('/')) };
  }
  return undefined;
}

/** Adds each overlay's VXLAN device to the hosts its containers run on (`overlayHosts`: network -> hosts). */
export function expandOverlays(x: Expansion, networks: Record<string, RawNetwork>, overlayHosts: ReadonlyMap<string, ReadonlySet<string>>): void {
  for (const [network, hosts] of overlayHosts) {
    const info = own(x.layer.networks, network);
    if (!info) continue;
    const spec = own(networks, network);
    const underlays = new Map<string, { dev: string; address: string }>();
    for (const host of hosts) {
      const u = underlayOf(x.nodeOf(host), spec?.dev);
      if (!u) x.fail(pathOf('networks', network), `host ${host} has no underlay address for overlay ${network}: give it an interface with an IPv4 address linked to the other hosts${spec?.dev ? ` (named ${spec.dev})` : ''}`);
      else underlays.set(host, u);
    }
    const list = [...underlays];
    for (const [host, u] of list) {
      const others = list.filter(([h]) => h !== host);
      const ns = x.nodeOf(host);
      const vx: Interface = { kind: 'vxlan', up: true, addresses: [], master: bridgeName(network), vxlan: { vni: info.vni ?? FIRST_VNI, port: VXLAN_PORT, dev: u.dev, local: u.address } };
      // Two hosts: point-to-point. More: a multicast group on the underlay, which the underlay bridge floods.
      if (others.length === 1 && vx.vxlan) vx.vxlan.remote = others[0]?.[1].address;
      else if (vx.vxlan) vx.vxlan.group = `239.1.${((info.vni ?? 0) >> 8) & 255}.${(info.vni ?? 0) & 255}`;
      ns.interfaces[vxlanName(network)] = vx;
    }
  }
}
