/** ipvlan: devices that share their parent's MAC address (Docker's ipvlan driver); some kernels, this one included, lack the module. */
import type { DeviceType } from './device-type';

/** The ipvlan device type; modes as iproute2 names them (IPVLAN_MODE_*), the kernel's default first. */
export const ipvlan: DeviceType = {
  type: 'ipvlan',
  about: 'an ipvlan: a device sharing its parent\'s MAC address, told apart by IP address (Docker\'s ipvlan driver)',
  parent: true,
  modes: ['l2', 'l3', 'l3s'],
  create: (name, iface) => ['link', 'add', 'link', iface.parent ?? '', 'name', name, 'type', 'ipvlan', ...(iface.mode ? ['mode', iface.mode] : [])],
};
