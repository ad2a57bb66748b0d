/**
 * The local check of an edit: the same rules the server applies (the model's
 * applyEdits and validation), run in the page first so a mistake typed in the
 * inspector is shown at once, at its field, and nothing is sent. Only problems the
 * edit brings count: a lab that already breaks a rule (changed from a terminal, say)
 * does not block unrelated edits.
 */
import { applyEdits, parseTopologyData, toFile } from '@nslab/model';
import type { Edit, Problem, RawTopology, Topology, TopologyMeta } from '@nslab/model';
import type { PlacedProblem } from './problems';
import { place } from './problems';

/** The result of checking edits: the lab file they give, or their problems placed. */
export type CheckResult = { ok: true; file: RawTopology } | { ok: false; problems: PlacedProblem[] };

const key = (p: Problem) => `${p.path}\n${p.message}`;

/** Checks edits against the lab as it is (an empty lab when it does not exist yet). */
export function checkEdits(lab: string, topology: Topology | undefined, meta: TopologyMeta, edits: Edit[]): CheckResult {
  const base = toFile(topology ?? { name: lab, nodes: {}, links: [] }, meta);
  const applied = applyEdits(base, edits);
  if (!applied.ok) return { ok: false, problems: applied.problems.map((p) => place(p, edits)) };
  const parsed = parseTopologyData(applied.file);
  if (parsed.ok) return { ok: true, file: applied.file };
  const before = parseTopologyData(base);
  const old = new Set(before.ok ? [] : before.problems.map(key));
  const fresh = parsed.problems.filter((p) => !old.has(key(p)));
  return fresh.length === 0 ? { ok: true, file: applied.file } : { ok: false, problems: fresh.map((p) => place(p, edits)) };
}
