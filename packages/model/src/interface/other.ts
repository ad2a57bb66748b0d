/** other: any device kind nslab does not model (macvlan, tun, ...), shown but not created. */
import type { KindSpec } from './kind';

/** The catch-all kind for devices found in the kernel. */
export const other: KindSpec = {
  kind: 'other',
  infoKind: undefined,
  about: 'a device of a kind nslab does not build; it is shown as the kernel reports it',
};
