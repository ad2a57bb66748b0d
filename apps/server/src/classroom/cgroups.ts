/**
 * Resource limits per classroom trainee through cgroups: memory, processes and CPU, so that one
 * trainee's `yes`, fork loop or runaway allocation cannot take the server from the others.
 *
 * Each trainee has a cgroup `nslab/trainee-NAME`, made under the server's own cgroup in each
 * hierarchy used (as a service given a delegated subtree does): the trainees' processes then stay
 * inside whatever limits and accounting the machine put the server in, and nslab never writes to
 * a cgroup it did not make. cgroup v2 is used when the server's cgroup already delegates the
 * memory, pids and cpu controllers to its children (nslab never enables a controller in a cgroup
 * it did not make); otherwise the v1 memory, pids and cpu hierarchies that are mounted; with
 * neither, the server serves on with one warning that trainee limits are off.
 *
 * A trainee's shell is started by libexec/join-cgroup, which writes its own pid to the trainee's
 * cgroup.procs files and then execs the shell: the shell, and everything it starts, is limited
 * before it reads a byte of input. Cgroups are removed with the server (after its shells ended);
 * at start-up, empty `nslab/trainee-*` cgroups a killed server left are removed, and nothing else.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { assertNever } from '@nslab/model';
import { traineeNameProblem } from './roster';
import { SERVER_DIR } from '../paths';

/** What each trainee may use at once; set with --trainee-memory, --trainee-pids and --trainee-cpu. */
export interface TraineeLimits {
  /** Memory of all the trainee's processes together, in bytes. */
  memoryBytes: number;
  /** Processes (and threads) of the trainee at once. */
  pids: number;
  /** CPU time, in cores (0.5: half of one core). */
  cpu: number;
}

const MiB = 1024 * 1024;

/** The classroom issue's defaults: 512 MiB, 256 processes, half a core (30 trainees share one modest server). */
export const DEFAULT_TRAINEE_LIMITS: TraineeLimits = { memoryBytes: 512 * MiB, pids: 256, cpu: 0.5 };

/** The CFS period, 100 ms: the kernel's default cpu.cfs_period_us, and the period cgroup v2's cpu.max uses by default. */
export const CPU_PERIOD_US = 100_000;

/** The smallest CFS quota the kernel takes, 1 ms (kernel/sched/core.c min_cfs_quota_period): 0.01 of a core. */
const MIN_CPU = 0.01;

/** Less memory than this and a shell cannot run ip, ping or tcpdump (bash and perl take about 10 MiB each here). */
const MIN_MEMORY_BYTES = 32 * MiB;

/** Fewer processes than this and the shell, its wrapper and one pipeline of the tutorials do not fit. */
const MIN_PIDS = 16;

/** The kernel's largest pid_max (PID_MAX_LIMIT on 64-bit, include/linux/threads.h). */
const MAX_PIDS = 4_194_304;

/** The controllers a trainee's cgroup limits. */
export type Controller = 'memory' | 'pids' | 'cpu';
const CONTROLLERS: readonly Controller[] = ['memory', 'pids', 'cpu'];

/** Names nslab's cgroups under the server's own, in every hierarchy: `nslab/trainee-NAME`. */
export const CGROUP_DIR = 'nslab';

/** The prefix of a trainee's cgroup name; only directories named so are ever removed. */
const TRAINEE_PREFIX = 'trainee-';

/** The program that puts a trainee's shell in its cgroups before the shell runs (Perl, like shell-bin/ip). */
export const JOIN_CGROUP = join(SERVER_DIR, 'libexec', 'join-cgroup');

/** One place where trainee cgroups are made: nslab's directory in a v2 tree or in a v1 hierarchy, and what it limits. */
export interface Hierarchy {
  version: 1 | 2;
  /** `<mount>/<server's cgroup>/nslab`. */
  dir: string;
  controllers: Controller[];
}

