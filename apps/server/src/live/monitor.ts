/**
 * The kernel's change feeds, as one stream of "this namespace changed" signals, and a
 * watch on /run/netns for namespaces coming and going.
 *
 * With nslab-nsread (the usual case): one `nslab-nsread watch` process holds, in every
 * lab namespace, a socket on the rtnetlink groups (devices, addresses, routes,
 * forwarding) and one on nftables' group (the firewall). Nothing is asked of the root
 * namespace, and a namespace is reported by name, not by an nsid.
 *
 * Without it: one `ip monitor all-nsid` for every lab namespace (each gets an nsid in
 * the root namespace, `ip netns set NAME auto`), and `nft monitor` per namespace of a
 * watched lab for firewall changes.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { createInterface } from 'node:readline';
import { batchLine } from '../kernel/batch';
import { NSREAD_PATH } from '../kernel/nsread';
import { NETNS_DIR, reader } from '../kernel/observe';
import { dieWithParent, run } from '../kernel/runner';

/** What the monitors report: a namespace (by kernel name) changed, or the set of namespaces did. */
export interface MonitorSink {
  changed(netns: string): void;
  namespacesChanged(): void;
}

/** How long a caller waits for the watcher to confirm a namespace (it answers in well under 1 ms). */
const WATCH_ACK_MS = 5_000;
/** A monitor process that died is started again after this long: events must keep flowing. */
const RESTART_MS = 500;
/**
 * `ip netns add` creates the file in /run/netns, then mounts the namespace on it; the
 * directory watch fires in between, when the file cannot be entered yet. The watcher
 * is asked again every 20 ms, for up to 2 s, before the namespace is given up.
 */
const FOLLOW_RETRY_MS = 20;
const FOLLOW_RETRIES = 100;

/** The kernel feeds for the whole server: one process with the helper, else one plus one `nft monitor` per watched namespace. */
export class KernelMonitor {
  private readonly helper = reader() === 'nsread';
  private dirWatch?: FSWatcher;
  private stopped = false;

  // With the helper.
  private watcher?: ChildProcess;
  /** Namespaces the watcher follows. */
  private readonly followed = new Set<string>();
  /** Callers waiting for the watcher to say it listens in a namespace ("+NAME" or "!NAME"). */
  private readonly pending = new Map<string, (() => void)[]>();
  /** Namespaces the watcher could not enter yet, and how often it was asked. */
  private readonly retries = new Map<string, number>();

  // Without it.
  private ip?: ChildProcess;
  private readonly nft = new Map<string, ChildProcess>();
  /** Namespaces waiting for an nsid, given out together in one `ip -batch`. */
  private readonly idQueue = new Set<string>();
  private idBatch?: Promise<void>;
  private nsids = new Map<number, string>();
  private refreshingIds?: Promise<void>;
  /** Bumped whenever the kernel gives out or frees an nsid, so a read of the ids that raced with it is redone. */
  private nsidEpoch = 0;

  constructor(private readonly sink: MonitorSink) {}

  /** Starts the /run/netns watch, and `ip monitor all-nsid` when there is no helper (the helper starts on first use). */
  start(): void {
    if (!this.helper) this.startIpMonitor();
    if (this.dirWatch) return;
    try {
      this.dirWatch = watch(NETNS_DIR, () => this.sink.namespacesChanged());
    } catch {
      // /run/netns does not exist until the first `ip netns add`: poll for it rarely.
      const timer = setInterval(() => {
        if (this.stopped) return clearInterval(timer);
        try {
          this.dirWatch = watch(NETNS_DIR, () => this.sink.namespacesChanged());
          clearInterval(timer);
          this.sink.namespacesChanged();
        } catch { /* not yet */ }
      }, 1000);
    }
  }

  /**
   * Reports this namespace's device, address, route and forwarding changes from now on
   * (every lab namespace is followed, watched or not: a marker set on lo changes the
   * list of labs). Resolves once a change can no longer be missed.
   */
  async follow(netns: string): Promise<void> {
    if (this.stopped) return;
    if (this.helper) return this.followWithHelper(netns);
    await this.assignNsid(netns);
  }

  /** Follows a namespace and its firewall (for labs someone watches). */
  async watchNetns(netns: string): Promise<void> {
    await this.follow(netns);
    // The helper follows every firewall already.
    if (this.helper || this.nft.has(netns) || this.stopped) return;
    // nft monitor gives no sign of when it listens: a change in its first moments shows with the next event.
    const [cmd, ...args] = dieWithParent(['ip', 'netns', 'exec', netns, 'nft', 'monitor', 'rules']);
    const child = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.nft.set(netns, child);
    child.on('error', () => { /* nft missing: firewall changes are picked up on the next other event */ });
    child.on('exit', () => { if (this.nft.get(netns) === child) this.nft.delete(netns); });
    createInterface({ input: child.stdout }).on('line', () => this.sink.changed(netns));
  }

  /** Stops watching a namespace's firewall (its lab is no longer watched); it is still followed. */
  unwatchNetns(netns: string): void {
    this.stopNft(netns);
  }

  /** The namespace is gone: let go of it entirely (a socket left in it would keep it alive). */
  forget(netns: string): void {
    this.stopNft(netns);
    if (this.followed.delete(netns)) this.watcher?.stdin?.write(`-${netns}\n`);
    this.answered(netns);
  }

  /** How many monitor processes run now (for the benchmark's report). */
  processCount(): number {
    const running = (c?: ChildProcess) => (c?.exitCode === null && c.signalCode === null ? 1 : 0);
    return running(this.ip) + running(this.watcher) + this.nft.size;
  }

