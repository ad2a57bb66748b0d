/** Test fixtures: a topology from YAML, or an error naming its problems (a fixture must be valid). */
import type { Topology } from '@nslab/model';
import { parseTopology } from '@nslab/model';

/** The topology a YAML fixture describes; throws with every problem when it is invalid. */
export function lab(yaml: string): Topology {
  const r = parseTopology(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.topology;
}
