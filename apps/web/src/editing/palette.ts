/**
 * The palette: the things a user can drag onto the canvas, and the edits each one
 * becomes. A bridge lives inside a namespace: dropped on one it goes inside it,
 * dropped on empty canvas it comes with a new "host" namespace around it, as in
 * the tutorials where the host holds docker0.
 */
import type { Edit, Topology } from '@nslab/model';
import { freshBridgeName, freshNodeName } from './naming';

/** The kinds of palette item. */
export type PaletteKind = 'namespace' | 'bridge' | 'router' | 'internet';

/** One palette item: its title (also the start of its accessible name) and a line of help. */
export interface PaletteItem {
  kind: PaletteKind;
  title: string;
  hint: string;
}

/** The palette, in the order it is shown. */
export const PALETTE: readonly PaletteItem[] = [
  { kind: 'namespace', title: 'Namespace', hint: 'a network namespace, like a container' },
  { kind: 'bridge', title: 'Bridge', hint: 'a switch inside a namespace, like docker0' },
  { kind: 'router', title: 'Router', hint: 'a namespace with IP forwarding on' },
  { kind: 'internet', title: 'Internet', hint: 'a namespace playing the outside world' },
];

/** The MIME type a palette drag carries. */
export const PALETTE_MIME = 'application/x-nslab-palette';

/** What adding a palette item does: its edits, a label, and the node it creates or changes. */
export interface PaletteAction {
  edits: Edit[];
  label: string;
  node: string;
  /** True when `node` is new (so it needs a position). */
  created: boolean;
}

/** The edits of a palette item, dropped on empty canvas or (for a bridge) on the namespace `into`. */
export function paletteAction(topology: Topology | undefined, kind: PaletteKind, into?: string): PaletteAction {
  switch (kind) {
    case 'namespace': {
      const node = freshNodeName(topology, 'ns');
      return { edits: [{ kind: 'node.add', node }], label: `add namespace ${node}`, node, created: true };
    }
    case 'router': {
      const node = freshNodeName(topology, 'router', true);
      return { edits: [{ kind: 'node.add', node, forwarding: true }], label: node === 'router' ? 'add a router' : `add router ${node}`, node, created: true };
    }
    case 'internet': {
      const node = freshNodeName(topology, 'internet', true);
      return { edits: [{ kind: 'node.add', node }], label: node === 'internet' ? 'add the internet' : `add internet ${node}`, node, created: true };
    }
    case 'bridge': {
      const target = into ? topology?.nodes[into] : undefined;
      if (into && target) {
        const name = freshBridgeName(target);
        return { edits: [{ kind: 'interface.add', node: into, name, interface: { kind: 'bridge' } }], label: `add bridge ${name} to ${into}`, node: into, created: false };
      }
      const node = freshNodeName(topology, 'host', true);
      return {
        edits: [{ kind: 'node.add', node }, { kind: 'interface.add', node, name: 'br0', interface: { kind: 'bridge' } }],
        label: `add bridge br0 in a new namespace ${node}`,
        node,
        created: true,
      };
    }
    default: {
      const never: never = kind;
      throw new Error(`unexpected palette kind ${String(never)}`);
    }
  }
}
