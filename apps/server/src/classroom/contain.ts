/**
 * Contained trainee shells: each classroom trainee has a user namespace of their own, in which
 * ids 0-65535 are an unprivileged range of the machine's ids (none of the machine's files is
 * theirs). Their labs' network namespaces are made from inside it (kernel/userns.ts), so its root
 * has CAP_NET_ADMIN there and nowhere else; their shells run as that root, in a pid, mount and
 * cgroup namespace of their own with a read-only tree, a fresh /proc and /dev/pts and tmpfs scratch
 * space at /root and /tmp (native/contain.c says each step). The server stays the machine's root
 * and keeps every power over the trainee's namespaces.
 *
 * Why an unprivileged range rather than the machine's uid 0 mapped to itself: a user namespace's
 * root keeps CAP_DAC_OVERRIDE over every file whose owner is mapped in it, so with 0 mapped to 0 it
 * could write any root-owned file that a mount left writable (and open any root-owned socket);
 * with an unprivileged range only the scratch tmpfs and the trainee's own lab sockets are its own.
 *
 * A user namespace lives as a bind mount at /run/nslab/users/NAME (no process holds it), with its
 * first host id in NAME.id: a restarted server finds it again, so the trainee's labs stay usable.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, runSync } from '../kernel/runner';
import { CONTAIN_PATH } from '../kernel/userns';

/** The trainees' user namespaces, or none (with a warning on the log) when the helper is not built. */
export function traineeUsers(log: (line: string) => void): TraineeUsers | undefined {
  if (existsSync(CONTAIN_PATH)) return new TraineeUsers();
  log('nslab: nslab-contain is not built (scripts/install.sh builds it), so trainees\' shells are NOT contained: they are root on this machine');
  return undefined;
}

/** Where trainees' user namespaces are bound (tmpfs: they go at reboot, as the labs they own do). */
export const USERS_DIR = '/run/nslab/users';

/**
 * The first host id of the first trainee's range: far above the ids Debian hands out (login.defs
 * SUB_UID_MAX is 600100000), and each trainee gets the next 65536 (the size /etc/subuid gives).
 */
export const HOST_ID_BASE = 1_000_000_000;

/** Ids in one trainee's range (native/contain.c ID_COUNT). */
export const ID_COUNT = 65536;

/** How long the helper may take to make a user namespace (about a millisecond here); 5 s means it is stuck. */
const HELPER_TIMEOUT_MS = 5_000;

/** A trainee's user namespace: its file and the machine id that its uid and gid 0 are. */
export interface TraineeUser {
  userns: string;
  hostId: number;
}

/** Whether `path` is a mount point (the bind of a namespace), from this process's mountinfo. */
function isMountPoint(path: string): boolean {
  // mountinfo's field 5 is the mount point, with spaces and backslashes escaped as octal.
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === path);
}

/** The trainees' user namespaces, made when first needed. */
export class TraineeUsers {
  constructor(private readonly dir: string = USERS_DIR) {}

  /** The trainee's user namespace, made (with a free id range) if it does not exist. Throws when the helper fails. */
  ensure(name: string): TraineeUser {
    const userns = join(this.dir, name);
    const idFile = `${userns}.id`;
    if (existsSync(idFile) && isMountPoint(userns)) return { userns, hostId: Number(readFileSync(idFile, 'utf8')) };
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    rmSync(userns, { force: true });
    const hostId = this.freeId();
    runSync([CONTAIN_PATH, 'user', userns, String(hostId)], { timeoutMs: HELPER_TIMEOUT_MS });
    writeFileSync(idFile, String(hostId));
    return { userns, hostId };
  }

  /** The trainee's user namespace if it exists, without making one. */
  find(name: string): TraineeUser | undefined {
    const userns = join(this.dir, name);
    const idFile = `${userns}.id`;
    return existsSync(idFile) && isMountPoint(userns) ? { userns, hostId: Number(readFileSync(idFile, 'utf8')) } : undefined;
  }

  /** Unbinds and forgets a trainee's user namespace (it lives on while a namespace it owns or a process in it does). */
  release(name: string): void {
    const userns = join(this.dir, name);
    if (isMountPoint(userns)) runSync(['umount', userns], { timeoutMs: HELPER_TIMEOUT_MS });
    rmSync(userns, { force: true });
    rmSync(`${userns}.id`, { force: true });
  }

  /** The first host id no trainee's range uses. */
  private freeId(): number {
    const used = new Set<number>();
    for (const entry of readdirSync(this.dir)) {
      if (entry.endsWith('.id')) used.add(Number(readFileSync(join(this.dir, entry), 'utf8')));
    }
    let id = HOST_ID_BASE;
    while (used.has(id)) id += ID_COUNT;
    return id;
  }
}

/**
 * The program and argv of a contained trainee shell: `nslab-contain shell` joins the cgroups,
 * enters the lab's view and the trainee's namespaces, then execs `shell` (the usual
 * `ip netns exec NODE bash ...`, terminal/shell.ts) as the trainee's root. Of /run/nslab the shell
 * sees only `keep` (its rc file, its lab's control socket): no other lab's or trainee's name; under
 * the sysfs `ip netns exec` mounts, its /sys is an empty network namespace's, not the machine's.
 */
export function containedShellCommand(user: TraineeUser, mountNamespace: string, cgroupProcs: readonly string[], keep: readonly string[], shell: readonly string[]): { file: string; args: string[] } {
  return { file: CONTAIN_PATH, args: ['shell', user.userns, mountNamespace, String(user.hostId), ...cgroupProcs, ...keep.map((file) => `--keep=${file}`), '--', ...shell] };
}

/** Exit status of `nslab-contain owns` when the network namespace belongs to another user namespace. */
const NOT_OWNED = 3;

/**
 * Whether the network namespace file `netns` is owned by the trainee's user namespace. A lab made
 * by a server without containment is the machine's: the trainee's root cannot enter it.
 */
export function ownsNetns(user: TraineeUser, netns: string): boolean {
  try {
    runSync([CONTAIN_PATH, 'owns', user.userns, netns], { timeoutMs: HELPER_TIMEOUT_MS });
    return true;
  } catch (err) {
    if (err instanceof CommandError && err.code === NOT_OWNED) return false;
    throw err;
  }
}
