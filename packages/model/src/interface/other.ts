/**
 * other: a device of a kind the model has no kind for, named by the kernel's own word (`type`).
 * The types in DEVICE_TYPES are built (macvlan, tun...); any other is shown and kept, never built.
 */
import type { Interface } from '../topology';
import type { DeviceType } from './device-type';
import type { KindSpec } from './kind';
import { ipvlan } from './ipvlan';
import { ifb } from './ifb';
import { macvlan, macvtap } from './macvlan';
import { tun } from './tun';
import { vlan } from './vlan';

/** Every device type nslab builds under kind other, by the kernel's name (a null-prototype table). */
export const DEVICE_TYPES: Readonly<Record<string, DeviceType>> = Object.assign(Object.create(null) as Record<string, DeviceType>, {
  macvlan, macvtap, ipvlan, vlan, tun, ifb,
});

/** The device type an interface of kind other can be built as, or undefined when nslab only keeps it (no table entry, or a parent it cannot name). */
export function buildableType(iface: Interface): DeviceType | undefined {
  if (iface.kind !== 'other' || iface.type === undefined) return undefined;
  const spec = DEVICE_TYPES[iface.type];
  if (!spec || (spec.parent && iface.parent === undefined) || (spec.modeRequired && iface.mode === undefined)) return undefined;
  return spec;
}

/** The catch-all kind for devices found in the kernel. */
export const other: KindSpec = {
  kind: 'other',
  infoKind: undefined,
  about: 'a device of another kind, shown as the kernel reports it; macvlan, macvtap, ipvlan, vlan, tun/tap and ifb are built, others kept',
  create: (name, iface) => {
    const spec = buildableType(iface);
    if (!spec) throw new Error(`nslab cannot build a ${iface.type ?? 'device of unknown kind'} (${name})`);
    return spec.create(name, iface);
  },
  // What the topology states is compared; what it leaves out (a mode) is the kernel's choice.
  differs: (desired, observed) =>
    desired.type !== observed.type
    || (desired.parent !== undefined && desired.parent !== observed.parent)
    || (desired.mode !== undefined && desired.mode !== observed.mode)
    || (desired.id !== undefined && desired.id !== observed.id),
};
