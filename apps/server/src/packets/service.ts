/**
 * Packets for clients: while at least one client watches a lab, every namespace of
 * it is captured; each client gets the decoded events through its own rate limiter,
 * batched per event-loop turn, and an aggregate statement when a flood exceeds its
 * rate. Captures stop when nobody watches.
 *
 * nslab-capture (capture/helper.ts) needs no modes: it hands a lone packet over at once
 * and a flood in batches. With tcpdump (the helper not built), captures adapt to the
 * traffic (DESIGN.md section 6): immediate mode (0.1 ms to the reader) while a namespace
 * is quiet, for live ping tracing; buffered mode when it floods, since immediate mode
 * hands packets over one by one and drops under load.
 */
import type { CaptureFormat, CaptureOptions, ExportFilter, Sighting } from '../capture/index';
import { Handover, NetnsCapture, PacketRateLimiter, startTicking } from '../capture/index';
import type { LimitedEvent } from '../capture/index';
import { BUFFERED_HOLD_MS, type CaptureEngine } from '../capture/capture';
import { CAPTURE_SNAPLEN } from '../capture/argv';
import { captureHelperAvailable } from '../capture/helper';
import type { NodePacketEvent, ServerMessage } from '@nslab/model';
import { netnsName } from '@nslab/model';

/** Where a watching client's messages go. */
export type PacketSink = (message: ServerMessage) => void;

/** One watching client: its limiter and the packets waiting for this event-loop turn's message. */
class Watcher {
  pending: NodePacketEvent[] = [];
  scheduled = false;
  readonly limiter: PacketRateLimiter<Sighting>;
  readonly stopTicking: () => void;

  constructor(readonly sink: PacketSink, deliver: (watcher: Watcher, event: LimitedEvent<Sighting>) => void) {
    this.limiter = new PacketRateLimiter<Sighting>((e) => deliver(this, e));
    this.stopTicking = startTicking(this.limiter);
  }
}
/** Packets a second above which a namespace's capture switches to buffered mode: the client limiter's default rate. */
export const FLOOD_RATE = 2_000;
/** Packets a second below which, for CALM_SECONDS, it switches back to immediate mode. */
export const CALM_RATE = 200;
const CALM_SECONDS = 3;
/**
 * How often rates are read (ms). A quarter second: an immediate capture's kernel ring
 * holds well under a second of a flood (IMMEDIATE_EVENT_SNAPLEN), so the switch to
 * buffered mode must come sooner than a once-a-second check would make it.
 */
const ADAPT_MS = 250;
/**
 * tcpdump -s of the service's immediate-mode captures: a whole frame at the usual MTU
 * (1500 bytes and the SLL2 header), so a quiet lab's download opens in Wireshark with
 * its payloads; only GSO super-packets are cut. Immediate mode's kernel ring
 * (TPACKET_V2) has fixed frames of about the snap length: 8 MiB holds about 900 frames
 * at IMMEDIATE_SNAPLEN (9216), which a reader stalled for 180 ms at 5,000 packets/s
 * overflows (measured: 2,131 packets dropped by the kernel before the switch), about
 * 4,000 at 1600 (a fifth of a second at 20,000 packets/s, as long as a rate reading),
 * and 13,000 at 512, which would cut every download's payloads to fit the headers.
 * Buffered captures (TPACKET_V3 packs packets tightly) keep whole packets.
 */
export const IMMEDIATE_EVENT_SNAPLEN = 1600;
/** Kernel buffer for immediate-mode captures (KiB): 8 MiB holds about 900 frames of IMMEDIATE_SNAPLEN, absorbing bursts until the switch. */
const IMMEDIATE_BUFFER_KIB = 8192;
/** Kernel buffer for buffered captures (KiB): 16 MiB, a few hundred ms of a flood. */
const BUFFERED_BUFFER_KIB = 16384;

/**
 * After the capture a switch replaced has ended, the new one's packets are still checked
 * against what the old one reported for this long: a buffered capture hands packets over
 * up to BUFFERED_HOLD_MS late, so reports of the overlap can still arrive.
 */
const HANDOVER_SETTLE_MS = 2 * BUFFERED_HOLD_MS;
/**
 * The longest an old capture runs beside its replacement while it catches up: a buffered
 * one hands its last block over within BUFFERED_HOLD_MS; an immediate one behind a flood
 * reads its kernel ring (half a second of 20,000 packets/s) in less under any sane load.
 */
const HANDOVER_DRAIN_MS = 2 * BUFFERED_HOLD_MS;
/** How often a draining capture is checked for having caught up (ms). */
const HANDOVER_POLL_MS = 20;

/** One node's capture and its recent rate; `switching` while it is being replaced (or failed to replace one): its end is not reported. */
interface Slot {
  capture: NetnsCapture;
  count: number;
  calm: number;
  switching: boolean;
  /** While the capture this one replaces still runs: no switch of this one meanwhile. */
  replacing: boolean;
  /** Set on a replacement until its reports need no more checking against the old capture's. */
  handover?: Handover;
}
interface LabCaptures { captures: Map<string, Slot>; watchers: Set<Watcher>; timer: NodeJS.Timeout }

/** Captures per lab, shared by every client watching it. */
export class PacketService {
  private readonly labs = new Map<string, LabCaptures>();

