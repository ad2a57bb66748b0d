/**
 * The live state of watched labs: a snapshot read from the kernel when the first
 * client subscribes, then patches as the kernel changes. Change signals are coalesced:
 * namespaces marked dirty while a read is in flight are read together in the next
 * round, so a 100-namespace apply is a handful of patches, not thousands.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Change, Topology } from '@nslab/model';
import { diffTopology, netnsName, parseNetnsName } from '@nslab/model';
import type { NamespaceReading } from '../kernel/iproute';
import { assemble, listLabs, listNetns, NETNS_DIR, observeLab, readNamespaces } from '../kernel/observe';
import type { LabSummary, OwnerCache } from '../kernel/observe';
import { KernelMonitor } from './monitor';

/** What a feed may be given instead of its defaults (tests give a reader that fails). */
export interface FeedOptions {
  /** Reads a whole lab from the kernel (default observeLab). */
  observe?: typeof observeLab;
  /** Where a failure nobody asked for is reported, once per failure (default console.error). */
  log?: (line: string) => void;
}

/** What the feed tells the server. */
export interface FeedListener {
  patch(lab: string, changes: Change[]): void;
  labs(labs: LabSummary[]): void;
}

interface Watched {
  readings: Map<string, NamespaceReading>;
  topology: Topology;
  dirty: Set<string>;
  /** Failed reads in a row, by node. */
  failures: Map<string, number>;
  ready: Promise<void>;
  /** True once the first reading is in: before that `topology` is an empty placeholder. */
  loaded: boolean;
  /** Nodes whose firewall the monitor watches (every namespace named for the lab, owned or not yet). */
  firewalls: Set<string>;
  /** Read rounds of this lab started and finished (a round reads every node dirty when it starts). */
  started: number;
  finished: number;
  /** Callers of `refresh` waiting for a round that began after they asked. */
  waiters: Waiter[];
  /**
   * Readings handed over by whoever made the node (addNode's helper reads it from inside once made),
   * used by the next round instead of a read of its own. A kernel event for the node drops its
   * reading: what changed after it was taken is read again.
   */
  given: Map<string, NamespaceReading>;
}

/** A refresh in wait: done once round `round` has finished and none of `nodes` is waiting to be read again. */
interface Waiter { round: number; nodes: string[]; resolve: () => void }

/**
 * The namespaces in /run/netns, each with its identity: the inode behind the name (the
 * namespace's once mounted), so that a name deleted and made again reads as new.
 */
