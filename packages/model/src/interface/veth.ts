/** veth: a pair of devices joined like a cable; nslab creates both ends at once from a link. */
import type { KindSpec } from './kind';

/** The veth kind. Created by `link.add` of a whole pair, never alone. */
export const veth: KindSpec = {
  kind: 'veth',
  infoKind: 'veth',
  about: 'one end of a veth pair: what goes in one end comes out of the other, like a cable between two namespaces',
};
