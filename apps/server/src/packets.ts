/**
 * Packets for clients: while at least one client watches a lab, every namespace of
 * it is captured; each client gets the decoded events through its own rate limiter,
 * batched per event-loop turn, and an aggregate statement when a flood exceeds its
 * rate. Captures stop when nobody watches.
 *
 * Captures adapt to the traffic (DESIGN.md section 6): immediate mode (0.1 ms to the
 * reader) while a namespace is quiet, for live ping tracing; buffered mode when it
 * floods, since immediate mode hands packets over one by one and drops under load.
 */
import type { CaptureFormat, CaptureOptions, ExportFilter, PacketRing } from './capture/index';
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
/** Packets a second above which a namespace's capture switches to buffered mode: the client limiter's default rate. */
export const FLOOD_RATE = 2_000;
/** Packets a second below which, for CALM_SECONDS, it switches back to immediate mode. */
export const CALM_RATE = 200;
const CALM_SECONDS = 3;
/** Kernel buffer for immediate-mode captures (KiB): 8 MiB holds about 900 frames of IMMEDIATE_SNAPLEN, absorbing bursts until the switch. */
const IMMEDIATE_BUFFER_KIB = 8192;
/** Kernel buffer for buffered captures (KiB): 16 MiB, a few hundred ms of a flood. */
const BUFFERED_BUFFER_KIB = 16384;

/** One node's capture and its recent rate. */
interface Slot { capture: NetnsCapture; count: number; calm: number; switching: boolean }
interface LabCaptures { captures: Map<string, Slot>; watchers: Set<Watcher>; timer: NodeJS.Timeout }

/** Captures per lab, shared by every client watching it. */
export class PacketService {
  private readonly labs = new Map<string, LabCaptures>();

  /** @param floodRate packets a second that switch a capture to buffered mode (FLOOD_RATE; a test lowers it). */
  constructor(private readonly floodRate = FLOOD_RATE) {}

  /** Starts sending a lab's packets to a sink; returns the function that stops it. */
  watch(lab: string, nodes: string[], sink: PacketSink): () => void {
    let entry = this.labs.get(lab);
    if (!entry) {
      const created: LabCaptures = { captures: new Map(), watchers: new Set(), timer: setInterval(() => this.adapt(lab, created), 1000) };
      created.timer.unref();
      entry = created;
      this.labs.set(lab, entry);
    }
    const watcher = new Watcher(sink, (w, e) => this.deliver(lab, w, e));
    entry.watchers.add(watcher);
    this.sync(lab, nodes);
    // Captures already running say so now; new ones say so when tcpdump is listening.
    for (const [node, slot] of entry.captures) if (slot.capture.pid !== undefined && entry.watchers.size > 1) sink({ type: 'capture', lab, node, state: 'started' });
    return () => this.unwatch(lab, watcher);
  }

  /** The labs whose packets are being captured now (one watcher or more). */
  capturedLabs(): string[] {
    return [...this.labs.keys()];
  }

  private unwatch(lab: string, watcher: Watcher): void {
    const entry = this.labs.get(lab);
    if (!entry || !entry.watchers.delete(watcher)) return;
    watcher.stopTicking();
    if (entry.watchers.size > 0) return;
    this.labs.delete(lab);
    clearInterval(entry.timer);
    for (const slot of entry.captures.values()) void slot.capture.stop();
  }

  /** The lab's nodes changed: capture new namespaces too (gone ones end by themselves). */
  sync(lab: string, nodes: string[]): void {
    const entry = this.labs.get(lab);
    if (!entry) return;
    for (const node of nodes) if (!entry.captures.has(node)) this.capture(lab, entry, node, true);
  }

  private capture(lab: string, entry: LabCaptures, node: string, immediate: boolean, ring?: PacketRing): Slot {
    const options: CaptureOptions = { immediate, bufferKiB: immediate ? IMMEDIATE_BUFFER_KIB : BUFFERED_BUFFER_KIB };
    if (ring) options.ring = ring; // a mode switch: what the earlier tcpdump kept stays downloadable
    const capture = new NetnsCapture(netnsName(lab, node), node, options);
    const slot: Slot = { capture, count: 0, calm: 0, switching: false };
    entry.captures.set(node, slot);
    capture.subscribe((e) => {
      if (e.kind === 'packet') {
        slot.count += 1;
        for (const w of entry.watchers) w.limiter.offer(e.packet);
      } else if (e.kind === 'ended' && !slot.switching) {
        if (entry.captures.get(node) === slot) entry.captures.delete(node);
        for (const w of entry.watchers) w.sink({ type: 'capture', lab, node, state: 'ended', message: e.end.message });
      }
    });
    capture.start().then(
      () => { if (!slot.switching) for (const w of entry.watchers) w.sink({ type: 'capture', lab, node, state: 'started' }); },
      () => { /* reported through the 'ended' event */ },
    );
    return slot;
  }

  /** Once a second: flooding immediate captures go buffered, calm buffered ones go back. */
  private adapt(lab: string, entry: LabCaptures): void {
    for (const [node, slot] of entry.captures) {
      const rate = slot.count;
      slot.count = 0;
      if (slot.switching || slot.capture.pid === undefined) continue;
      slot.calm = rate < CALM_RATE ? slot.calm + 1 : 0;
      const toBuffered = slot.capture.immediate && rate > this.floodRate;
      const toImmediate = !slot.capture.immediate && slot.calm >= CALM_SECONDS;
      if (!toBuffered && !toImmediate) continue;
      // Stop first, then start: no packet is delivered twice; the few in the gap are lost, which a flood's counts absorb.
      slot.switching = true;
      void slot.capture.stop().then(() => {
        if (this.labs.get(lab) === entry && entry.captures.get(node) === slot) this.capture(lab, entry, node, toImmediate, slot.capture.packetRing);
      });
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

  /** A .pcap or .pcapng of what a node's running capture kept; undefined when nobody watches that node. */
  exportPcap(lab: string, node: string, filter: ExportFilter, format: CaptureFormat = 'pcap'): Uint8Array | undefined {
    return this.labs.get(lab)?.captures.get(node)?.capture.exportPcap(filter, format);
  }

  /** Capture processes running now. */
  captureCount(): number {
    let n = 0;
    for (const entry of this.labs.values()) n += entry.captures.size;
    return n;
  }

  /**
   * Stops every capture (lab destroyed: `lab`; server stop: all). A destroyed lab's watchers stay:
   * when the lab is applied again while a page watches, `sync` captures its new namespaces for them.
   */
  async stop(lab?: string): Promise<void> {
    if (lab) {
      const entry = this.labs.get(lab);
      if (!entry) return;
      const slots = [...entry.captures.values()];
      entry.captures.clear();
      await Promise.all(slots.map((slot) => slot.capture.stop()));
      return;
    }
    const entries = [...this.labs.values()];
    this.labs.clear();
    await Promise.all(entries.flatMap((e) => {
      clearInterval(e.timer);
      for (const w of e.watchers) w.stopTicking();
      return [...e.captures.values()].map((slot) => slot.capture.stop());
    }));
  }
}
