/**
 * A lab's view of /run/netns: one private mount namespace per lab in which /run/netns is a small
 * tmpfs holding the lab's nodes under their topology names (ns1, ns2, host), each a bind mount of
 * the kernel namespace file /run/netns/nslab.<lab>.<node>. Every shell of the lab runs inside it
 * (shell.ts), so `ip netns list` shows the lab's nodes and `ip netns exec ns1 ...` works exactly
 * as in the tutorials, and two labs never see each other.
 *
 * The namespace is held by a `cat` started (kernel/runner.ts `start`) under `unshare --mount
 * --propagation private`; it has the runner's parent-death signal and its stdin is a pipe from the
 * server, so if the server dies cat exits and the mount namespace goes away with the last shell in
 * it (node-pty's shells get SIGHUP at the same time). Helper commands (nsenter, mount) go through
 * the runner's `run`; a failure is a TerminalError whose cause is the runner's CommandError.
 *
 * Setup, all argv, no shell strings: (1) lazily unmount the /run/netns inherited from the root
 * mount namespace (its copies of every nsfs mount would otherwise keep every namespace on the
 * machine alive while the view lives, even after `ip netns del`); (2) mount a tmpfs on /run/netns
 * and make it shared, so binds added later propagate into the shells' own mount namespaces
 * (`ip netns exec` makes each shell a slave copy); (3) bind each node's namespace file, reached
 * through /proc/<server pid>/root (the kernel allows binding nsfs files across mount namespaces).
 * `sync` adds new nodes and unmounts deleted ones, so the view never pins a deleted namespace.
 *
 * Namespaces made and deleted from a lab shell
 * - `ip netns add X` and `ip netns delete X` typed in a lab shell (or in `nslab exec`) reach the
 *   lab, not this view: shell-bin/ip sends them over the lab's control socket (control.ts), the
 *   server makes or deletes nslab.<lab>.X and `sync` binds or unbinds X here before the shell's ip
 *   returns, so every shell of the lab can use X at once and the canvas shows it.
 * - The real ip run directly (/sbin/ip netns add X, or under sudo, which resets PATH) still makes a
 *   namespace that only that shell's mount namespace sees, and dies with it; `ip netns del` of a
 *   lab node done that way only removes the name from the view, and the next `sync` puts it back.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NETNS_DIR } from '../kernel/observe';
import { CommandError, run, start } from '../kernel/runner';
import { TerminalError, terminalMessages } from './errors';

/** Helper commands (nsenter, mount) finish in milliseconds; 5 s means something is stuck. */
const COMMAND_TIMEOUT_MS = 5_000;

/** How long the holder may take to unshare and exec cat (measured: about 5 ms). */
const HOLDER_START_TIMEOUT_MS = 3_000;

/** Binds made at once when a view is filled: a 100-node lab is filled in 13 rounds, not 100. */
const BIND_PARALLELISM = 8;

/** argv of the process that holds a lab's mount namespace. */
export function holderArgv(): string[] {
  return ['unshare', '--mount', '--propagation', 'private', '--', 'cat'];
}

/** argv that runs `argv` inside the mount namespace at `mountNamespace`. */
export function inMountNamespace(mountNamespace: string, argv: readonly string[]): string[] {
  return ['nsenter', `--mount=${mountNamespace}`, '--', ...argv];
}

/** argv of the tmpfs that replaces /run/netns in a lab's view (1 MiB: it holds only empty files). */
export function tmpfsArgv(lab: string): string[] {
  return ['mount', '-t', 'tmpfs', '-o', 'mode=0755,size=1m', `nslab-${lab}`, NETNS_DIR];
}

/** argv that binds the kernel namespace file `netns` (seen from `serverPid`'s root) to /run/netns/<node>. */
export function bindArgv(serverPid: number, netns: string, node: string): string[] {
  return ['mount', '--bind', `/proc/${serverPid}/root${NETNS_DIR}/${netns}`, `${NETNS_DIR}/${node}`];
}

