/**
 * A capture of one network namespace: nslab-capture (helper.ts) or, when it is not
 * built, `tcpdump -i any` inside it. Either's pcap stream is decoded into packet
 * events placed in the lab (node, interface name, direction), the last packets kept
 * for .pcap export, and its end (stopped, exited, namespace deleted) reported as an
 * event rather than thrown.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { LINKTYPE_LINUX_SLL2, PcapStreamParser, peekIfindex } from '@nslab/model';
import { NETNS_DIR } from '../kernel/observe';
import { snaplenOf, tcpdumpArgv, type TcpdumpSettings } from './argv';
import { dieWithParent, start } from '../kernel/runner';
import { captureHelperArgv, captureHelperAvailable, compileFilter, CaptureFilterError } from './helper';
import { InterfaceNames, type InterfaceReader } from './interfaces';
import { PacketRing, RING_MAX_BYTES, RING_MAX_PACKETS, type CaptureFormat, type ExportFilter } from './ring';
import { Sighting } from './sighting';

/** SIGTERM to SIGKILL: tcpdump flushes and exits on SIGTERM within a few ms here; a second is generous. */
export const STOP_GRACE_MS = 1_000;
/**
 * How long a buffered capture holds packets at worst: tcpdump opens its capture with
 * a 1,000 ms timeout, which libpcap uses as TPACKET_V3's block retire timeout.
 * Measured here: single pings reached Node 63 to 986 ms after they were sent, and a
 * ping 100 ms before SIGTERM was never written. `stop({ drain: true })` waits this
 * long (plus a margin) first.
 */
export const BUFFERED_HOLD_MS = 1_000;
/** How long tcpdump may take to say "listening on": about 20 ms here, 5 s allows a loaded machine. */
export const START_TIMEOUT_MS = 5_000;
/**
 * The helper's socket receive buffer (KiB) when none is asked for: 16 MiB holds about
 * 16,000 small packets (a socket buffer counts each packet's kernel memory, about 1 KiB
 * for a ping), most of a second of a flood at 20,000 packets/s while the server is busy.
 */
export const HELPER_BUFFER_KIB = 16_384;
/** stderr kept for messages: tcpdump's own lines are short; this holds the last few. */
const STDERR_KEEP = 4_096;
/** The namespace directory is also polled this often, in case inotify is unavailable or misses an event. */
const NETNS_POLL_MS = 2_000;

/** Why a capture ended. */
export type CaptureEndReason = 'stopped' | 'exited' | 'netns-deleted' | 'failed';

/** How a capture ended, with tcpdump's own counts when it printed them. */
export interface CaptureEnd {
  reason: CaptureEndReason;
  code: number | null;
  signal: string | null;
  /** A sentence for the learner. */
  message: string;
  /** Packets decoded by this capture. */
  packets: number;
  /** The capturing process's "packets dropped by kernel" (a flood outran the reader), when it said. */
  droppedByKernel: number | null;
}

/** What a capture reports, in order: started, packets, ended. */
export type CaptureEvent =
  | { kind: 'started'; node: string; netns: string; pid: number }
  | { kind: 'packet'; packet: Sighting }
  | { kind: 'ended'; node: string; netns: string; end: CaptureEnd };

/** A capture that could not start: the argv, the namespace and what tcpdump said. */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly netns: string,
    readonly argv: readonly string[],
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}

/** What captures: nslab-capture (helper.ts) or tcpdump. */
export type CaptureEngine = 'helper' | 'tcpdump';

