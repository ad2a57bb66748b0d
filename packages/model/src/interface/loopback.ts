/** loopback: `lo`, which the kernel creates in every namespace. */
import type { KindSpec } from './kind';

/** The loopback kind: never created or removed by nslab. */
export const loopback: KindSpec = {
  kind: 'loopback',
  infoKind: undefined,
  about: 'the loopback device lo: traffic to the namespace itself',
};