  /**
   * @param floodRate packets a second that switch a tcpdump capture to buffered mode (FLOOD_RATE; a test lowers it)
   * @param engine what captures: nslab-capture when it is built, else tcpdump (a test asks for tcpdump's modes)
   */
  constructor(
    private readonly floodRate = FLOOD_RATE,
    private readonly engine: CaptureEngine = captureHelperAvailable() ? 'helper' : 'tcpdump',
  ) {}

  /** Starts sending a lab's packets to a sink; returns the function that stops it. */
  watch(lab: string, nodes: string[], sink: PacketSink): () => void {
    let entry = this.labs.get(lab);
    if (!entry) {
      const created: LabCaptures = { captures: new Map(), watchers: new Set(), timer: setInterval(() => this.adapt(lab, created), ADAPT_MS) };
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

  /**
   * Captures a node, or replaces the capture `replaces` with one in the other mode. A
   * replacement starts before the old capture stops, so no packet goes unseen in between,
   * and a Handover lets each packet both see count once (in the kept ring too, which they share).
   */
  private capture(lab: string, entry: LabCaptures, node: string, immediate: boolean, replaces?: Slot): Slot {
    // The helper keeps whole packets for downloads: its socket holds each at its own size, where
    // immediate tcpdump's ring has fixed frames of the snap length.
    const options: CaptureOptions = this.engine === 'helper'
      ? { engine: 'helper', immediate: true, snaplen: CAPTURE_SNAPLEN }
      : { engine: 'tcpdump', immediate, bufferKiB: immediate ? IMMEDIATE_BUFFER_KIB : BUFFERED_BUFFER_KIB };
    if (immediate && options.engine === 'tcpdump') options.snaplen = IMMEDIATE_EVENT_SNAPLEN;
    if (replaces) options.ring = replaces.capture.packetRing; // what the earlier tcpdump kept stays downloadable
    const capture = new NetnsCapture(netnsName(lab, node), node, options);
    const slot: Slot = { capture, count: 0, calm: 0, switching: false, replacing: replaces !== undefined };
    entry.captures.set(node, slot);
    if (replaces) {
      const handover = new Handover();
      slot.handover = handover;
      replaces.capture.admit = (p) => handover.admit('old', p.key, p.time);
      capture.admit = (p) => handover.admit('new', p.key, p.time);
    }
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
      () => {
        if (replaces) this.retire(replaces, slot);
        if (!slot.switching) for (const w of entry.watchers) w.sink({ type: 'capture', lab, node, state: 'started' });
      },
      () => {
        // Otherwise reported through the 'ended' event. A replacement that could not start leaves the old capture running.
        if (!replaces) return;
        slot.switching = true;
        replaces.capture.admit = undefined;
        replaces.switching = false;
        if (entry.captures.get(node) === slot) entry.captures.set(node, replaces);
        else void replaces.capture.stop();
      },
    );
    return slot;
  }

  /**
   * The replacement is listening: the old capture stops once it has caught up with it
   * (everything it still holds from before is reported; a buffered one waits for libpcap's
   * block timeout), or after HANDOVER_DRAIN_MS when it cannot keep up.
   */
  private retire(old: Slot, next: Slot): void {
    const handover = next.handover;
    const deadline = performance.now() + HANDOVER_DRAIN_MS;
    const poll = () => {
      if (old.capture.pid !== undefined && handover?.caughtUp !== true && performance.now() < deadline) {
        setTimeout(poll, HANDOVER_POLL_MS);
        return;
      }
      void old.capture.stop().then(() => {
        old.capture.admit = undefined;
        handover?.endOld();
        next.replacing = false;
        const timer = setTimeout(() => {
          next.capture.admit = undefined;
          delete next.handover;
        }, HANDOVER_SETTLE_MS);
        timer.unref();
      });
    };
    poll();
  }

  /** Every ADAPT_MS: flooding immediate captures go buffered, calm buffered ones go back. */
  private adapt(lab: string, entry: LabCaptures): void {
    for (const [node, slot] of entry.captures) {
      const rate = (slot.count * 1000) / ADAPT_MS;
      slot.count = 0;
      if (slot.switching || slot.replacing || slot.capture.pid === undefined || slot.capture.engine === 'helper') continue;
      slot.calm = rate < CALM_RATE ? slot.calm + 1 : 0;
      const toBuffered = slot.capture.immediate && rate > this.floodRate;
      const toImmediate = !slot.capture.immediate && slot.calm >= (CALM_SECONDS * 1000) / ADAPT_MS;
      if (!toBuffered && !toImmediate) continue;
      // The new capture starts first and the old one stops once it listens: no gap, and no packet reported twice.
      slot.switching = true;
      this.capture(lab, entry, node, toImmediate, slot);
    }
  }

  private deliver(lab: string, watcher: Watcher, event: LimitedEvent<Sighting>): void {
    if (event.kind === 'aggregate') {
      watcher.sink({ type: 'aggregate', lab, since: event.since, until: event.until, counts: event.counts, dropped: event.dropped, passed: event.passed, ratePerSecond: event.ratePerSecond });
      return;
    }
    watcher.pending.push(event.packet.event);
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
