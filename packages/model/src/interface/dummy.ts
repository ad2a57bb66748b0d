/** dummy: a device that drops what it is sent; holds an address that is always up. */
import type { KindSpec } from './kind';

/** The dummy kind (some kernels, this one included, lack the module: see capabilities). */
export const dummy: KindSpec = {
  kind: 'dummy',
  infoKind: 'dummy',
  about: 'a dummy device: a place to put an address, with no wire behind it',
  create: (name) => ['link', 'add', 'name', name, 'type', 'dummy'],
};