  /** Ends every monitor process this object started. */
  stop(): void {
    this.stopped = true;
    this.dirWatch?.close();
    for (const c of [this.ip, this.watcher]) if (c?.pid && c.exitCode === null) c.kill('SIGTERM');
    for (const netns of [...this.nft.keys()]) this.stopNft(netns);
    this.followed.clear();
    for (const waiting of this.pending.values()) for (const done of waiting) done();
    this.pending.clear();
  }

  private stopNft(netns: string): void {
    const child = this.nft.get(netns);
    this.nft.delete(netns);
    if (child?.pid) child.kill('SIGTERM');
  }

  // --- with the helper -------------------------------------------------------------

  private followWithHelper(netns: string): Promise<void> {
    this.followed.add(netns);
    const listening = new Promise<void>((ok) => {
      const timer = setTimeout(ok, WATCH_ACK_MS);
      const list = this.pending.get(netns) ?? [];
      list.push(() => { clearTimeout(timer); ok(); });
      this.pending.set(netns, list);
    });
    this.helperProcess().stdin?.write(`+${netns}\n`);
    return listening;
  }

  /** The watcher, started on first use and restarted (following everything it followed) if it dies. */
  private helperProcess(): ChildProcess {
    if (this.watcher) return this.watcher;
    const [cmd, ...args] = dieWithParent([NSREAD_PATH, 'watch']);
    const child = spawn(cmd as string, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    this.watcher = child;
    child.stdin.on('error', () => { /* it died: see exit */ });
    child.on('error', () => { /* reported by exit */ });
    child.on('exit', () => {
      if (this.watcher === child) this.watcher = undefined;
      if (this.stopped || this.followed.size === 0) return;
      setTimeout(() => {
        if (this.stopped || this.watcher) return;
        // Followed again and, once listened to, reported changed: what changed while nobody listened is read.
        for (const netns of [...this.followed]) {
          this.followWithHelper(netns).then(() => this.sink.changed(netns)).catch((err: unknown) => {
            console.error(`nslab: following ${netns} again after the watcher restarted failed: ${err instanceof Error ? err.message : String(err)}`);
          });
        }
      }, RESTART_MS);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
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
    });
    return child;
  }

  /** The watcher answered for a namespace (or it is forgotten): whoever waits for it goes on. */
  private answered(netns: string): void {
    this.retries.delete(netns);
    for (const done of this.pending.get(netns) ?? []) done();
    this.pending.delete(netns);
  }

  // --- without it ------------------------------------------------------------------

  private startIpMonitor(): void {
    const [cmd, ...args] = dieWithParent(['ip', 'monitor', 'all-nsid']);
    const ip = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.ip = ip;
    ip.on('error', () => { /* reported by exit */ });
    ip.on('exit', () => {
      if (!this.stopped) setTimeout(() => this.startIpMonitor(), RESTART_MS);
    });
    createInterface({ input: ip.stdout }).on('line', (line) => this.onLine(line));
  }

  private onLine(line: string): void {
    // The kernel hands a freed nsid to the next namespace that needs one: forget an id as soon as it changes hands.
    const idChange = /^\[nsid current\](?:Deleted )?nsid (\d+)/.exec(line);
    if (idChange) {
      this.nsids.delete(Number(idChange[1]));
      this.nsidEpoch += 1;
      return;
    }
    const m = /^\[nsid (\d+)\]/.exec(line);
    if (!m) return;
    const nsid = Number(m[1]);
    const netns = this.nsids.get(nsid);
    if (netns) this.sink.changed(netns);
    else {
      this.refreshNsids().then(() => {
        const name = this.nsids.get(nsid);
        if (name) this.sink.changed(name);
      }).catch((err: unknown) => {
        // This event is lost; the ids are read again on the next event of an unknown nsid.
        console.error(`nslab: reading namespace ids failed: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
  }

  /**
   * Reads nsid -> name with `ip netns list`, which asks the id of each named namespace. Not `ip netns
   * list-id`: that is one kernel dump, and here it stops after about a page (134 of 331 ids), so the ids
   * of later namespaces were never found and their events were dropped.
   */
  private refreshNsids(): Promise<void> {
    this.refreshingIds ??= (async () => {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const epoch = this.nsidEpoch;
        const r = await run(['ip', '-j', 'netns', 'list'], { allowFailure: true });
        const list = r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as { name: string; id?: number }[]) : [];
        this.nsids = new Map(list.filter((e) => e.id !== undefined).map((e) => [e.id as number, e.name]));
        if (epoch === this.nsidEpoch) return;
      }
    })().finally(() => { this.refreshingIds = undefined; });
    return this.refreshingIds;
  }

  /**
   * Makes a namespace's events visible to `ip monitor all-nsid`, which reports by nsid.
   * Calls made together (a lab of 300 coming into view) share one `ip -batch`.
   */
  private async assignNsid(netns: string): Promise<void> {
    this.idQueue.add(netns);
    this.idBatch ??= new Promise<void>((ok) => setImmediate(ok)).then(async () => {
      const names = [...this.idQueue];
      this.idQueue.clear();
      this.idBatch = undefined;
      // -force: a namespace deleted meanwhile fails its line, not the others.
      const lines = names.map((n) => batchLine(['netns', 'set', n, 'auto']) + '\n').join('');
      await run(['ip', '-force', '-batch', '-'], { input: lines, allowFailure: true });
      await this.refreshNsids();
    });
    await this.idBatch;
  }
}
