/**
 * Packets for clients: while at least one client watches a lab, every namespace of
 * it is captured (tcpdump in immediate mode, for live tracing); each client gets the
 * decoded events through its own rate limiter, batched per event-loop turn, and an
 * aggregate statement when a flood exceeds its rate. Captures stop when nobody watches.
 */
import type { ExportFilter } from './capture/index';
import { NetnsCapture, PacketRateLimiter, startTicking } from './capture/index';
import type { LimitedEvent } from './capture/index';
import type { NodePacketEvent, ServerMessage } from '@nslab/model';
import { netnsName } from '@nslab/model';

/** Where a watching client's messages go. */
export type PacketSink = (message: ServerMessage) => void;

/** One watching client: its limiter and the packets waiting for this event-loop turn's message. */
class Watcher {
  pending: NodePacketEvent[] = [];
  scheduled = false;
  readonly limiter: PacketRateLimiter;
  readonly stopTicking: () => void;

  constructor(readonly sink: PacketSink, deliver: (watcher: Watcher, event: LimitedEvent) => void) {
    this.limiter = new PacketRateLimiter((e) => deliver(this, e));
    this.stopTicking = startTicking(this.limiter);
  }
}
interface LabCaptures { captures: Map<string, NetnsCapture>; watchers: Set<Watcher> }

/** Captures per lab, shared by every client watching it. */
export class PacketService {
  private readonly labs = new Map<string, LabCaptures>();

  /** Starts sending a lab's packets to a sink; returns the function that stops it. */
  watch(lab: string, nodes: string[], sink: PacketSink): () => void {
    let entry = this.labs.get(lab);
    if (!entry) {
      entry = { captures: new Map(), watchers: new Set() };
      this.labs.set(lab, entry);
    }
    const watcher = new Watcher(sink, (w, e) => this.deliver(lab, w, e));
    entry.watchers.add(watcher);
    this.sync(lab, nodes);
    // Captures already running say so now; new ones say so when tcpdump is listening.
    for (const [node, capture] of entry.captures) if (capture.pid !== undefined && entry.watchers.size > 1) sink({ type: 'capture', lab, node, state: 'started' });
    return () => this.unwatch(lab, watcher);
  }

  private unwatch(lab: string, watcher: Watcher): void {
    const entry = this.labs.get(lab);
    if (!entry || !entry.watchers.delete(watcher)) return;
    watcher.stopTicking();
    if (entry.watchers.size > 0) return;
    this.labs.delete(lab);
    for (const capture of entry.captures.values()) void capture.stop();
  }

  /** The lab's nodes changed: capture new namespaces too (gone ones end by themselves). */
  sync(lab: string, nodes: string[]): void {
    const entry = this.labs.get(lab);
    if (!entry) return;
    for (const node of nodes) {
      if (entry.captures.has(node)) continue;
      const capture = new NetnsCapture(netnsName(lab, node), node, { immediate: true });
      entry.captures.set(node, capture);
      capture.subscribe((e) => {
        if (e.kind === 'packet') for (const w of entry.watchers) w.limiter.offer(e.packet);
        else if (e.kind === 'ended') {
          if (entry.captures.get(node) === capture) entry.captures.delete(node);
          for (const w of entry.watchers) w.sink({ type: 'capture', lab, node, state: 'ended', message: e.end.message });
        }
      });
      capture.start().then(
        () => { for (const w of entry.watchers) w.sink({ type: 'capture', lab, node, state: 'started' }); },
        () => { /* reported through the 'ended' event */ },
      );
    }
  }

  private deliver(lab: string, watcher: Watcher, event: LimitedEvent): void {
    if (event.kind === 'aggregate') {
      watcher.sink({ type: 'aggregate', lab, since: event.since, until: event.until, counts: event.counts, dropped: event.dropped, passed: event.passed, ratePerSecond: event.ratePerSecond });
      return;
    }
    watcher.pending.push(event.packet);
    if (watcher.scheduled) return;
    watcher.scheduled = true;
    // One message per event-loop turn: a burst becomes one frame, a lone ping goes out at once.
    setImmediate(() => {
      watcher.scheduled = false;
      const packets = watcher.pending;
      watcher.pending = [];
      if (packets.length > 0) watcher.sink({ type: 'packets', lab, packets });
    });
  }

  /** A .pcap of what a node's running capture kept; undefined when nobody watches that node. */
  exportPcap(lab: string, node: string, filter: ExportFilter): Uint8Array | undefined {
    return this.labs.get(lab)?.captures.get(node)?.exportPcap(filter);
  }

  /** Capture processes running now. */
  captureCount(): number {
    let n = 0;
    for (const entry of this.labs.values()) n += entry.captures.size;
    return n;
  }

  /** Stops every capture (lab destroyed: `lab`; server stop: all). */
  async stop(lab?: string): Promise<void> {
    const entries = lab ? [this.labs.get(lab)].filter((e): e is LabCaptures => !!e) : [...this.labs.values()];
    if (lab) this.labs.delete(lab);
    else this.labs.clear();
    await Promise.all(entries.flatMap((e) => {
      for (const w of e.watchers) w.stopTicking();
      return [...e.captures.values()].map((c) => c.stop());
    }));
  }
}
