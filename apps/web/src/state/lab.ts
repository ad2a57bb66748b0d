/**
 * The lab store: what the kernel has, and nothing else. Fed only by the protocol
 * (a snapshot, then patches); the canvas derives everything it draws from here.
 * Patches keep every namespace they do not touch equal by reference, so memoised
 * nodes of a 300-namespace lab stay still when one interface changes.
 */
import { create } from 'zustand';
import { applyChanges } from '@nslab/model';
import type { Change, LabInfo, Topology, TopologyMeta } from '@nslab/model';

/** The state of the lab store. */
export interface LabState {
  /** The lab this client follows (subscribed to), if any. */
  lab: string | undefined;
  /** The lab as the kernel has it; undefined until the snapshot arrives. A lab with no nodes does not exist yet. */
  topology: Topology | undefined;
  /** The description and commands to try, from the file the lab was applied from. */
  meta: TopologyMeta;
  /** Every lab on the server. */
  labs: LabInfo[];
  /** Follow another lab: forget the current one until its snapshot arrives. */
  follow(lab: string | undefined): void;
  /** A snapshot from the server. */
  snapshot(lab: string, topology: Topology, meta: TopologyMeta): void;
  /** A patch from the server. */
  patch(lab: string, changes: Change[]): void;
  /** The server's list of labs. */
  setLabs(labs: LabInfo[]): void;
}

/**
 * Applies a patch, reusing every namespace (and the links) that no change touches,
 * so unchanged parts stay equal by reference.
 */
export function patchTopology(prev: Topology, changes: Change[]): Topology {
  const next = applyChanges(prev, changes);
  const touched = new Set<string>();
  let linksTouched = false;
  for (const c of changes) {
    if (c.path[0] === 'nodes' && c.path[1] !== undefined) touched.add(c.path[1]);
    else if (c.path[0] === 'links') linksTouched = true;
    else return next; // a change to the whole lab: nothing to share
  }
  const nodes: Topology['nodes'] = {};
  for (const [name, ns] of Object.entries(next.nodes)) nodes[name] = !touched.has(name) && prev.nodes[name] ? prev.nodes[name] : ns;
  return { ...next, nodes, links: linksTouched ? next.links : prev.links };
}

/** The one lab store. */
export const useLab = create<LabState>()((set, get) => ({
  lab: undefined,
  topology: undefined,
  meta: {},
  labs: [],
  follow(lab) {
    if (get().lab === lab) return;
    set({ lab, topology: undefined, meta: {} });
  },
  snapshot(lab, topology, meta) {
    if (get().lab !== lab) return;
    set({ topology, meta });
  },
  patch(lab, changes) {
    const { lab: current, topology } = get();
    if (current !== lab || !topology || changes.length === 0) return;
    set({ topology: patchTopology(topology, changes) });
  },
  setLabs(labs) {
    set({ labs });
  },
}));
