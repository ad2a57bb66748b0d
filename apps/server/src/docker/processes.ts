/**
 * The processes a container runs (`docker run -d IMAGE CMD...`): each started in its
 * own session inside the container's namespace, its output in a log file, and
 * recorded (pid and the kernel's start time of that pid) in
 * /run/nslab/labs/<lab>.procs.json, so `docker rm -f`, `nslab destroy` and a
 * restarted server end exactly those processes, and never a later process that
 * happens to reuse the pid.
 */
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nameProblem } from '@nslab/model';
import { META_DIR } from '../kernel/meta';
import { start as startChild } from '../kernel/runner';

/** One recorded process. */
interface Recorded { container: string; pid: number; start: string; command: string[] }

/** A lab's own folder for its processes' files (logs, resolver hosts): /run/nslab/labs/<lab>.d. */
export function labDir(lab: string): string {
  const problem = nameProblem(lab, 'lab');
  if (problem) throw new Error(problem);
  return join(META_DIR, `${lab}.d`);
}

function recordPath(lab: string): string {
  const problem = nameProblem(lab, 'lab');
  if (problem) throw new Error(problem);
  return join(META_DIR, `${lab}.procs.json`);
}

async function readRecords(lab: string): Promise<Recorded[]> {
  try {
    const data = JSON.parse(await readFile(recordPath(lab), 'utf8')) as unknown;
    return Array.isArray(data) ? (data as Recorded[]) : [];
  } catch {
    return [];
  }
}

async function writeRecords(lab: string, records: Recorded[]): Promise<void> {
  if (records.length === 0) { await rm(recordPath(lab), { force: true }); return; }
  await mkdir(META_DIR, { recursive: true });
  await writeFile(recordPath(lab), JSON.stringify(records));
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. Undefined when it is gone. */
async function startTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The keys of the lab's recorded processes. */
export async function recordedKeys(lab: string): Promise<string[]> {
  return [...new Set((await readRecords(lab)).map((r) => r.container))];
}

/** Whether a recorded process of `container` (a container, or a key like "dns:web") still runs. */
export async function isRunning(lab: string, container: string): Promise<boolean> {
  for (const r of await readRecords(lab)) if (r.container === container && (await startTime(r.pid)) === r.start) return true;
  return false;
}

/** Starts a container's command (or a lab process, keyed like "dns:web") in `netns`, detached, and records it. */
export async function startContainerProcess(lab: string, container: string, netns: string, command: string[]): Promise<number> {
  await mkdir(labDir(lab), { recursive: true });
  const log = await open(join(labDir(lab), `${container.replace(':', '-')}.log`), 'a');
  // Its own session, its output in the log, and no parent-death signal: a container outlives the
  // `docker run -d` that started it, and is ended by its record (`docker rm -f`, destroy).
  const { child } = startChild(['ip', 'netns', 'exec', netns, ...command], { detached: true, dieWithParent: false, stdout: log.fd, stderr: log.fd });
  await new Promise<void>((ok, fail) => { child.once('spawn', () => ok()); child.once('error', fail); });
  child.unref();
  await log.close();
  const pid = child.pid ?? 0;
  const start = await startTime(pid);
  if (start !== undefined) await writeRecords(lab, [...(await readRecords(lab)), { container, pid, start, command }]);
  return pid;
}

/** Ends one recorded process group, if its pid is still the process that was started. */
async function end(record: Recorded): Promise<void> {
  if ((await startTime(record.pid)) !== record.start) return;
  try { process.kill(-record.pid, 'SIGTERM'); } catch { /* already gone */ }
}

/** Ends the processes of one container (`docker rm -f`). */
export async function endContainerProcess(lab: string, container: string): Promise<void> {
  const records = await readRecords(lab);
  for (const r of records.filter((x) => x.container === container)) await end(r);
  await writeRecords(lab, records.filter((x) => x.container !== container));
}

/** Ends every process the lab's containers run (destroy). */
export async function endLabProcesses(lab: string): Promise<void> {
  for (const r of await readRecords(lab)) await end(r);
  await writeRecords(lab, []);
  await rm(labDir(lab), { recursive: true, force: true });
}
