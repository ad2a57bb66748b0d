/**
 * The processes of one terminal's session, read from /proc, and ending them by pid.
 * A shell started by node-pty leads its own session (setsid), so every job it starts that has
 * not called setsid itself carries the shell's pid as its session id: those are the processes
 * the terminal owns. Processes that left the session (setsid, daemons) are not found here; the
 * lab's teardown ends whatever still runs in its namespaces.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** A process identified by pid and start time, so a recycled pid is never signalled by mistake. */
export interface ProcessRef {
  pid: number;
  startTime: string;
}

/** Fields of /proc/<pid>/stat we need, or undefined when the process is gone. */
function readStat(pid: number): { state: string; session: number; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); session is field 6, starttime field 22 (proc(5)).
  const state = fields[0];
  const session = Number(fields[3]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(session)) return undefined;
  return { state, session, startTime };
}

/** The process with this pid, if it exists and is not a zombie. */
export function processRef(pid: number): ProcessRef | undefined {
  const stat = readStat(pid);
  return stat && stat.state !== 'Z' ? { pid, startTime: stat.startTime } : undefined;
}

/** Every live process whose session id is `leader` (the leader included). */
export function sessionMembers(leader: number): ProcessRef[] {
  const out: ProcessRef[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat && stat.session === leader && stat.state !== 'Z') out.push({ pid, startTime: stat.startTime });
  }
  return out;
}

/** Whether this exact process (same pid, same start time) still exists, zombie or not. */
export function isAlive(ref: ProcessRef): boolean {
  return readStat(ref.pid)?.startTime === ref.startTime;
}

/** Whether this exact process still runs (exists and is not a zombie waiting to be reaped). */
export function isRunning(ref: ProcessRef): boolean {
  const stat = readStat(ref.pid);
  return stat !== undefined && stat.startTime === ref.startTime && stat.state !== 'Z';
}

/** Sends `signal` to each process that is still the same process; returns how many were signalled. */
export function signalAll(refs: readonly ProcessRef[], signal: NodeJS.Signals): number {
  let n = 0;
  for (const ref of refs) {
    if (!isAlive(ref)) continue;
    try {
      process.kill(ref.pid, signal);
      n++;
    } catch {
      // It exited between the check and the signal: nothing to do.
    }
  }
  return n;
}