async function identities(): Promise<Map<string, string>> {
  const names = await listNetns();
  const inodes = await Promise.all(names.map((n) => stat(join(NETNS_DIR, n)).then((st) => String(st.ino), () => '')));
  return new Map(names.map((n, i) => [n, inodes[i] ?? '']));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A namespace read that failed: not the same as one that found the namespace gone. */
const FAILED = 'failed' as const;
/** Reads of one namespace that may fail in a row before it is dropped from the lab's view. */
const READ_RETRIES = 5;
/** Wait before reading a namespace again after a failed read: long enough not to spin on a busy machine. */
const READ_RETRY_MS = 200;

/** How long to gather /run/netns changes before listing labs again: one apply adds many namespaces at once. */
const LABS_DEBOUNCE_MS = 100;

/** Live lab state for the whole server. */
export class LabFeed {
  private readonly monitor: KernelMonitor;
  private readonly watched = new Map<string, Watched>();
  private flushing = false;
  private flushAgain = false;
  private scanning = false;
  private scanAgain = false;
  private stopped = false;
  /** Listings started and the latest one applied: an older listing that finishes late must not overwrite a newer one. */
  private listingsStarted = 0;
  private listingApplied = 0;
  private labsTimer?: NodeJS.Timeout;
  private labList: LabSummary[] = [];
  private readonly owners: OwnerCache = new Map();
  /** Every namespace in /run/netns at the last scan, with its identity (see identities). */
  private known = new Map<string, string>();

  private readonly observe: typeof observeLab;
  private readonly log: (line: string) => void;

  constructor(private readonly listener: FeedListener, options: FeedOptions = {}) {
    this.observe = options.observe ?? observeLab;
    this.log = options.log ?? ((line) => console.error(line));
    this.monitor = new KernelMonitor({
      changed: (netns) => this.onChanged(netns),
      namespacesChanged: () => this.onNamespacesChanged(),
    });
  }

  /** Starts the monitors and reads the list of labs. */
  async start(): Promise<void> {
    this.monitor.start();
    this.known = await identities();
    // Every lab namespace is followed (a marker set on lo changes the list of labs); new ones as they come.
    await Promise.all([...this.known.keys()].filter((n) => parseNetnsName(n) !== undefined).map((n) => this.monitor.follow(n).catch(() => undefined)));
    this.labList = await listLabs(this.owners);
  }

  /** The labs on this machine, as last listed. */
  labs(): LabSummary[] {
    return this.labList;
  }

  /** Re-lists labs now (after an apply or destroy) and tells the listener if the list changed. */
  async refreshLabs(): Promise<LabSummary[]> {
    const started = (this.listingsStarted += 1);
    const labs = await listLabs(this.owners);
    if (started < this.listingApplied) return this.labList;
    this.listingApplied = started;
    if (JSON.stringify(labs) !== JSON.stringify(this.labList)) {
      this.labList = labs;
      this.listener.labs(labs);
    }
    return labs;
  }

  /** Starts watching a lab (idempotent) and resolves with its current state. */
  async watch(lab: string): Promise<Topology> {
    let w = this.watched.get(lab);
    if (!w) {
      const entry: Watched = {
        readings: new Map(), topology: { name: lab, nodes: {}, links: [] }, dirty: new Set(), failures: new Map(),
        ready: Promise.resolve(), loaded: false, firewalls: new Set(), started: 0, finished: 0, waiters: [], given: new Map(),
      };
      entry.ready = (async () => {
        // Firewalls are watched before the first read, so that no change falls between the two.
        const nodes = (await listNetns()).flatMap((n) => {
          const parsed = parseNetnsName(n);
          return parsed?.lab === lab ? [parsed.node] : [];
        });
        await Promise.all(nodes.map((node) => this.watchFirewall(lab, entry, node)));
        const reading = await this.observe(lab);
        entry.readings = reading.readings;
        entry.topology = reading.topology;
        entry.loaded = true;
      })();
      // A first read that failed is not remembered: the watch is dropped, the caller is told
      // (the client gets an error), and the next subscribe reads again.
      entry.ready.catch(() => {
        if (this.watched.get(lab) !== entry) return;
        this.watched.delete(lab);
        for (const node of entry.firewalls) this.monitor.unwatchNetns(netnsName(lab, node));
      });
      this.watched.set(lab, entry);
      w = entry;
    }
    await w.ready;
    return w.topology;
  }

  /**
   * Reads these nodes of a watched lab again and resolves once the lab's state (and the patch
   * sent to its clients) includes that read: after a change, the next edit plans against a
   * state that has it (a client reads its own writes). Undefined when the lab is not watched.
   * `readings` (by node) were taken from the kernel after the change and stand for a read of those
   * nodes, unless a kernel event for one of them is already waiting to be read.
   */
  async refresh(lab: string, nodes: readonly string[], readings?: ReadonlyMap<string, NamespaceReading>): Promise<Topology | undefined> {
    const w = this.watched.get(lab);
    if (!w) return undefined;
    await w.ready;
    if (this.watched.get(lab) !== w) return undefined;
    await new Promise<void>((resolve) => {
      for (const [node, reading] of readings ?? []) if (!w.dirty.has(node)) w.given.set(node, reading);
      w.waiters.push({ round: w.started + 1, nodes: [...nodes], resolve });
      for (const node of nodes) w.dirty.add(node);
      this.scheduleFlush();
    });
    return this.watched.get(lab) === w ? w.topology : undefined;
  }

  /** Settles the refreshes whose round is read, unless a node of theirs failed and waits for a retry. */
  private settle(w: Watched, all = false): void {
    w.waiters = w.waiters.filter((waiter) => {
      const done = all || (w.finished >= waiter.round && waiter.nodes.every((n) => !w.failures.has(n)));
      if (done) waiter.resolve();
      return !done;
    });
  }

  /** Stops watching a lab: no more reads or firewall monitors for it. */
  unwatch(lab: string): void {
    const w = this.watched.get(lab);
    if (!w) return;
    this.watched.delete(lab);
    this.settle(w, true);
    for (const node of w.firewalls) this.monitor.unwatchNetns(netnsName(lab, node));
  }

  private watchFirewall(lab: string, w: Watched, node: string): Promise<void> {
    w.firewalls.add(node);
    return this.monitor.watchNetns(netnsName(lab, node));
  }

  /** The last known state of a watched lab. */
  current(lab: string): Topology | undefined {
    const w = this.watched.get(lab);
    return w?.loaded ? w.topology : undefined;
  }

  /** Monitor processes running now. */
  processCount(): number {
    return this.monitor.processCount();
  }

  private onChanged(netns: string): void {
    const parsed = parseNetnsName(netns);
    if (!parsed) return;
    const w = this.watched.get(parsed.lab);
    if (w) {
      w.given.delete(parsed.node);
      w.dirty.add(parsed.node);
      this.scheduleFlush();
    }
    // A lab not in the list yet (its lo was just marked): list again soon.
    if (!this.labList.some((l) => l.name === parsed.lab)) this.scheduleLabs();
  }

  /**
   * /run/netns fires once per namespace added or removed, so an apply of 300 namespaces is 300 calls:
   * one scan runs at a time and changes during it are picked up by one more scan after it. (Concurrent
   * scans that each handled every namespace not yet known made hundreds of thousands of `ip` spawns.)
   */
  private onNamespacesChanged(): void {
    if (this.scanning) {
      this.scanAgain = true;
      return;
    }
    this.scanning = true;
    void this.scanNamespaces().catch((err: unknown) => this.log(`nslab: reading /run/netns failed, the next change reads it again: ${message(err)}`)).finally(() => {
      this.scanning = false;
      if (this.scanAgain) {
        this.scanAgain = false;
        this.onNamespacesChanged();
      }
    });
  }

  private async scanNamespaces(): Promise<void> {
    const now = await identities();
    const before = this.known;
    this.known = now;
    // A name whose identity changed was deleted and made again between two scans (a lab
    // destroyed and applied again): the old namespace is let go of, the new one followed.
    const same = (n: string) => now.get(n) === before.get(n);
    for (const n of before.keys()) {
      if (now.has(n) && same(n)) continue;
      this.monitor.forget(n);
      const parsed = parseNetnsName(n);
      if (parsed) this.watched.get(parsed.lab)?.firewalls.delete(parsed.node);
      this.onChanged(n);
    }
    const added = [...now.keys()].filter((n) => !(before.has(n) && same(n)) && parseNetnsName(n) !== undefined);
    // All at once: nsids are given in one batch for the namespaces that arrive together.
    await Promise.all(added.map(async (n) => {
      const parsed = parseNetnsName(n);
      const w = parsed ? this.watched.get(parsed.lab) : undefined;
      // Firewalls only for watched labs; every lab namespace is followed, so that its marker shows up.
      await (w && parsed ? this.watchFirewall(parsed.lab, w, parsed.node) : this.monitor.follow(n)).catch(() => undefined);
      this.onChanged(n);
    }));
    this.scheduleLabs();
  }

  private scheduleLabs(): void {
    if (this.labsTimer) return;
    this.labsTimer = setTimeout(() => {
      this.labsTimer = undefined;
      void this.refreshLabs().catch((err: unknown) => this.log(`nslab: listing labs failed, the next change lists them again: ${message(err)}`));
    }, LABS_DEBOUNCE_MS);
  }

  private scheduleFlush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    setImmediate(() => void this.flush().catch((err: unknown) => this.log(`nslab: reading changed namespaces failed: ${message(err)}`)));
  }

  private async flush(): Promise<void> {
    try {
      for (const [lab, w] of this.watched) {
        if (w.dirty.size === 0) continue;
        try {
          await this.flushLab(lab, w);
        } catch (err) {
          // Whatever failed in this lab's round (assembling it, diffing it, a listener): its waiters
          // (a shell's `ip netns add`, an edit's confirming read) are released, never left hanging,
          // and the next change of the lab reads it again.
          this.log(`nslab: updating lab ${lab} failed, its next change reads it again: ${message(err)}`);
          w.finished = w.started;
          this.settle(w, true);
        }
      }
    } finally {
      this.flushing = false;
      if (this.flushAgain || [...this.watched.values()].some((w) => w.dirty.size > 0)) {
        this.flushAgain = false;
        this.scheduleFlush();
      }
    }
  }

  /** One round of one lab: reads its dirty nodes, patches what changed, settles the refreshes that waited for it. */
  private async flushLab(lab: string, w: Watched): Promise<void> {
    // A lab whose first read failed is no longer watched (see watch): nothing to patch.
    if (!(await w.ready.then(() => true, () => false))) {
      w.dirty.clear();
      return;
    }
    const nodes = [...w.dirty];
    w.dirty.clear();
    const round = (w.started += 1);
    // One read for every dirty node; veth peers are looked for among the lab's other nodes first.
    const candidates = [...w.readings.keys()].map((node) => netnsName(lab, node));
    // Nodes whose reading was handed over are not read again (see Watched.given).
    const given = new Map(nodes.flatMap((node) => {
      const r = w.given.get(node);
      w.given.delete(node);
      return r ? [[node, r] as const] : [];
    }));
    const unread = nodes.filter((node) => !given.has(node));
    const fresh = unread.length === 0 ? [] : await readNamespaces(unread.map((node) => netnsName(lab, node)), { candidates }).then(
      (rs) => rs.map((r) => ({ r })),
      () => unread.map(() => FAILED),
    );
    const reads = nodes.map((node) => {
      const r = given.get(node);
      return r ? { r } : fresh[unread.indexOf(node)];
    });
    if (this.watched.get(lab) !== w) {
      this.settle(w, true);
      return;
    }
    const retry: string[] = [];
    nodes.forEach((node, i) => {
      const read = reads[i];
      // A read that failed (a timeout on a busy machine) is not a namespace that vanished:
      // keep what was known and read it again soon, rather than remove the node from every client.
      if (read === FAILED || read === undefined) {
        const failures = (w.failures.get(node) ?? 0) + 1;
        w.failures.set(node, failures);
        if (failures <= READ_RETRIES) {
          retry.push(node);
          return;
        }
      }
      w.failures.delete(node);
      const r = read === FAILED ? undefined : read?.r;
      if (r && r.owner?.lab === lab && r.owner.node === node) w.readings.set(node, r);
      else w.readings.delete(node);
    });
    if (retry.length > 0) {
      setTimeout(() => {
        if (this.stopped || this.watched.get(lab) !== w) return;
        for (const node of retry) w.dirty.add(node);
        this.scheduleFlush();
      }, READ_RETRY_MS).unref();
    }
    const next = assemble(lab, w.readings);
    const changes = diffTopology(w.topology, next);
    w.topology = next;
    if (changes.length > 0) this.listener.patch(lab, changes);
    w.finished = round;
    this.settle(w);
  }

  /** Stops every monitor. */
  stop(): void {
    this.stopped = true;
    for (const w of this.watched.values()) this.settle(w, true);
    if (this.labsTimer) clearTimeout(this.labsTimer);
    this.monitor.stop();
  }
}
