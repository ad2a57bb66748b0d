/**
 * The usual change feed: one `nslab-nsread watch` process holds, in every followed lab
 * namespace, a socket on the rtnetlink groups (devices, addresses, routes, forwarding)
 * and one on nftables' group (the firewall), and prints "=NAME" when one changed.
 * Nothing is asked of the root namespace, and a namespace is reported by name.
 *
 * Its stdin takes "+NAME" (follow) and "-NAME" (let go); it answers "+NAME" once it
 * listens there, or "!NAME" when it cannot enter the namespace.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { NSREAD_PATH } from '../kernel/nsread';
import { start } from '../kernel/runner';
import type { MonitorSink } from './sink';
import { RESTART_MS } from './sink';

/** How long a caller waits for the watcher to confirm a namespace (it answers in well under 1 ms). */
const WATCH_ACK_MS = 5_000;
/**
 * `ip netns add` creates the file in /run/netns, then mounts the namespace on it; the
 * directory watch fires in between, when the file cannot be entered yet. The watcher
 * is asked again every 20 ms, for up to 2 s, before the namespace is given up.
 */
const FOLLOW_RETRY_MS = 20;
const FOLLOW_RETRIES = 100;

/** The one watcher process of the server, started on first use and restarted if it dies. */
export class NsreadWatch {
  private watcher?: ChildProcess;
  private stopped = false;
  /** Namespaces the watcher follows. */
  private readonly followed = new Set<string>();
  /** Callers waiting for the watcher to say it listens in a namespace ("+NAME" or "!NAME"). */
  private readonly pending = new Map<string, (() => void)[]>();
  /** Namespaces the watcher could not enter yet, and how often it was asked. */
  private readonly retries = new Map<string, number>();

  constructor(private readonly sink: MonitorSink) {}

  /** Follows a namespace; resolves once the watcher listens in it (or cannot enter it). */
  follow(netns: string): Promise<void> {
    this.followed.add(netns);
    const listening = new Promise<void>((ok) => {
      const timer = setTimeout(ok, WATCH_ACK_MS);
      const list = this.pending.get(netns) ?? [];
      list.push(() => { clearTimeout(timer); ok(); });
      this.pending.set(netns, list);
    });
    this.process().stdin?.write(`+${netns}\n`);
    return listening;
  }

  /** Lets go of a namespace (a socket left in it would keep it alive); whoever waits for it goes on. */
  forget(netns: string): void {
    if (this.followed.delete(netns)) this.watcher?.stdin?.write(`-${netns}\n`);
    this.answered(netns);
  }

  /** 1 while the watcher process runs, else 0. */
  running(): number {
    const c = this.watcher;
    return c?.exitCode === null && c.signalCode === null ? 1 : 0;
  }

  /** Ends the watcher for good and releases every caller waiting on it. */
  stop(): void {
    this.stopped = true;
    if (this.watcher?.pid && this.watcher.exitCode === null) this.watcher.kill('SIGTERM');
    this.followed.clear();
    for (const waiting of this.pending.values()) for (const done of waiting) done();
    this.pending.clear();
  }

  /** The watcher, started on first use and restarted (following everything it followed) if it dies. */
  private process(): ChildProcess {
    if (this.watcher) return this.watcher;
    const { child } = start([NSREAD_PATH, 'watch'], { stdin: 'pipe' });
    this.watcher = child;
    child.stdin?.on('error', () => { /* it died: see exit */ });
    child.on('exit', () => {
      if (this.watcher === child) this.watcher = undefined;
      if (this.stopped || this.followed.size === 0) return;
      setTimeout(() => {
        if (this.stopped || this.watcher) return;
        // Followed again and, once listened to, reported changed: what changed while nobody listened is read.
        for (const netns of [...this.followed]) {
          this.follow(netns).then(() => this.sink.changed(netns)).catch((err: unknown) => {
            console.error(`nslab: following ${netns} again after the watcher restarted failed: ${err instanceof Error ? err.message : String(err)}`);
          });
        }
      }, RESTART_MS);
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.onLine(line));
    return child;
  }

  private onLine(line: string): void {
    const sign = line[0];
    const netns = line.slice(1);
    if (sign === '!' && this.followed.has(netns) && !this.stopped) {
      // It cannot be entered: not mounted yet (ask again soon), or gone (the /run/netns watch says so).
      const tries = (this.retries.get(netns) ?? 0) + 1;
      if (tries <= FOLLOW_RETRIES) {
        this.retries.set(netns, tries);
        setTimeout(() => { if (this.followed.has(netns)) this.watcher?.stdin?.write(`+${netns}\n`); }, FOLLOW_RETRY_MS).unref();
        return;
      }
      this.followed.delete(netns);
    }
    if (sign === '+' || sign === '!') {
      this.answered(netns);
    } else if (sign === '=' && this.followed.has(netns)) {
      this.sink.changed(netns);
    }
  }

  /** The watcher answered for a namespace (or it is forgotten): whoever waits for it goes on. */
  private answered(netns: string): void {
    this.retries.delete(netns);
    for (const done of this.pending.get(netns) ?? []) done();
    this.pending.delete(netns);
  }
}
