/**
 * The change feeds where nslab-nsread is not built: one `ip monitor all-nsid` for every
 * lab namespace (each gets an nsid in the root namespace, `ip netns set NAME auto`, and
 * events are reported by nsid), and one `nft monitor` per namespace of a watched lab
 * for firewall changes.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { batchLine } from '../kernel/batch';
import { run, start } from '../kernel/runner';
import type { MonitorSink } from './sink';
import { RESTART_MS } from './sink';

/** `ip monitor all-nsid` for the server, and `nft monitor` per watched namespace. */
export class IpMonitors {
  private ip?: ChildProcess;
  private readonly nft = new Map<string, ChildProcess>();
  private stopped = false;
  /** Namespaces waiting for an nsid, given out together in one `ip -batch`. */
  private readonly idQueue = new Set<string>();
  private idBatch?: Promise<void>;
  private nsids = new Map<number, string>();
  private refreshingIds?: Promise<void>;
  /** Bumped whenever the kernel gives out or frees an nsid, so a read of the ids that raced with it is redone. */
  private nsidEpoch = 0;

  constructor(private readonly sink: MonitorSink) {}

  /** Starts `ip monitor all-nsid`, restarted whenever it ends until `stop`. */
  start(): void {
    const { child } = start(['ip', 'monitor', 'all-nsid']);
    this.ip = child;
    child.on('exit', () => {
      if (!this.stopped) setTimeout(() => this.start(), RESTART_MS);
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.onLine(line));
  }

  /** Makes a namespace's device, address, route and forwarding events reach `ip monitor all-nsid`. */
  follow(netns: string): Promise<void> {
    return this.assignNsid(netns);
  }

  /** Follows a namespace's firewall with its own `nft monitor` (once per namespace). */
  watchFirewall(netns: string): void {
    if (this.nft.has(netns) || this.stopped) return;
    // nft monitor gives no sign of when it listens: a change in its first moments shows with the next event.
    const { child } = start(['ip', 'netns', 'exec', netns, 'nft', 'monitor', 'rules']);
    this.nft.set(netns, child);
    child.on('exit', () => { if (this.nft.get(netns) === child) this.nft.delete(netns); });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', () => this.sink.changed(netns));
  }

  /** Stops a namespace's `nft monitor`, if it has one. */
  unwatchFirewall(netns: string): void {
    const child = this.nft.get(netns);
    this.nft.delete(netns);
    if (child?.pid) child.kill('SIGTERM');
  }

  /** How many of these monitor processes run now. */
  running(): number {
    const c = this.ip;
    return (c?.exitCode === null && c.signalCode === null ? 1 : 0) + this.nft.size;
  }

  /** Ends every process for good. */
  stop(): void {
    this.stopped = true;
    if (this.ip?.pid && this.ip.exitCode === null) this.ip.kill('SIGTERM');
    for (const netns of [...this.nft.keys()]) this.unwatchFirewall(netns);
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
