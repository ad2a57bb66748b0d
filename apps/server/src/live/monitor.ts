/**
 * The kernel's change feeds, as one stream of "this namespace changed" signals, and a
 * watch on /run/netns for namespaces coming and going (netns-dir.ts).
 *
 * With nslab-nsread (the usual case): one `nslab-nsread watch` process follows every lab
 * namespace (nsread-watch.ts). Without it: `ip monitor all-nsid` and an `nft monitor`
 * per namespace of a watched lab (ip-monitor.ts).
 */
import { reader } from '../kernel/observe';
import { IpMonitors } from './ip-monitor';
import { NetnsDirWatch } from './netns-dir';
import { NsreadWatch } from './nsread-watch';
import type { MonitorSink } from './sink';

/** The kernel feeds for the whole server: one process with the helper, else one plus one `nft monitor` per watched namespace. */
export class KernelMonitor {
  private readonly helper = reader() === 'nsread';
  private readonly dir: NetnsDirWatch;
  private readonly watch: NsreadWatch;
  private readonly fallback: IpMonitors;
  private stopped = false;

  constructor(sink: MonitorSink) {
    this.dir = new NetnsDirWatch(() => sink.namespacesChanged());
    this.watch = new NsreadWatch(sink);
    this.fallback = new IpMonitors(sink);
  }

  /** Starts the /run/netns watch, and `ip monitor all-nsid` when there is no helper (the helper starts on first use). */
  start(): void {
    if (!this.helper) this.fallback.start();
    this.dir.start();
  }

  /**
   * Reports this namespace's device, address, route and forwarding changes from now on
   * (every lab namespace is followed, watched or not: a marker set on lo changes the
   * list of labs). Resolves once a change can no longer be missed.
   */
  async follow(netns: string): Promise<void> {
    if (this.stopped) return;
    if (this.helper) return this.watch.follow(netns);
    await this.fallback.follow(netns);
  }

  /** Follows a namespace and its firewall (for labs someone watches). */
  async watchNetns(netns: string): Promise<void> {
    await this.follow(netns);
    // The helper follows every firewall already.
    if (this.helper || this.stopped) return;
    this.fallback.watchFirewall(netns);
  }

  /** Stops watching a namespace's firewall (its lab is no longer watched); it is still followed. */
  unwatchNetns(netns: string): void {
    this.fallback.unwatchFirewall(netns);
  }

  /** The namespace is gone: let go of it entirely (a socket left in it would keep it alive). */
  forget(netns: string): void {
    this.fallback.unwatchFirewall(netns);
    this.watch.forget(netns);
  }

  /** How many monitor processes run now (for the benchmark's report). */
  processCount(): number {
    return this.watch.running() + this.fallback.running();
  }

  /** Ends every monitor process this object started. */
  stop(): void {
    this.stopped = true;
    this.dir.close();
    this.fallback.stop();
    this.watch.stop();
  }
}
