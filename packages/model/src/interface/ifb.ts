/** ifb: the intermediate functional block, where redirected ingress traffic is shaped. */
import type { DeviceType } from './device-type';

/** The ifb device type. */
export const ifb: DeviceType = {
  type: 'ifb',
  about: 'an ifb: a device that traffic is redirected to so that a qdisc can shape what arrives',
  parent: false,
  create: (name) => ['link', 'add', 'name', name, 'type', 'ifb'],
};