/** Where trainee cgroups go on this machine, or why there are none. */
export type CgroupLayout =
  | { kind: 'on'; version: 1 | 2; hierarchies: Hierarchy[]; missing: Controller[] }
  | { kind: 'off'; reason: string };

/** One line of /proc/self/mountinfo that matters here. */
export interface CgroupMount { root: string; mountPoint: string; fsType: 'cgroup' | 'cgroup2'; superOptions: string[] }

/** The cgroup mounts in /proc/self/mountinfo text (proc(5): root is field 4, mount point 5, fstype and super options after "-"). */
export function parseMountinfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const fsType = fields[dash + 1];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    mounts.push({ root: unescape(fields[3] ?? ''), mountPoint: unescape(fields[4] ?? ''), fsType, superOptions: (fields[dash + 3] ?? '').split(',') });
  }
  return mounts;
}

/** mountinfo writes space, tab, newline and backslash in paths as \ooo. */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** /proc/self/cgroup: each hierarchy's controllers (empty for v2's "0::") and the process's path in it. */
export function parseProcCgroup(text: string): Array<{ controllers: string[]; path: string }> {
  const out: Array<{ controllers: string[]; path: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m) out.push({ controllers: m[2] === '' ? [] : (m[2] as string).split(','), path: m[3] as string });
  }
  return out;
}

/** The directory of `path` (a cgroup path from /proc/self/cgroup) under a mount whose root is `root`, or undefined when the mount does not show it. */
function dirIn(mount: CgroupMount, path: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (path !== root && !path.startsWith(`${root}/`)) return undefined;
  return join(mount.mountPoint, path.slice(root.length));
}

/**
 * Where this machine lets nslab make trainee cgroups (no writes: `read` reads a file or answers
 * undefined). v2 when the server's v2 cgroup delegates memory, pids and cpu to its children;
 * else the v1 hierarchies of those controllers the server's cgroup is visible in.
 */
