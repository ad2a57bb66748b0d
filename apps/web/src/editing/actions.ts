/**
 * What the user's gestures mean, as edits: adding from the palette, connecting two
 * things, deleting the selection. Each builds edits and hands them to the edit
 * pipeline; none touches the lab store (the kernel answers with patches).
 */
import { linkKey } from '@nslab/model';
import type { Edit } from '@nslab/model';
import type { LinkEnd } from './allocator';
import type { XY } from '../state/plane';
import { dataHeight, namespaceData } from '../canvas/derive';
import { NODE_WIDTH } from '../canvas/geometry';
import { linkEdits } from './linking';
import type { PaletteKind } from './palette';
import { paletteAction } from './palette';
import { fieldKey } from './problems';
import { useLab } from '../state/lab';
import { useOps } from './store';
import { useView } from '../state/view';
import { proposeEdits } from './submit';

/** A free spot near `wanted` for a new node: moved down until it covers no other node. */
function freeSpot(wanted: XY): XY {
  const { topology } = useLab.getState();
  const { positions } = useView.getState();
  const boxes = Object.entries(positions)
    .filter(([name]) => topology?.nodes[name])
    .map(([name, p]) => ({ ...p, h: dataHeight(namespaceData(name, topology!.nodes[name]!, topology!.links)) }));
  const spot = { ...wanted };
  const covers = () => boxes.some((b) => spot.x < b.x + NODE_WIDTH + 16 && b.x < spot.x + NODE_WIDTH + 16 && spot.y < b.y + b.h + 16 && b.y < spot.y + 80);
  for (let i = 0; i < 200 && covers(); i += 1) spot.y += 40;
  return spot;
}

/**
 * Adds a palette item. `at` is where it was dropped (canvas coordinates of the
 * pointer); `into` the namespace it was dropped on, if any (a bridge goes inside it).
 */
export function addFromPalette(kind: PaletteKind, at: XY, into?: string): void {
  const { topology } = useLab.getState();
  const action = paletteAction(topology, kind, into);
  if (action.created) {
    useView.getState().setPositions({ [action.node]: freeSpot({ x: Math.round(at.x - NODE_WIDTH / 2), y: Math.round(at.y - 20) }) }, true, true);
  }
  if (proposeEdits(action.edits, action.label)) useView.getState().select({ kind: 'node', node: action.node });
}

/** Connects two ends (namespaces or bridges) with a new veth pair. */
export function connect(from: LinkEnd, to: LinkEnd): boolean {
  const { topology } = useLab.getState();
  if (!topology) return false;
  const plan = linkEdits(topology, from, to, useView.getState().autoAddress);
  if (!plan.ok) {
    useOps.getState().setProblems([{ message: plan.message, node: from.node, field: fieldKey.connect(from.node) }]);
    return false;
  }
  return proposeEdits(plan.edits, plan.label);
}

/** Deletes what is selected: a namespace with everything in it, or a link with its two ends. */
export function deleteSelection(): boolean {
  const selection = useView.getState().selection;
  const { topology } = useLab.getState();
  if (!selection || !topology) return false;
  let edits: Edit[];
  let label: string;
  if (selection.kind === 'node') {
    if (!topology.nodes[selection.node]) return false;
    edits = [{ kind: 'node.remove', node: selection.node }];
    label = `delete namespace ${selection.node}`;
  } else {
    const link = topology.links.find((l) => linkKey(l) === selection.key);
    if (!link) return false;
    edits = [{ kind: 'link.remove', a: link.a }];
    label = `delete link ${link.a.node}:${link.a.interface} - ${link.b.node}:${link.b.interface}`;
  }
  const ok = proposeEdits(edits, label);
  if (ok) useView.getState().select(undefined);
  return ok;
}
