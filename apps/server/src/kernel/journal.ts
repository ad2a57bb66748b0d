/**
 * Crash safety of lab creation. Before an apply creates namespaces it records its intent
 * (the lab, the kernel names, its pid and start time) in /run/nslab/journal; the entry is
 * removed when the apply ends. A run killed by SIGKILL leaves its entry behind, and the next
 * destroy, list or apply finishes the job: of the names the dead run meant to create, an
 * empty /run/netns file that is not a mount point (a kill inside `ip netns add`) is removed,
 * and a namespace that carries no marker (a kill between create and mark) is deleted.
 *
 * Nothing is removed on a name pattern alone: only names a journal entry lists, only when
 * the entry's writer is gone (its pid is dead or reused) and no live run of the same lab is
 * writing, and never a namespace that carries a marker.
 */
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nameProblem, parseNetnsName } from '@nslab/model';
import { NETNS_DIR, readOwners } from './observe';
import { run } from './runner';

/** Where the intents of runs in progress are kept (tmpfs, like /run/netns: both go at reboot). */
export const JOURNAL_DIR = '/run/nslab/journal';

/** One run's intent. */
interface Entry { lab: string; pid: number; start: string; netns: string[] }

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat): with the pid, it names one process for good. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True while the process that wrote the entry runs (the same pid with the same start time). */
function writerAlive(entry: Entry): boolean {
  return startTime(entry.pid) === entry.start;
}

/** A run's intent to create `netns` for `lab`; call `done` once the run has ended (failed or not). */
export async function recordIntent(lab: string, netns: readonly string[]): Promise<{ done: () => Promise<void> }> {
  const problem = nameProblem(lab, 'lab');
  if (problem) throw new Error(problem);
  const entry: Entry = { lab, pid: process.pid, start: startTime(process.pid) ?? '', netns: [...netns] };
  const file = join(JOURNAL_DIR, `${lab}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.json`);
  await mkdir(JOURNAL_DIR, { recursive: true });
  // Written whole under another name and renamed: a kill mid-write leaves no half entry.
  await writeFile(`${file}.tmp`, JSON.stringify(entry));
  await rename(`${file}.tmp`, file);
  return { done: () => rm(file, { force: true }) };
}

async function entries(): Promise<{ file: string; entry: Entry | undefined }[]> {
  let names: string[];
  try {
    names = await readdir(JOURNAL_DIR);
  } catch {
    return [];
  }
  // A temporary file of a writer that is gone (killed before its rename) never named anything to the kernel.
  for (const n of names.filter((x) => x.endsWith('.json.tmp'))) {
    const pid = Number(n.split('.')[1]);
    if (!Number.isInteger(pid) || startTime(pid) === undefined) await rm(join(JOURNAL_DIR, n), { force: true });
  }
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => {
    const file = join(JOURNAL_DIR, n);
    try {
      const e = JSON.parse(await readFile(file, 'utf8')) as Entry;
      const valid = typeof e.lab === 'string' && nameProblem(e.lab, 'lab') === undefined && Number.isInteger(e.pid)
        && typeof e.start === 'string' && Array.isArray(e.netns) && e.netns.every((x) => typeof x === 'string' && parseNetnsName(x)?.lab === e.lab);
      return { file, entry: valid ? e : undefined };
    } catch {
      return { file, entry: undefined };
    }
  }));
}

/** The mount points under /run/netns in this mount namespace. */
function netnsMounts(): Set<string> {
  const mounts = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point?.startsWith(`${NETNS_DIR}/`)) mounts.add(point.slice(NETNS_DIR.length + 1).replace(/\\040/g, ' '));
  }
  return mounts;
}

/**
 * Finishes what killed runs left: for `lab`, or for every lab when none is given. Returns the
 * namespaces (kernel names) it removed. Entries of live runs are left alone, and so is every
 * lab that has one.
 */
export async function recoverKilledRuns(lab?: string): Promise<string[]> {
  const all = await entries();
  // An entry that does not read as one was not written by recordIntent (which renames whole files): it proves nothing.
  for (const { file, entry } of all) if (entry === undefined) await rm(file, { force: true });
  const liveLabs = new Set(all.flatMap(({ entry }) => (entry && writerAlive(entry) ? [entry.lab] : [])));
  const dead = all.filter(({ entry }) => entry !== undefined && !writerAlive(entry) && !liveLabs.has(entry.lab) && (lab === undefined || entry.lab === lab));
  const removed: string[] = [];
  if (dead.length === 0) return removed;
  const names = [...new Set(dead.flatMap(({ entry }) => entry?.netns ?? []))];
  const present = new Set(await readdir(NETNS_DIR).catch(() => [] as string[]));
  const mounts = netnsMounts();
  const empty = names.filter((n) => present.has(n) && !mounts.has(n));
  const mounted = names.filter((n) => present.has(n) && mounts.has(n));
  // An empty file: `ip netns add` was killed before its bind mount. Nothing lives in it.
  for (const n of empty) {
    await unlink(join(NETNS_DIR, n)).then(() => removed.push(n), () => undefined);
  }
  // A namespace without a marker: killed between create and mark. One with a marker is a lab's own, and stays.
  const owners = await readOwners(mounted);
  const unmarked = mounted.filter((_, i) => owners[i] === undefined);
  if (unmarked.length > 0) {
    await run(['ip', '-force', '-batch', '-'], { input: unmarked.map((n) => `netns del ${n}\n`).join(''), allowFailure: true });
    const after = new Set(await readdir(NETNS_DIR).catch(() => [] as string[]));
    removed.push(...unmarked.filter((n) => !after.has(n)));
  }
  // Entries whose names are all settled are done; one whose removal failed is kept for the next try.
  const left = new Set(await readdir(NETNS_DIR).catch(() => [] as string[]));
  const marked = new Set(mounted.filter((_, i) => owners[i] !== undefined));
  for (const { file, entry } of dead) {
    if ((entry?.netns ?? []).every((n) => !left.has(n) || marked.has(n))) await rm(file, { force: true });
  }
  return removed;
}