export function planLayout(mountinfo: string, procCgroup: string, read: (file: string) => string | undefined): CgroupLayout {
  const mounts = parseMountinfo(mountinfo);
  const own = parseProcCgroup(procCgroup);
  const v2Path = own.find((c) => c.controllers.length === 0 && c.path.startsWith('/'))?.path;
  const v2Mount = mounts.find((m) => m.fsType === 'cgroup2' && v2Path !== undefined && dirIn(m, v2Path) !== undefined);
  let v2Why = 'there is no cgroup2 mount';
  if (v2Mount && v2Path !== undefined) {
    const base = dirIn(v2Mount, v2Path) as string;
    const delegated = (read(join(base, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/);
    const lacking = CONTROLLERS.filter((c) => !delegated.includes(c));
    if (lacking.length === 0) return { kind: 'on', version: 2, hierarchies: [{ version: 2, dir: join(base, CGROUP_DIR), controllers: [...CONTROLLERS] }], missing: [] };
    v2Why = `cgroup v2 (${v2Mount.mountPoint}) does not give ${lacking.join(', ')} to the server's cgroup's children`;
  }
  const hierarchies: Hierarchy[] = [];
  for (const controller of CONTROLLERS) {
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
    const path = own.find((c) => c.controllers.includes(controller))?.path;
    const base = mount && path !== undefined ? dirIn(mount, path) : undefined;
    if (base === undefined) continue;
    const dir = join(base, CGROUP_DIR);
    const same = hierarchies.find((h) => h.dir === dir);
    if (same) same.controllers.push(controller);
    else hierarchies.push({ version: 1, dir, controllers: [controller] });
  }
  if (hierarchies.length === 0) return { kind: 'off', reason: `${v2Why}, and no cgroup v1 memory, pids or cpu hierarchy is mounted` };
  const have = new Set(hierarchies.flatMap((h) => h.controllers));
  return { kind: 'on', version: 1, hierarchies, missing: CONTROLLERS.filter((c) => !have.has(c)) };
}

/** The layout of this machine, read from /proc. */
export function detectLayout(): CgroupLayout {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  const mountinfo = read('/proc/self/mountinfo');
  const procCgroup = read('/proc/self/cgroup');
  if (mountinfo === undefined || procCgroup === undefined) return { kind: 'off', reason: '/proc/self/mountinfo or /proc/self/cgroup cannot be read' };
  return planLayout(mountinfo, procCgroup, read);
}

/** The files a trainee's cgroup gets in one hierarchy, in the order they are written. Pure. */
export function limitFiles(hierarchy: Hierarchy, limits: TraineeLimits, has: (file: string) => boolean): Array<[file: string, value: string]> {
  const quota = String(Math.round(limits.cpu * CPU_PERIOD_US));
  const files: Array<[string, string]> = [];
  for (const c of hierarchy.controllers) {
    switch (c) {
      case 'memory':
        if (hierarchy.version === 2) files.push(['memory.max', String(limits.memoryBytes)]);
        else {
          files.push(['memory.limit_in_bytes', String(limits.memoryBytes)]);
          // With swap accounting, memory plus swap gets the same limit, so swap cannot stretch it.
          if (has('memory.memsw.limit_in_bytes')) files.push(['memory.memsw.limit_in_bytes', String(limits.memoryBytes)]);
        }
        break;
      case 'pids':
        files.push(['pids.max', String(limits.pids)]);
        break;
      case 'cpu':
        if (hierarchy.version === 2) files.push(['cpu.max', `${quota} ${CPU_PERIOD_US}`]);
        else files.push(['cpu.cfs_period_us', String(CPU_PERIOD_US)], ['cpu.cfs_quota_us', quota]);
        break;
      default:
        assertNever(c);
    }
  }
  return files;
}

/** Trainee limits could not be set up: a sentence that says what failed; the trainee's shell is not started. */
export class CgroupError extends Error {
  constructor(message: string, readonly file?: string) {
    super(message);
    this.name = 'CgroupError';
  }
}

/** How long removing a cgroup waits for its last processes to be gone (the kernel lets go of an exited task a moment after its parent reaped it). */
const REMOVE_WAIT_MS = 5_000;

/** The trainee cgroups of one server: made when a trainee opens a shell, removed when the server stops. */
export class TraineeCgroups {
  private readonly made = new Set<string>();

  private constructor(readonly layout: CgroupLayout, readonly limits: TraineeLimits) {}

  /**
   * Detects the layout, makes nslab's directory in each hierarchy and removes the empty trainee
   * cgroups a killed server left. Logs one line: the limits, or that they are off and why.
   */
  static start(limits: TraineeLimits, log: (line: string) => void, layout: CgroupLayout = detectLayout()): TraineeCgroups {
    let usable = layout;
    if (usable.kind === 'on') {
      const failed: string[] = [];
      const hierarchies = usable.hierarchies.filter((h) => {
        try {
          mkdirSync(h.dir, { recursive: true });
          if (h.version === 2) writeFileSync(join(h.dir, 'cgroup.subtree_control'), h.controllers.map((c) => `+${c}`).join(' '));
          return true;
        } catch (err) {
          failed.push(`${h.dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
          return false;
        }
      });
      const missing = [...usable.missing, ...usable.hierarchies.filter((h) => !hierarchies.includes(h)).flatMap((h) => h.controllers)];
      usable = hierarchies.length > 0
        ? { ...usable, hierarchies, missing }
        : { kind: 'off', reason: `nslab cannot make its cgroups in ${failed.join(', ')}` };
    }
    const cgroups = new TraineeCgroups(usable, limits);
    if (usable.kind === 'off') {
      log(`nslab: warning: trainee limits are off (${usable.reason}): a trainee's shell can use all the machine's memory, processes and CPU`);
      return cgroups;
    }
    const swept = cgroups.sweep();
    const unlimited = usable.missing.length > 0 ? `; ${usable.missing.join(' and ')} not limited (no such controller here)` : '';
    log(`nslab: trainee limits: ${formatMemory(limits.memoryBytes)} of memory, ${limits.pids} processes, ${formatCpu(limits.cpu)} (cgroup v${usable.version})${unlimited}${swept > 0 ? `; removed ${swept} empty trainee cgroups an earlier server left` : ''}`);
    return cgroups;
  }

  /** True when trainees' shells are limited. */
  get on(): boolean {
    return this.layout.kind === 'on';
  }

  /** The directories of a trainee's cgroup, one per hierarchy (none when limits are off). */
  dirs(trainee: string): string[] {
    if (this.layout.kind === 'off') return [];
    return this.layout.hierarchies.map((h) => join(h.dir, `${TRAINEE_PREFIX}${trainee}`));
  }

  /**
   * Makes (or finds) a trainee's cgroups with their limits and returns the cgroup.procs files their
   * shell joins; none when limits are off. Called for every shell, so a cgroup removed meanwhile
   * (by a sweep of another server sharing this cgroup) is made again. Throws CgroupError.
   */
  ensure(trainee: string): string[] {
    const problem = traineeNameProblem(trainee);
    if (problem) throw new CgroupError(problem);
    if (this.layout.kind === 'off') return [];
    const procs: string[] = [];
    for (const h of this.layout.hierarchies) {
      const dir = join(h.dir, `${TRAINEE_PREFIX}${trainee}`);
      try {
        mkdirSync(dir, { recursive: true });
      } catch (err) {
        throw new CgroupError(`the limits of trainee ${trainee} could not be set up: making ${dir} failed (${(err as NodeJS.ErrnoException).code ?? String(err)})`, dir);
      }
      this.made.add(trainee);
      writeLimits(dir, limitFiles(h, this.limits, (file) => existsSync(join(dir, file))));
      procs.push(join(dir, 'cgroup.procs'));
    }
    return procs;
  }

  /**
   * Removes a trainee's cgroups once their processes are gone (waits up to 5 s). Returns the
   * directories still held by processes (left in place; the next start-up removes them once empty).
   */
  async remove(trainee: string): Promise<string[]> {
    this.made.delete(trainee);
    if (traineeNameProblem(trainee)) return [];
    const held: string[] = [];
    for (const dir of this.dirs(trainee)) if (!(await removeWhenEmpty(dir, REMOVE_WAIT_MS))) held.push(dir);
    return held;
  }

  /** Removes every trainee cgroup this server made, then nslab's own directories if nothing else is in them. Call it after every shell ended. */
  async removeAll(log: (line: string) => void = () => {}): Promise<void> {
    const held = (await Promise.all([...this.made].map((t) => this.remove(t)))).flat();
    if (held.length > 0) log(`nslab: ${held.join(', ')} still hold processes; they are removed at the next start once empty`);
    if (this.layout.kind === 'off') return;
    for (const h of this.layout.hierarchies) {
      try {
        rmdirSync(h.dir); // only when empty: another server's trainees may be in it
      } catch {
        // still in use, or already gone
      }
    }
  }

  /** Removes empty `trainee-*` cgroups in nslab's directories; returns how many. Never a non-empty one, never another name. */
  private sweep(): number {
    if (this.layout.kind === 'off') return 0;
    let removed = 0;
    for (const h of this.layout.hierarchies) {
      let entries: string[];
      try {
        entries = readdirSync(h.dir);
      } catch {
        continue;
      }
      for (const entry of entries) {
        if (!entry.startsWith(TRAINEE_PREFIX) || traineeNameProblem(entry.slice(TRAINEE_PREFIX.length))) continue;
        const dir = join(h.dir, entry);
        if (procsOf(dir)?.length !== 0) continue;
        try {
          rmdirSync(dir);
          removed += 1;
        } catch {
          // a process joined it meanwhile, or it has child cgroups: not nslab's to force
        }
      }
    }
    return removed;
  }
}

/** Writes limit files in order; a value refused because of another's (memsw below the limit) is tried again after the rest. */
function writeLimits(dir: string, files: Array<[string, string]>): void {
  let pending = files;
  for (let round = 0; round < 2 && pending.length > 0; round += 1) {
    const failed: Array<[string, string, NodeJS.ErrnoException]> = [];
    for (const [file, value] of pending) {
      try {
        writeFileSync(join(dir, file), value);
      } catch (err) {
        failed.push([file, value, err as NodeJS.ErrnoException]);
      }
    }
    if (failed.length === 0) return;
    pending = failed.map(([file, value]) => [file, value]);
    if (round === 1) {
      const [file, value, err] = failed[0] as [string, string, NodeJS.ErrnoException];
      throw new CgroupError(`the limits of a trainee could not be set: writing ${value} to ${join(dir, file)} failed (${err.code ?? err.message})`, join(dir, file));
    }
  }
}

/** The pids in a cgroup, or undefined when it is gone. */
export function procsOf(dir: string): number[] | undefined {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return undefined;
  }
}

/** rmdir of a cgroup, tried until its processes are gone or `waitMs` passed; true when it is gone. */
async function removeWhenEmpty(dir: string, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY' || Date.now() > deadline) return false;
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** 536870912 -> "512 MiB". */
export function formatMemory(bytes: number): string {
  return bytes % (1024 * MiB) === 0 ? `${bytes / (1024 * MiB)} GiB` : `${Math.round(bytes / MiB)} MiB`;
}

/** 0.5 -> "50% of a core". */
function formatCpu(cpu: number): string {
  return cpu <= 1 ? `${Math.round(cpu * 100)}% of a core` : `${cpu} cores`;
}

/** Binary units for --trainee-memory: M is MiB, as in `free -m` and `docker run -m`. */
const UNITS: Record<string, number> = { '': 1, k: 1024, m: MiB, g: 1024 * MiB };

/**
 * The limits from the serve flags' texts (undefined: the default), or the problems, each a
 * sentence that says what to write. `machine` is this machine's memory and cores (the upper bounds).
 */
export function parseTraineeLimits(
  flags: { memory?: string | undefined; pids?: string | undefined; cpu?: string | undefined },
  machine: { memoryBytes: number; cores: number } = { memoryBytes: totalmem(), cores: availableParallelism() },
): { limits: TraineeLimits; problems: string[] } {
  const limits = { ...DEFAULT_TRAINEE_LIMITS };
  const problems: string[] = [];
  if (flags.memory !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(flags.memory.trim());
    const bytes = m ? Math.round(Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] ?? 1)) : NaN;
    if (!Number.isFinite(bytes)) problems.push(`--trainee-memory "${flags.memory.slice(0, 40)}" is not a size: write a number with M or G (MiB, GiB), like 512M or 1G`);
    else if (bytes < MIN_MEMORY_BYTES) problems.push(`--trainee-memory ${flags.memory} is too little for a shell and its tools: give at least 32M`);
    else if (bytes > machine.memoryBytes) problems.push(`--trainee-memory ${flags.memory} is more than this machine has (${formatMemory(machine.memoryBytes - (machine.memoryBytes % MiB))}): give less, like 512M`);
    else limits.memoryBytes = bytes;
  }
  if (flags.pids !== undefined) {
    const n = /^\d+$/.test(flags.pids.trim()) ? Number(flags.pids.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < MIN_PIDS || n > MAX_PIDS) problems.push(`--trainee-pids "${flags.pids.slice(0, 40)}" is not a process count nslab takes: write a whole number from ${MIN_PIDS} to ${MAX_PIDS}, like 256`);
    else limits.pids = n;
  }
  if (flags.cpu !== undefined) {
    const n = /^\d+(?:\.\d+)?$/.test(flags.cpu.trim()) ? Number(flags.cpu.trim()) : NaN;
    if (!Number.isFinite(n) || n < MIN_CPU || n > machine.cores) problems.push(`--trainee-cpu "${flags.cpu.slice(0, 40)}" is not a share of CPU nslab takes: write the cores a trainee may use, from ${MIN_CPU} to this machine's ${machine.cores}, like 0.5 for half a core`);
    else limits.cpu = n;
  }
  return { limits, problems };
}
