/** A problem found in a topology: where it is and what to do about it. */
export interface Problem {
  /** Dotted path into the topology file, e.g. "nodes.ns1.interfaces.eth0.addresses[0]". */
  path: string;
  /** A sentence a learner can act on. */
  message: string;
}

/** Joins path segments the way problems print them: names dotted, indexes in brackets. */
export function pathOf(...parts: (string | number)[]): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}