/**
 * Runs one helper command through the runner. Its CommandError (argv, exit code, stderr) is
 * carried as the cause of the TerminalError the terminal's callers map to HTTP and show.
 */
async function helper(argv: readonly string[]): Promise<void> {
  try {
    await run(argv, { timeoutMs: COMMAND_TIMEOUT_MS });
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new TerminalError('command', terminalMessages.command(argv, error.stderr), { argv, exitCode: error.code, stderr: error.stderr, cause: error });
  }
}

/** The inode of a namespace file (the namespace's id), or undefined when the file is gone. */
export function netnsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Mount points of a process's mount namespace, unescaped (proc(5) mountinfo, field 5). */
function mountPoints(pid: number): string[] {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

/** One lab's private mount namespace and the nodes bound in it. */
export class LabView {
  /** node -> inode of the namespace bound at /run/netns/<node>. */
  private readonly bound = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();
  private exited = false;

  private constructor(
    readonly lab: string,
    private readonly holder: ChildProcess,
    /** Pid of the holder: the view is /proc/<pid>/ns/mnt. */
    readonly pid: number,
  ) {
    holder.once('exit', () => {
      this.exited = true;
    });
  }

  /** Starts the holder and prepares an empty /run/netns in it; nodes are added by `sync`. */
  static async create(lab: string): Promise<LabView> {
    const argv = holderArgv();
    // Also dies with the server through the runner's parent-death signal (setpriv execs unshare, which execs cat: one pid).
    const started = start(argv, { stdin: 'pipe', stdout: 'ignore' });
    const holder = started.child;
    const pid = await new Promise<number>((resolve, reject) => {
      void started.ended.then((cause) => {
        if (cause) reject(new TerminalError('command', terminalMessages.command(argv, cause.message), { lab, argv, cause }));
      });
      holder.once('spawn', () => resolve(holder.pid as number));
    });
    // The server must not wait for cat to exit: unref the process and its stdin and stderr pipes.
    holder.unref();
    for (const pipe of [holder.stdin, holder.stderr]) (pipe as unknown as { unref?: () => void } | null)?.unref?.();
    const view = new LabView(lab, holder, pid);
    try {
      await view.waitUntilUnshared();
      await view.prepare();
    } catch (error) {
      await view.close();
      throw error;
    }
    return view;
  }

  /** Path of the mount namespace, for nsenter --mount. */
  get mountNamespace(): string {
    return `/proc/${this.pid}/ns/mnt`;
  }

  /** False once the holder has exited (the view must then be recreated). */
  get alive(): boolean {
    return !this.exited;
  }

  /** The nodes currently bound in the view. */
  nodes(): string[] {
    return [...this.bound.keys()];
  }

  /**
   * Makes /run/netns in the view hold exactly `nodes` (node -> kernel namespace name): binds new
   * ones, unmounts deleted or replaced ones. Calls are serialised. A node that vanishes meanwhile
   * is skipped; the returned list says which nodes could not be bound, with why.
   */
  sync(nodes: ReadonlyMap<string, string>): Promise<Map<string, TerminalError>> {
    const result = this.queue.then(() => this.doSync(nodes));
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Ends the holder and resolves once it is reaped; the namespace goes away with the last shell in it. */
  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    const reaped = new Promise<void>((resolve) => this.holder.once('exit', () => resolve()));
    this.holder.ref(); // a caller awaiting this must not see the event loop end first (nslab exec)
    this.holder.stdin?.destroy(); // EOF: cat exits by itself
    this.holder.kill('SIGKILL'); // and in case it does not: ChildProcess.kill signals the pid only while it is unreaped
    return reaped;
  }

  private async waitUntilUnshared(): Promise<void> {
    const ours = readlinkSync('/proc/self/ns/mnt');
    const deadline = Date.now() + HOLDER_START_TIMEOUT_MS;
    for (;;) {
      if (this.exited) throw new TerminalError('command', terminalMessages.command(holderArgv(), 'exited at once'), { lab: this.lab, argv: holderArgv() });
      try {
        // cat runs only after unshare has made the namespace private, so comm == cat means ready.
        const comm = readFileSync(`/proc/${this.pid}/comm`, 'utf8').trim();
        if (comm === 'cat' && readlinkSync(this.mountNamespace) !== ours) return;
      } catch {
        // not readable yet
      }
      if (Date.now() > deadline) {
        throw new TerminalError('command', terminalMessages.command(holderArgv(), 'did not start in time'), { lab: this.lab, argv: holderArgv() });
      }
      await sleep(2);
    }
  }

  private async prepare(): Promise<void> {
    const ns = this.mountNamespace;
    // Detach the inherited /run/netns (and every nsfs mount under it). Unmounting the shallowest
    // mount point detaches everything below it, so this loop normally runs once.
    for (let round = 0; round < 16; round++) {
      const under = mountPoints(this.pid).filter((p) => p === NETNS_DIR || p.startsWith(`${NETNS_DIR}/`));
      const shallowest = under.sort((a, b) => a.length - b.length)[0];
      if (shallowest === undefined) break;
      await helper(inMountNamespace(ns, ['umount', '--lazy', shallowest]));
    }
    await helper(inMountNamespace(ns, tmpfsArgv(this.lab)));
    await helper(inMountNamespace(ns, ['mount', '--make-shared', NETNS_DIR]));
  }

  private viewPath(node: string): string {
    return `/proc/${this.pid}/root${NETNS_DIR}/${node}`;
  }

  private async unbind(node: string): Promise<void> {
    this.bound.delete(node);
    await helper(inMountNamespace(this.mountNamespace, ['umount', '--lazy', `${NETNS_DIR}/${node}`])).catch(() => undefined);
    try {
      unlinkSync(this.viewPath(node));
    } catch {
      // already gone
    }
  }

  private async bind(node: string, netns: string): Promise<void> {
    const inode = netnsInode(`${NETNS_DIR}/${netns}`);
    if (inode === undefined) throw new TerminalError('no-namespace', terminalMessages.noNamespace(this.lab, node), { lab: this.lab, node });
    writeFileSync(this.viewPath(node), '', { flag: 'a', mode: 0o444 });
    try {
      await helper(inMountNamespace(this.mountNamespace, bindArgv(process.pid, netns, node)));
    } catch (error) {
      try {
        unlinkSync(this.viewPath(node));
      } catch {
        // nothing to remove
      }
      throw error;
    }
    this.bound.set(node, inode);
  }

  private async doSync(nodes: ReadonlyMap<string, string>): Promise<Map<string, TerminalError>> {
    if (this.exited) throw new TerminalError('command', terminalMessages.command(holderArgv(), 'the lab view has ended'), { lab: this.lab });
    for (const [node, inode] of [...this.bound]) {
      const netns = nodes.get(node);
      // Rebind when the node is gone or replaced in the kernel, or when its name was removed from
      // the view itself (`ip netns del ns1` typed in a lab shell unlinks it from the shared tmpfs).
      const stale = netns === undefined || netnsInode(`${NETNS_DIR}/${netns}`) !== inode || netnsInode(this.viewPath(node)) !== inode;
      if (stale) await this.unbind(node);
    }
    const failures = new Map<string, TerminalError>();
    const todo = [...nodes].filter(([node]) => !this.bound.has(node));
    for (let i = 0; i < todo.length; i += BIND_PARALLELISM) {
      await Promise.all(
        todo.slice(i, i + BIND_PARALLELISM).map(([node, netns]) =>
          this.bind(node, netns).catch((error: unknown) => {
            failures.set(node, error instanceof TerminalError ? error : new TerminalError('command', String(error), { lab: this.lab, node, cause: error }));
          }),
        ),
      );
    }
    return failures;
  }
}
