/** What nslab knows of one kind of network device; one file per kind registers one of these. */
import type { Interface, InterfaceKind } from '../topology';

/** One interface kind: how it is created and how the kernel names it. */
export interface KindSpec {
  kind: InterfaceKind;
  /** iproute2's `linkinfo.info_kind` for this kind, as `ip -j -d link` reports it. */
  infoKind: string | undefined;
  /** A sentence for learners: what this device is. */
  about: string;
  /**
   * The `ip link add` arguments (after `ip -n NS`) that create it alone in a namespace,
   * naming it with `name NAME` so that no name is ever read as a keyword;
   * undefined for kinds created another way (veth: by its link; loopback: by the kernel).
   */
  create?: (name: string, iface: Interface) => string[];
  /** True when the observed device must be recreated to match the desired one. */
  differs?: (desired: Interface, observed: Interface) => boolean;
}
