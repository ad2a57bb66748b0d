/** What nslab knows of one kernel device type it builds under `kind: other`; one file per type registers one. */
import type { Interface } from '../topology';

/** One device type (the kernel's `linkinfo.info_kind`): what it needs and how it is made. */
export interface DeviceType {
  /** The kernel's name for it, as `ip -d link` prints it and `ip link add ... type T` takes it. */
  type: string;
  /** A sentence for learners: what this device is. */
  about: string;
  /** True when it sits on another device of its namespace (`ip link add link PARENT ...`). */
  parent: boolean;
  /** The values `mode` takes, the first the kernel's default; undefined when the type has no mode. */
  modes?: readonly string[];
  /** True when `mode` must be given (tun/tap: `ip tuntap` needs it). */
  modeRequired?: boolean;
  /** True when it takes a VLAN `id` (0-4095). */
  id?: boolean;
  /** The `ip` arguments (after `ip -n NS`) that make it; the interface's fields were validated. */
  create: (name: string, iface: Interface) => string[];
}