/** Settings of a capture. */
export interface CaptureOptions {
  /** nslab-capture when it is built (the default), else tcpdump; a test asks for one. */
  engine?: CaptureEngine;
  /** A pcap-filter(7) expression ("icmp", "tcp port 80"): only matching packets are captured, filtered in the kernel. */
  filter?: string;
  /** --immediate-mode (live tracing) rather than buffered (floods); see TcpdumpSettings. Default false. */
  immediate?: boolean;
  /** tcpdump -B in KiB. */
  bufferKiB?: number;
  /** tcpdump -s; see IMMEDIATE_SNAPLEN for why immediate mode defaults lower. */
  snaplen?: number;
  /** Ring bounds; see RING_MAX_PACKETS. */
  ringPackets?: number;
  ringBytes?: number;
  /**
   * The ring to keep packets in, for a capture that continues another (a switch between
   * immediate and buffered mode): what the earlier tcpdump kept stays downloadable.
   */
  ring?: PacketRing;
  /** Reads ifindex -> name; the default runs `ip -n NETNS -j`. */
  readInterfaces?: InterfaceReader;
}

/** A record waiting for its interface's name: where it is in its chunk, and its header. */
interface Queued {
  bytes: Uint8Array;
  at: number;
  caplen: number;
  sec: number;
  nsec: number;
  origLen: number;
  ifindex: number | null;
  /** Arrival order, to tell packets seen before a names read from those seen during it. */
  seq: number;
}

/** A capturing process inside one namespace (nslab-capture or tcpdump), and what it captured. */
export class NetnsCapture {
  private argv: string[];
  /** Which program captures. */
  readonly engine: CaptureEngine;
  private readonly filter: string | undefined;
  private readonly bufferKiB: number | undefined;
  /** The snap length tcpdump runs with (and exports declare). */
  readonly snaplen: number;
  /** Whether tcpdump runs in --immediate-mode. */
  readonly immediate: boolean;
  private readonly names: InterfaceNames;
  private readonly ring: PacketRing;
  private readonly parser = new PcapStreamParser();
  private readonly listeners = new Set<(event: CaptureEvent) => void>();
  private child: ChildProcess | null = null;
  private stderrTail = '';
  private listening = false;
  private stopReason: CaptureEndReason | null = null;
  private failure: string | null = null;
  private queue: Queued[] = [];
  private seq = 0;
  private finishing = false;
  private packets = 0;
  private killTimer: NodeJS.Timeout | null = null;
  private starting = false;
  private watcher: FSWatcher | null = null;
  private poller: NodeJS.Timeout | null = null;
  private endResult: CaptureEnd | null = null;
  /**
   * Decides whether a packet counts (kept, reported); undefined lets every one through.
   * Set while two captures of one namespace overlap (capture/handover.ts), so that a
   * packet both see is kept and reported once.
   */
  admit: ((packet: Sighting) => boolean) | undefined = undefined;
  private resolveEnded: (end: CaptureEnd) => void = () => {};
  /** Resolves once, when the capture has ended and every packet has been reported. Never rejects. */
  readonly ended: Promise<CaptureEnd>;

