/**
 * Where nslab's own files are, found from this module's place. It sits at the top of
 * apps/server/src, and in the built CLI (apps/server/dist/nslab.mjs, one bundle) at the same
 * depth, so the same URLs hold for both: every other module asks here rather than counting
 * `..` from its own folder.
 */
import { fileURLToPath } from 'node:url';

/** apps/server/, with shell-bin/, libexec/ and native/. */
export const SERVER_DIR = fileURLToPath(new URL('../', import.meta.url));

/** The repository: examples/, lessons/, apps/web/dist/. */
export const REPO_DIR = fileURLToPath(new URL('../../../', import.meta.url));
