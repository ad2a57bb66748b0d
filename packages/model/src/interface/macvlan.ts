/** macvlan and macvtap: a second MAC address on a parent device, with its own frames. */
import type { DeviceType } from './device-type';

/** Modes as iproute2 names them (linux/if_link.h MACVLAN_MODE_*); the kernel's default first. */
const MACVLAN_MODES = ['vepa', 'private', 'bridge', 'passthru', 'source'] as const;

function macvlanLike(type: 'macvlan' | 'macvtap', about: string): DeviceType {
  return {
    type,
    about,
    parent: true,
    modes: MACVLAN_MODES,
    create: (name, iface) => ['link', 'add', 'link', iface.parent ?? '', 'name', name, 'type', type, ...(iface.mode ? ['mode', iface.mode] : [])],
  };
}

/** macvlan (Docker's macvlan network driver). */
export const macvlan = macvlanLike('macvlan', 'a macvlan: a device with its own MAC address on a parent device (Docker\'s macvlan driver)');
/** macvtap: a macvlan with a character device for a virtual machine. */
export const macvtap = macvlanLike('macvtap', 'a macvtap: a macvlan whose frames a program (a virtual machine) reads from /dev/tapN');
