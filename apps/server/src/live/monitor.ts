/**
 * The kernel's change feeds, as one stream of "this namespace changed" signals:
 * one `ip monitor all-nsid` for every lab namespace (each gets an nsid in the root
 * namespace, `ip netns set NAME auto`), one `nslab-nsread watch` for the firewall of
 * every watched namespace (or, where the helper is not built, `nft monitor` per
 * namespace), and a watch on /run/netns for namespaces coming and going.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { createInterface } from 'node:readline';
import { batchLine } from '../kernel/apply';
import { NSREAD_PATH } from '../kernel/nsread';
import { NETNS_DIR, reader } from '../kernel/observe';
import { dieWithParent, run } from '../kernel/runner';

/** What the monitors report: a namespace (by kernel name) changed, or the set of namespaces did. */
export interface MonitorSink {
  changed(netns: string): void;
  namespacesChanged(): void;
}

/** How long a caller waits for the firewall watcher to confirm a namespace (it answers in well under 1 ms). */
const FIREWALL_ACK_MS = 5_000;

/** The kernel feeds for the whole server: a fixed number of processes (plus one `nft monitor` per watched namespace without the helper). */
export class KernelMonitor {
  private ip?: ChildProcess;
  private dirWatch?: FSWatcher;
  /** The one firewall watcher (nslab-nsread watch) and the namespaces it watches. */
  private firewall?: ChildProcess;
  private readonly firewallWatched = new Set<string>();
  /** Callers waiting for the watcher to say it listens in a namespace ("+NAME" or "!NAME"). */
  private readonly firewallPending = new Map<string, (() => void)[]>();
  /** Without the helper: one `nft monitor` per watched namespace. */
  private readonly nft = new Map<string, ChildProcess>();
  /** Namespaces waiting for an nsid, given out together in one `ip -batch`. */
  private readonly idQueue = new Set<string>();
  private idBatch?: Promise<void>;
  private nsids = new Map<number, string>();
  private refreshingIds?: Promise<void>;
  /** Bumped whenever the kernel gives out or frees an nsid, so a read of the ids that raced with it is redone. */
  private nsidEpoch = 0;
  private stopped = false;

  constructor(private readonly sink: MonitorSink) {}

