/**
 * Names the canvas makes up: new nodes ("ns3", "router", "host2") and the interfaces
 * of a new link ("eth0" on a plain namespace, "veth-ns1" on the bridge side, as the
 * tutorials name them). Every name is one the model's rules accept.
 */
import { IFNAME_MAX_BYTES } from '@nslab/model';
import type { Namespace, Topology } from '@nslab/model';

/** The first of `base1`, `base2`, ... (or `base` itself when `bare`) that is not a node of the lab. */
export function freshNodeName(topology: Topology | undefined, base: string, bare = false): string {
  const taken = new Set(Object.keys(topology?.nodes ?? {}));
  if (bare && !taken.has(base)) return base;
  for (let i = bare ? 2 : 1; ; i += 1) {
    const name = `${base}${i}`;
    if (!taken.has(name)) return name;
  }
}

/** The first of lab1, lab2, ... not in `taken`: the name of a new lab when the server has none. */
export function freshLabName(taken: readonly string[]): string {
  const set = new Set(taken);
  for (let i = 1; ; i += 1) if (!set.has(`lab${i}`)) return `lab${i}`;
}

/** The first `ethN` the namespace does not have, skipping `reserved` (names already picked for the same edit). */
export function freshEthName(ns: Namespace | undefined, reserved: readonly string[] = []): string {
  const taken = new Set([...Object.keys(ns?.interfaces ?? {}), ...reserved]);
  for (let i = 0; ; i += 1) if (!taken.has(`eth${i}`)) return `eth${i}`;
}

/** The first `brN` the namespace does not have. */
export function freshBridgeName(ns: Namespace | undefined): string {
  const taken = new Set(Object.keys(ns?.interfaces ?? {}));
  for (let i = 0; ; i += 1) if (!taken.has(`br${i}`)) return `br${i}`;
}

/**
 * The bridge-side name of a veth towards `peer`: `veth-<peer>`, cut to the kernel's
 * 15 bytes, with a number when the namespace already has it ("veth-ns1-2").
 */
export function bridgePortName(ns: Namespace | undefined, peer: string, reserved: readonly string[] = []): string {
  const taken = new Set([...Object.keys(ns?.interfaces ?? {}), ...reserved]);
  const base = `veth-${peer}`.slice(0, IFNAME_MAX_BYTES);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i += 1) {
    const suffix = `-${i}`;
    const name = `${base.slice(0, IFNAME_MAX_BYTES - suffix.length)}${suffix}`;
    if (!taken.has(name)) return name;
  }
}
