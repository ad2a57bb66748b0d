/** The table of interface kinds: every kind-specific rule is looked up here. */
import type { InterfaceKind } from '../topology';
import type { KindSpec } from './kind';
import { veth } from './veth';
import { bridge } from './bridge';
import { vxlan } from './vxlan';
import { dummy } from './dummy';
import { loopback } from './loopback';
import { other } from './other';

export type { KindSpec } from './kind';
export type { DeviceType } from './device-type';
export { buildableType, DEVICE_TYPES } from './other';
export { VXLAN_PORT } from './vxlan';

/** Every kind, by name. */
export const KINDS: Record<InterfaceKind, KindSpec> = { veth, bridge, vxlan, dummy, loopback, other };

/** The model kind of a device from `ip -j -d link`'s info_kind and link_type. */
export function kindFromKernel(infoKind: string | undefined, linkType: string | undefined): InterfaceKind {
  if (linkType === 'loopback') return 'loopback';
  for (const spec of Object.values(KINDS)) if (spec.infoKind !== undefined && spec.infoKind === infoKind) return spec.kind;
  return 'other';
}
