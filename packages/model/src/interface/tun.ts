/** tun/tap: a device whose packets (tun) or frames (tap) a program reads and writes. */
import type { DeviceType } from './device-type';

/** The tun device type; `mode` is iproute2's tuntap mode (IFF_TUN or IFF_TAP). It is made persistent, as `ip tuntap add` makes it. */
export const tun: DeviceType = {
  type: 'tun',
  about: 'a tun (IP packets) or tap (Ethernet frames) device: a program on the other side reads and writes what it carries (VPNs, virtual machines)',
  parent: false,
  modes: ['tun', 'tap'],
  modeRequired: true,
  create: (name, iface) => ['tuntap', 'add', 'dev', name, 'mode', iface.mode ?? 'tun'],
};
