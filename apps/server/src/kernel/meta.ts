/**
 * What a lab's file says beyond the kernel state (its description, commands to try,
 * and the container layer for Docker's view), kept in /run/nslab beside the
 * namespaces: like /run/netns it is gone after a reboot, and so are the labs.
 */
import { watch } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopologyMeta } from '@nslab/model';
import { nameProblem } from '@nslab/model';

/** Where lab metadata lives. */
export const META_DIR = '/run/nslab/labs';

function pathOf(lab: string): string {
  const problem = nameProblem(lab, 'lab');
  if (problem) throw new Error(problem);
  return join(META_DIR, `${lab}.json`);
}

/** Saves a lab's metadata (replacing what was there). */
export async function writeMeta(lab: string, meta: TopologyMeta): Promise<void> {
  await mkdir(META_DIR, { recursive: true });
  // Written whole under another name and renamed: a reader (the watch below) never sees half a file.
  const file = pathOf(lab);
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  await writeFile(partial, JSON.stringify(meta));
  await rename(partial, file);
}

/** A lab's saved metadata, or undefined. */
export async function readMeta(lab: string): Promise<TopologyMeta | undefined> {
  try {
    return JSON.parse(await readFile(pathOf(lab), 'utf8')) as TopologyMeta;
  } catch {
    return undefined;
  }
}

/**
 * A stamp that changes when a lab's metadata file is written (its change time and size), or
 * undefined when there is none: a stat, so the live feed can ask on every patch without
 * reading the file.
 */
export async function metaStamp(lab: string): Promise<string | undefined> {
  try {
    const s = await stat(pathOf(lab));
    return `${s.ctimeMs}:${s.size}`;
  } catch {
    return undefined;
  }
}

/** Forgets a lab's metadata (when the lab is destroyed). */
export async function removeMeta(lab: string): Promise<void> {
  await rm(pathOf(lab), { force: true });
}

/**
 * Calls `changed(lab)` when a lab's metadata file is written or removed (inotify on the folder):
 * a `docker` command in a shell may rewrite a lab's container layer without any kernel change.
 * Returns the function that stops watching.
 */
export async function watchMeta(changed: (lab: string) => void): Promise<() => void> {
  await mkdir(META_DIR, { recursive: true });
  const watcher = watch(META_DIR, (_event, file) => {
    const lab = typeof file === 'string' && file.endsWith('.json') ? file.slice(0, -'.json'.length) : undefined;
    if (lab !== undefined && nameProblem(lab, 'lab') === undefined) changed(lab);
  });
  watcher.on('error', (e) => console.error(`nslab: the watch of ${META_DIR} stopped (${e.message}): a docker command that changes no device shows on the next change`));
  return () => watcher.close();
}
