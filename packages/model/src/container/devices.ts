/** The names of the devices Docker makes for its networks: bridges, host-side veths, VXLAN devices. */

/** The bridge network Docker gives overlay containers for their way out (NAT to the host's uplink). */
export const GWBRIDGE = 'docker_gwbridge';

/** A short stable hash (FNV-1a, 32 bits) in hex: Docker names host-side veths veth + 7 hex digits too. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0').slice(0, 7);
}

/** The host-side veth name of a container's endpoint on a network. */
export function hostVethName(container: string, network: string): string {
  return `veth${shortHash(`${container}/${network}`)}`;
}

/** The bridge that implements a network on a host: docker0 for "bridge", br-NAME otherwise (at most 15 bytes). */
export function bridgeName(network: string): string {
  if (network === GWBRIDGE) return GWBRIDGE;
  return network === 'bridge' ? 'docker0' : `br-${network}`.slice(0, 15);
}

/** The VXLAN device of an overlay network on each host. */
export function vxlanName(network: string): string {
  return `vx-${network}`.slice(0, 15);
}
