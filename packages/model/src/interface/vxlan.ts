/** vxlan: an overlay device that wraps Ethernet frames in UDP (port 4789) to a remote VTEP. */
import type { Interface } from '../topology';
import type { KindSpec } from './kind';

/** The IANA-assigned VXLAN UDP port (RFC 7348); Linux's default of 8472 predates it. */
export const VXLAN_PORT = 4789;

function params(iface: Interface): string {
  const v = iface.vxlan;
  return v ? `${v.vni}|${v.remote ?? ''}|${v.group ?? ''}|${v.local ?? ''}|${v.dev ?? ''}|${v.port}` : '';
}

/** The vxlan kind. */
export const vxlan: KindSpec = {
  kind: 'vxlan',
  infoKind: 'vxlan',
  about: 'a VXLAN tunnel endpoint: Ethernet frames wrapped in UDP and carried across an underlay network',
  create: (name, iface) => {
    const v = iface.vxlan;
    const args = ['link', 'add', 'name', name, 'type', 'vxlan', 'id', String(v?.vni ?? 0)];
    if (v?.remote) args.push('remote', v.remote);
    if (v?.group) args.push('group', v.group);
    if (v?.local) args.push('local', v.local);
    if (v?.dev) args.push('dev', v.dev);
    args.push('dstport', String(v?.port ?? VXLAN_PORT));
    return args;
  },
  differs: (desired, observed) => params(desired) !== params(observed),
};
