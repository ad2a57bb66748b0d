// Whether the built CLI (apps/server/dist/nslab.mjs, made by build.mjs) may run: it exists and
// none of the sources it was built from is newer, so a checkout being edited runs its sources
// through tsx instead of a stale bundle.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The bundle's path when it is current, else undefined. `repo` is the repository's root. */
export function currentBuild(repo) {
  const bundle = join(repo, 'apps/server/dist/nslab.mjs');
  let built;
  let inputs;
  try {
    built = statSync(bundle).mtimeMs;
    inputs = JSON.parse(readFileSync(join(repo, 'apps/server/dist/inputs.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(inputs) || inputs.length === 0) return undefined;
  for (const input of inputs) {
    try {
      if (statSync(join(repo, input)).mtimeMs > built) return undefined;
    } catch {
      return undefined; // a source moved or removed since the build
    }
  }
  return bundle;
}