  /** Starts `ip monitor all-nsid` and the /run/netns watch. */
  start(): void {
    const [cmd, ...args] = dieWithParent(['ip', 'monitor', 'all-nsid']);
    const ip = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.ip = ip;
    ip.on('error', () => { /* reported by exit */ });
    ip.on('exit', () => {
      if (!this.stopped) setTimeout(() => this.start(), 500); // restarted: events must keep flowing
    });
    const lines = createInterface({ input: ip.stdout });
    lines.on('line', (line) => this.onLine(line));
    if (!this.dirWatch) {
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
    else void this.refreshNsids().then(() => {
      const name = this.nsids.get(nsid);
      if (name) this.sink.changed(name);
    });
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
   * Makes a namespace's link, address, route and netconf events visible to `ip monitor
   * all-nsid`. Calls made together (a lab of 300 coming into view) share one `ip -batch`.
   */
  async assignNsid(netns: string): Promise<void> {
    if (this.stopped) return;
    this.idQueue.add(netns);
    this.idBatch ??= new Promise<void>((ok) => setImmediate(ok)).then(async () => {
      const names = [...this.idQueue];
      this.idQueue.clear();
      this.idBatch = undefined;
      // An nsid in the root namespace is what all-nsid reports by (a no-op if it has one);
      // -force: a namespace deleted meanwhile fails its line, not the others.
      const lines = names.map((n) => batchLine(['netns', 'set', n, 'auto']) + '\n').join('');
      await run(['ip', '-force', '-batch', '-'], { input: lines, allowFailure: true });
      await this.refreshNsids();
    });
    await this.idBatch;
  }

  /** Watches a namespace's firewall (only for labs someone watches). */
  async watchNetns(netns: string): Promise<void> {
    if (this.nft.has(netns) || this.firewallWatched.has(netns) || this.stopped) return;
    await this.assignNsid(netns);
    if (this.nft.has(netns) || this.firewallWatched.has(netns) || this.stopped) return;
    if (reader() === 'nsread') {
      this.firewallWatched.add(netns);
      // Resolves once the watcher listens there: a change made after this is never missed.
      const listening = new Promise<void>((ok) => {
        const timer = setTimeout(ok, FIREWALL_ACK_MS);
        const list = this.firewallPending.get(netns) ?? [];
        list.push(() => { clearTimeout(timer); ok(); });
        this.firewallPending.set(netns, list);
      });
      this.firewallWatcher().stdin?.write(`+${netns}\n`);
      await listening;
      return;
    }
    // nft monitor gives no sign of when it listens: a change in its first moments shows with the next event.
    const [cmd, ...args] = dieWithParent(['ip', 'netns', 'exec', netns, 'nft', 'monitor', 'rules']);
    const child = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.nft.set(netns, child);
    child.on('error', () => { /* nft missing: firewall changes are picked up on the next other event */ });
    child.on('exit', () => { if (this.nft.get(netns) === child) this.nft.delete(netns); });
    createInterface({ input: child.stdout }).on('line', () => this.sink.changed(netns));
  }

  /** The firewall watcher, started on first use and restarted (with every namespace it watched) if it dies. */
  private firewallWatcher(): ChildProcess {
    if (this.firewall) return this.firewall;
    const [cmd, ...args] = dieWithParent([NSREAD_PATH, 'watch']);
    const child = spawn(cmd as string, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    this.firewall = child;
    child.stdin.on('error', () => { /* it died: see exit */ });
    child.on('error', () => { /* reported by exit */ });
    child.on('exit', () => {
      if (this.firewall === child) this.firewall = undefined;
      if (this.stopped || this.firewallWatched.size === 0) return;
      setTimeout(() => {
        if (this.stopped || this.firewall) return;
        const watcher = this.firewallWatcher();
        for (const netns of this.firewallWatched) watcher.stdin?.write(`+${netns}\n`);
      }, 500);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const sign = line[0];
      if (sign === '+' || sign === '!') {
        const netns = line.slice(1);
        // "!NAME": it cannot be watched (it is gone); the /run/netns watch reports the rest.
        if (sign === '!') this.firewallWatched.delete(netns);
        for (const done of this.firewallPending.get(netns) ?? []) done();
        this.firewallPending.delete(netns);
      } else if (sign === '=' && this.firewallWatched.has(line.slice(1))) {
        this.sink.changed(line.slice(1));
      }
    });
    return child;
  }

  /** Stops watching a namespace's firewall (its lab is no longer watched, or it is gone). */
  unwatchNetns(netns: string): void {
    // The watcher must let go of the namespace: its socket would keep a deleted namespace alive.
    if (this.firewallWatched.delete(netns)) this.firewall?.stdin?.write(`-${netns}\n`);
    const child = this.nft.get(netns);
    this.nft.delete(netns);
    if (child?.pid) child.kill('SIGTERM');
  }

  /** How many monitor processes run now (for the benchmark's report). */
  processCount(): number {
    const running = (c?: ChildProcess) => (c?.exitCode === null && c.signalCode === null ? 1 : 0);
    return running(this.ip) + running(this.firewall) + this.nft.size;
  }

  /** Ends every monitor process this object started. */
  stop(): void {
    this.stopped = true;
    this.dirWatch?.close();
    if (this.ip?.pid && this.ip.exitCode === null) this.ip.kill('SIGTERM');
    for (const netns of [...this.nft.keys()]) this.unwatchNetns(netns);
    this.firewallWatched.clear();
    if (this.firewall?.pid && this.firewall.exitCode === null) this.firewall.kill('SIGTERM');
  }
}
