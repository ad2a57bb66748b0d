/** bridge: a virtual switch inside a namespace; other devices join it as ports (`master`). */
import type { KindSpec } from './kind';

/** The bridge kind. */
export const bridge: KindSpec = {
  kind: 'bridge',
  infoKind: 'bridge',
  about: 'a Linux bridge: a virtual switch that forwards frames between its ports by MAC address',
  create: (name) => ['link', 'add', 'name', name, 'type', 'bridge'],
};
