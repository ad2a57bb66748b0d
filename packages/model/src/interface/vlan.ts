/** vlan: an 802.1Q tagged sub-interface of a parent device; some kernels, this one included, lack the module. */
import type { DeviceType } from './device-type';

/** The vlan device type. */
export const vlan: DeviceType = {
  type: 'vlan',
  about: 'a VLAN sub-interface: frames on the parent tagged with its id (802.1Q)',
  parent: true,
  id: true,
  create: (name, iface) => ['link', 'add', 'link', iface.parent ?? '', 'name', name, 'type', 'vlan', 'id', String(iface.id ?? 0)],
};