  /**
   * @param netns the kernel namespace name (`nslab.<lab>.<node>`), already validated
   * @param node the lab's node name, carried on every event
   */
  constructor(
    readonly netns: string,
    readonly node: string,
    options: CaptureOptions = {},
  ) {
    const settings: TcpdumpSettings = { immediate: options.immediate ?? false };
    if (options.bufferKiB !== undefined) settings.bufferKiB = options.bufferKiB;
    if (options.snaplen !== undefined) settings.snaplen = options.snaplen;
    this.snaplen = snaplenOf(settings);
    this.immediate = settings.immediate;
    this.engine = options.engine ?? (captureHelperAvailable() ? 'helper' : 'tcpdump');
    this.filter = options.filter;
    this.bufferKiB = options.bufferKiB;
    this.argv = this.argvFor(settings);
    this.names = new InterfaceNames(netns, options.readInterfaces);
    this.ring = options.ring ?? new PacketRing(options.ringPackets ?? RING_MAX_PACKETS, options.ringBytes ?? RING_MAX_BYTES);
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  /**
   * The argv of the capture (its filter, compiled, is added by start()). The helper sets
   * its own parent-death signal; tcpdump gets setpriv's.
   */
  private argvFor(settings: TcpdumpSettings, bytecode?: string): string[] {
    if (this.engine === 'tcpdump') {
      const argv = dieWithParent(tcpdumpArgv(this.netns, settings));
      // After `--`, validated and compiled by compileFilter first: an expression, never an option.
      if (this.filter !== undefined) argv.push('--', this.filter);
      return argv;
    }
    const helper: { snaplen: number; bufferKiB: number; bytecode?: string } = { snaplen: this.snaplen, bufferKiB: settings.bufferKiB ?? HELPER_BUFFER_KIB };
    if (bytecode !== undefined) helper.bytecode = bytecode;
    return captureHelperArgv(this.netns, helper);
  }

  /** The capturing program's name, for messages. */
  get program(): string {
    return this.engine === 'helper' ? 'nslab-capture' : 'tcpdump';
  }

  /** Kernel drops reported so far by the capturing process (the helper says so as they happen, tcpdump at its end). */
  get droppedByKernel(): number {
    return lastNumberAfter(this.stderrTail, DROPPED) ?? 0;
  }

  /** The capturing process's id while it runs. */
  get pid(): number | undefined {
    return this.endResult === null ? this.child?.pid : undefined;
  }

  /** The pcap link type of the stream (276, LINUX_SLL2, for `-i any` here). */
  get linktype(): number {
    return this.parser.header?.linktype ?? LINKTYPE_LINUX_SLL2;
  }

  /** Receives every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: CaptureEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Starts the capture; resolves once it is capturing (packets sent after this are seen).
   * Rejects with CaptureError if it cannot, and with CaptureFilterError (a sentence for
   * the learner) for a filter that is not valid, before anything runs in the namespace.
   */
  async start(): Promise<void> {
    if (this.child !== null || this.starting) throw new CaptureError(`the capture of ${this.netns} was already started`, this.netns, this.argv, '');
    this.starting = true;
    if (this.filter !== undefined) {
      let bytecode: string;
      try {
        bytecode = await compileFilter(this.filter);
      } catch (err) {
        if (err instanceof CaptureFilterError) void this.finish(null, null, 'failed', err.message);
        throw err;
      }
      const settings: TcpdumpSettings = { immediate: this.immediate, snaplen: this.snaplen };
      if (this.bufferKiB !== undefined) settings.bufferKiB = this.bufferKiB;
      this.argv = this.argvFor(settings, bytecode);
    }
    if (this.stopReason !== null) {
      void this.finish(null, null, this.stopReason);
      return;
    }
    return this.spawnCapture();
  }

  private spawnCapture(): Promise<void> {
    const [command, ...args] = this.argv as [string, ...string[]];
    // Started through the runner's door; this.argv already holds the parent-death wrapper.
    // Its stderr ("listening on", the packet counts, a failure) is read and kept here.
    const { child } = start([command, ...args], { dieWithParent: false, log: () => undefined });
    this.child = child;
    this.names.refresh().catch(() => {});
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.failure = `${this.program} in ${this.netns} did not start capturing within ${START_TIMEOUT_MS} ms`;
        this.kill('failed');
      }, START_TIMEOUT_MS);
      child.stdout?.on('data', (chunk: Buffer) => this.onData(chunk));
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        this.stderrTail = (this.stderrTail + text).slice(-STDERR_KEEP);
        if (!this.listening && /listening on/.test(this.stderrTail)) {
          this.listening = true;
          clearTimeout(timer);
          this.watchNamespace();
          this.emit({ kind: 'started', node: this.node, netns: this.netns, pid: child.pid ?? -1 });
          resolve();
        }
      });
      child.on('error', (err) => {
        // A failed spawn may not be followed by 'close': end here too (finish runs once).
        this.failure = `could not run ${command}: ${err.message}`;
        clearTimeout(timer);
        if (!this.listening) reject(new CaptureError(`${this.program} could not capture in ${this.netns}: ${this.failure}`, this.netns, this.argv, this.stderrTail));
        void this.finish(null, null, 'failed');
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (!this.listening) {
          const said = this.stderrTail.trim() || this.failure || `exited with ${code ?? signal}`;
          reject(new CaptureError(`${this.program} could not capture in ${this.netns}: ${said}`, this.netns, this.argv, this.stderrTail));
        }
        void this.finish(code, signal);
      });
    });
  }

  /**
   * Stops tcpdump (SIGTERM, then SIGKILL after STOP_GRACE_MS) and resolves when it
   * has ended and been reaped. A buffered capture loses what libpcap still holds
   * (up to BUFFERED_HOLD_MS of packets) unless `drain` asks to wait for it first.
   */
  async stop(options: { drain?: boolean } = {}): Promise<CaptureEnd> {
    if (this.child === null) {
      if (this.starting) this.stopReason ??= 'stopped'; // a filter still compiling: start() ends it
      else void this.finish(null, null, 'stopped');
      return this.ended;
    }
    // The helper writes what it holds when told to stop; buffered tcpdump holds a block.
    if (options.drain === true && this.engine === 'tcpdump' && !this.immediate && this.endResult === null) {
      await Promise.race([this.ended, new Promise((r) => setTimeout(r, BUFFERED_HOLD_MS + 100))]);
    }
    this.kill('stopped');
    return this.ended;
  }

  /** A .pcap (or .pcapng) of the kept packets of one interface (or all), in a time window (seconds since the epoch). */
  exportPcap(filter: ExportFilter = {}, format: CaptureFormat = 'pcap'): Uint8Array {
    return this.ring.exportPcap(this.linktype, this.snaplen, filter, format);
  }

  /** The ring this capture keeps packets in (handed to the capture that continues it). */
  get packetRing(): PacketRing {
    return this.ring;
  }

  /** Packets currently kept for export. */
  get kept(): number {
    return this.ring.size;
  }

  private kill(reason: CaptureEndReason): void {
    if (this.stopReason === null) this.stopReason = reason;
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null || this.killTimer !== null) return;
    child.kill('SIGTERM');
    this.killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  }

  private onData(chunk: Uint8Array): void {
    if (this.stopReason === 'failed') return;
    try {
      this.parser.pushEach(chunk, this.onRecord);
    } catch (err) {
      this.failure = `the output of ${this.program} in ${this.netns} is not a pcap stream: ${(err as Error).message}`;
      this.kill('failed');
    }
  }

  /** One record of the stream (a place in its chunk): delivered now, or queued behind a names read. */
  private readonly onRecord = (bytes: Uint8Array, at: number, caplen: number, sec: number, nsec: number, origLen: number): void => {
    // Only the interface index is read now: the decode waits until something asks (sighting.ts).
    const ifindex = peekIfindex(bytes, this.linktype, at, at + caplen);
    if (this.queue.length > 0) {
      this.queue.push({ bytes, at, caplen, sec, nsec, origLen, ifindex, seq: this.seq++ });
    } else if (ifindex !== null && this.names.get(ifindex) === undefined && this.names.worthReading(ifindex)) {
      this.queue.push({ bytes, at, caplen, sec, nsec, origLen, ifindex, seq: this.seq++ });
      void this.drainAfterRead();
    } else {
      this.deliver(bytes, at, caplen, sec, nsec, origLen, ifindex);
    }
  };

  /**
   * Reads the interface names again, then delivers what waited for them, in order.
   * A packet that arrived during the read and names an index the read did not see
   * waits for one more read (the link may be newer than the read).
   */
  private async drainAfterRead(): Promise<void> {
    const askedAt = this.seq;
    await this.names.refresh();
    let i = 0;
    for (; i < this.queue.length; i += 1) {
      const q = this.queue[i] as Queued;
      const ifindex = q.ifindex;
      if (ifindex !== null && this.names.get(ifindex) === undefined) {
        if (q.seq >= askedAt && this.names.worthReading(ifindex)) {
          this.queue.splice(0, i);
          void this.drainAfterRead();
          return;
        }
        this.names.markMissing(ifindex);
      }
      this.deliverQueued(q);
    }
    this.queue = [];
  }

  private deliverQueued(q: Queued): void {
    this.deliver(q.bytes, q.at, q.caplen, q.sec, q.nsec, q.origLen, q.ifindex);
  }

  private deliver(bytes: Uint8Array, at: number, caplen: number, sec: number, nsec: number, origLen: number, ifindex: number | null): void {
    const iface = ifindex === null ? 'any' : this.names.fallback(ifindex);
    const packet = new Sighting(bytes, at, caplen, sec, nsec, origLen, this.linktype, ifindex, this.node, iface);
    if (this.admit !== undefined && !this.admit(packet)) return;
    this.packets += 1;
    // The record's bytes are a place in the chunk the pipe delivered, which nothing
    // writes to again: kept as they are, with no copy per packet (the ring's byte bound
    // holds, give or take the rest of the chunks at its two ends).
    // A sighting is a ring entry: no second object per packet.
    this.ring.add(packet);
    this.emit({ kind: 'packet', packet });
  }

  private emit(event: CaptureEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Watches /run/netns: a namespace deleted under a running capture stays alive (tcpdump holds it) until the capture ends. */
  private watchNamespace(): void {
    const path = join(NETNS_DIR, this.netns);
    const check = () => {
      if (this.endResult === null && !existsSync(path)) {
        this.failure = `the namespace ${this.netns} was deleted`;
        this.kill('netns-deleted');
      }
    };
    try {
      this.watcher = watch(NETNS_DIR, (_type, filename) => {
        if (filename === null || filename === this.netns) check();
      });
      this.watcher.on('error', () => {});
    } catch {
      this.watcher = null;
    }
    this.poller = setInterval(check, NETNS_POLL_MS);
    this.poller.unref();
    check();
  }

  private async finish(code: number | null, signal: NodeJS.Signals | null, reason?: CaptureEndReason, failure?: string): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    if (failure !== undefined) this.failure = failure;
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    this.watcher?.close();
    if (this.poller !== null) clearInterval(this.poller);
    // Packets waiting for an interface name are reported before the end.
    for (let tries = 0; this.queue.length > 0 && tries < 3; tries += 1) await this.drainAfterRead();
    for (const q of this.queue.splice(0)) this.deliverQueued(q);
    await this.names.idle();
    const why: CaptureEndReason = reason ?? this.stopReason ?? (this.listening ? 'exited' : 'failed');
    const end: CaptureEnd = {
      reason: why,
      code,
      signal,
      message: this.describeEnd(why, code, signal),
      packets: this.packets,
      droppedByKernel: lastNumberAfter(this.stderrTail, DROPPED),
    };
    this.endResult = end;
    this.emit({ kind: 'ended', node: this.node, netns: this.netns, end });
    this.resolveEnded(end);
  }

  private describeEnd(reason: CaptureEndReason, code: number | null, signal: string | null): string {
    const said = lastLine(this.stderrTail);
    switch (reason) {
      case 'stopped':
        return `the capture of ${this.node} was stopped`;
      case 'netns-deleted':
        return `the capture of ${this.node} ended: its namespace ${this.netns} was deleted`;
      case 'failed':
        return `the capture of ${this.node} failed: ${this.failure ?? said ?? `${this.program} exited with ${code ?? signal}`}`;
      case 'exited':
        return `${this.program} in ${this.node} exited by itself (${code !== null ? `status ${code}` : `signal ${signal}`})${said ? `: ${said}` : ''}`;
      default:
        return unreachableReason(reason);
    }
  }
}

function unreachableReason(value: never): never {
  throw new Error(`unhandled capture end reason: ${String(value)}`);
}

/** How tcpdump and the helper say how many packets the kernel dropped (the helper says it again as the total grows). */
const DROPPED = /(\d+) packets? dropped by kernel/g;

/** The number in the last match of a global pattern: the latest running total. */
function lastNumberAfter(text: string, pattern: RegExp): number | null {
  let found: string | undefined;
  for (const m of text.matchAll(pattern)) found = m[1];
  return found !== undefined ? Number(found) : null;
}


function lastLine(text: string): string | undefined {
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1];
}
