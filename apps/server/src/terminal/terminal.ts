/**
 * One terminal: a node-pty shell, its flow control, its replay buffer and its input queue.
 * It knows nothing about sockets. One `TerminalSink` (channel.ts) is its owner: it types, resizes
 * and acknowledges. Sinks attached while an owner is there are read-only mirrors (a second tab, a
 * teacher's live view): they get the replay and the output, their input is refused, and the first
 * of them becomes the owner when the owner goes.
 *
 * Invariants
 * - `unacked` counts output bytes produced since the owner (or the last one) acked; output
 *   produced while nobody is attached counts too, so a detached `yes` is paused as well. An ack
 *   of more than is unacknowledged is a client that lies, and is ignored.
 * - The load is the larger of `unacked` and what the owner's socket still has queued in the
 *   server (a client can acknowledge what it never read; its socket cannot). The pty is paused
 *   exactly while the load is above LOW_WATER_BYTES after having passed HIGH_WATER_BYTES, or the
 *   whole server's queued output is over its budget (budget.ts).
 * - `exit` reaches the sink after every output byte node-pty delivered (node-pty emits exit only
 *   after its read stream closed). Two kernel/node-pty limits remain: output still inside the pty
 *   when the session leader exits can be dropped by the hangup (node-pty issue 726; the rc file's
 *   EXIT trap leaves 50 ms to read it), and node-pty destroys the pty 200 ms after the exit, so a
 *   shell that exits while paused for a client that is more than 100 kB behind loses its last
 *   pty buffer (a few kB).
 * - Once the shell is being killed the pty is never paused again, so it can drain and exit.
 */
import { StringDecoder } from 'node:string_decoder';
import { constants as osConstants } from 'node:os';
import type { IPty } from 'node-pty';
import { terminalMessages } from './errors';
import { HIGH_WATER_BYTES, LOW_WATER_BYTES, clampTerminalSize } from '@nslab/model';
import { ReplayBuffer } from './replay';
import type { OutputBudget } from './budget';
import { Utf8Framer } from './utf8';
import { type ProcessRef, isRunning, processRef, sessionMembers, signalAll } from './session';

/** Input is written to the pty in pieces of at most this many UTF-16 units (VS Code terminalProcess.ts Constants.WriteMaxChunkSize). */
export const INPUT_CHUNK_CHARS = 50;

/** Pause between input pieces (VS Code terminalProcess.ts Constants.WriteInterval): keystrokes go at once, pastes drain at about 10,000 chars/s. */
export const INPUT_INTERVAL_MS = 5;

/** Input waiting to be typed is capped (about 25 s of paste at the rate above); more is refused with an error. */
export const MAX_PENDING_INPUT_CHARS = 256 * 1024;

/**
 * Output that node-pty delivers within one turn of the event loop is sent as one frame, up to this
 * size (64 KiB, the size of one pty read): a flood of 4 KiB reads becomes a few large frames.
 */
const OUTPUT_FRAME_BYTES = 64 * 1024;

/** Default delay between SIGHUP and SIGKILL when a terminal is ended (bash exits on SIGHUP in milliseconds). */
export const DEFAULT_KILL_DELAY_MS = 2_000;

/** How a shell ended, as reported in the protocol's `exit`. */
export interface TerminalExit {
  code: number | null;
  signal: string | null;
  reason: string | null;
}

/** The receiving end of a terminal: an attached socket (channel.ts). */
export interface TerminalSink {
  /** Output bytes, in order; each chunk ends on a UTF-8 boundary. */
  output(bytes: Buffer): void;
  /** The shell ended; called once, after the last output. */
  exit(exit: TerminalExit): void;
  /** Something the learner should read, e.g. refused input. */
  notice(message: string): void;
  /** This sink is no longer attached (the server detached it): close with `code`. */
  dropped(code: number, message: string): void;
  /** Output bytes handed to this sink that have not reached the kernel yet (its socket's queue). */
  queued?(): number;
  /** A mirror became the owner (the owner went): it may type now. */
  promoted?(): void;
}

/** What a terminal was opened for. */
export interface TerminalIdentity {
  id: string;
  lab: string;
  /** The node whose network namespace the shell is in. */
  node: string;
  /** Kernel namespace name (e.g. nslab.demo.ns1). */
  netns: string;
  /** Inode of that namespace when the shell started: a different inode later means it was replaced. */
  netnsInode: number;
}

/** A shell in a pty with flow control, replay, chunked input and a kill sequence. */
export class Terminal {
  readonly createdAt = Date.now();
  /** Last input or output, for the idle timeout. */
  lastActivity = Date.now();
  private readonly replay: ReplayBuffer;
  private readonly framer = new Utf8Framer();
  private readonly decoder = new StringDecoder('utf8');
  private sink: TerminalSink | undefined;
  private readonly mirrors = new Set<TerminalSink>();
  /** Sinks of live views (liveview/links.ts): read-only for as long as they are attached, never promoted. */
  private readonly watchers = new Set<TerminalSink>();
  private readonly budget: OutputBudget | undefined;
  /** Given to the budget while paused by it (one function, so it waits once). */
  private readonly relieved = () => this.reconsider();
  private unacked = 0;
  private paused = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private inputQueue = '';
  private inputTimer: NodeJS.Timeout | undefined;
  private killReason: string | undefined;
  private killed: Promise<TerminalExit> | undefined;
  private ended: TerminalExit | undefined;
  private size: { cols: number; rows: number };
  /** Resolves once the shell has exited and been reaped by node-pty. */
  readonly exited: Promise<TerminalExit>;
  /** The shell's pid (`$$` inside it). */
  readonly pid: number;
  private readonly shell: ProcessRef | undefined;
  private readonly killDelayMs: number;

  constructor(
    readonly identity: TerminalIdentity,
    private readonly pty: IPty,
    options: { replayBytes: number; killDelayMs: number; cols: number; rows: number; budget?: OutputBudget },
  ) {
    this.replay = new ReplayBuffer(options.replayBytes);
    this.budget = options.budget;
    this.killDelayMs = options.killDelayMs;
    this.size = { cols: options.cols, rows: options.rows };
    this.pid = pty.pid;
    this.shell = processRef(pty.pid);
    // Spawned with encoding: null, node-pty delivers Buffers although its typings say string.
    pty.onData((data: unknown) => this.onOutput(Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8')));
    this.exited = new Promise((resolve) => {
      pty.onExit(({ exitCode, signal }) => resolve(this.handleExit(exitCode, signal)));
    });
  }

  /** The exit, once the shell has ended. */
  get exit(): TerminalExit | undefined {
    return this.ended;
  }

  /** Whether a sink is attached. */
  get attached(): boolean {
    return this.sink !== undefined;
  }

  /** Current size of the pty. */
  get cols(): number {
    return this.size.cols;
  }

  /** Current size of the pty. */
  get rows(): number {
    return this.size.rows;
  }

  /** Output bytes not yet acknowledged (for tests and diagnostics). */
  get unacknowledged(): number {
    return this.unacked;
  }

  /** Whether the pty is paused by flow control. */
  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Attaches a sink and returns the replay the sink must send before any live output (the caller
   * sends it synchronously). With no owner it becomes the owner; otherwise a read-only mirror.
   */
  attach(sink: TerminalSink, options: { watchOnly?: boolean } = {}): { replay: Buffer; owner: boolean } {
    this.flushOutput(); // output read so far goes to the sinks and the replay, not after the replay
    const replay = this.replay.contents();
    // A live view's sink watches for as long as it stays: it never owns, even with nobody else here.
    if (options.watchOnly) {
      this.watchers.add(sink);
      return { replay, owner: false };
    }
    if (this.sink !== undefined && this.sink !== sink) {
      this.mirrors.add(sink);
      return { replay, owner: false };
    }
    this.sink = sink;
    // The new client acknowledges what it is sent from now on, starting with the replay.
    this.setUnacked(replay.length);
    return { replay, owner: true };
  }

  /** Whether `sink` is the owner (it may type, resize and acknowledge). */
  owns(sink: TerminalSink): boolean {
    return this.sink === sink;
  }

  /** Sinks attached as mirrors (for tests and diagnostics). */
  get mirrorCount(): number {
    return this.mirrors.size;
  }

  /**
   * Detaches `sink`; the shell keeps running. When the owner goes, the first mirror becomes the
   * owner. True when nobody is attached any more (the grace period starts).
   */
  detach(sink: TerminalSink): boolean {
    if (this.watchers.delete(sink)) return false;
    if (this.mirrors.delete(sink)) return false;
    if (this.sink !== sink) return false;
    // After the exit every sink is on its way out: nobody is promoted.
    const next = this.ended ? undefined : this.mirrors.values().next().value;
    this.sink = next;
    if (next === undefined) return this.mirrors.size === 0;
    this.mirrors.delete(next);
    // It has been reading all along; it acknowledges from here on.
    this.setUnacked(0);
    next.promoted?.();
    return false;
  }

  /** Detaches whichever sink is attached and returns it; the shell keeps running. */
  release(): TerminalSink | undefined {
    const sink = this.sink;
    this.sink = undefined;
    return sink;
  }

  /** Input bytes from the client (UTF-8, a character may be split across calls). */
  input(bytes: Buffer): void {
    if (this.ended) return;
    const text = this.decoder.write(bytes);
    if (text.length === 0) return;
    if (this.inputQueue.length + text.length > MAX_PENDING_INPUT_CHARS) {
      this.sink?.notice(terminalMessages.inputTooLarge(MAX_PENDING_INPUT_CHARS));
      return;
    }
    this.lastActivity = Date.now();
    this.inputQueue += text;
    if (this.inputTimer === undefined) this.writeInput();
  }

  /** Resizes the pty (clamped to the protocol's bounds). */
  resize(cols: number, rows: number): void {
    if (this.ended) return;
    const size = clampTerminalSize(cols, rows);
    if (size.cols === this.size.cols && size.rows === this.size.rows) return;
    this.size = size;
    try {
      this.pty.resize(size.cols, size.rows);
    } catch {
      // The pty closed between the check and the call; the exit is on its way.
    }
  }

  /** The owner has processed `bytes` more output; more than was sent and not yet acknowledged is ignored. */
  ack(bytes: number): void {
    if (!Number.isFinite(bytes) || bytes <= 0 || bytes > this.unacked) return;
    this.setUnacked(this.unacked - bytes);
  }

  /** The owner's socket (or the server's budget) has drained some output: the pty may read again. */
  drained(): void {
    this.reconsider();
  }

  /**
   * Ends the shell: SIGHUP to its session (like closing a terminal window), SIGKILL to whatever is
   * left after the kill delay. `reason` becomes the exit's reason. Resolves when the shell has
   * exited and no process of its session runs any more.
   */
  kill(reason: string): Promise<TerminalExit> {
    if (this.killed) return this.killed;
    if (this.ended) return this.exited;
    this.killReason = reason;
    const shell = this.shell;
    if (shell === undefined) return this.exited;
    const members = sessionMembers(shell.pid);
    signalAll(members.length > 0 ? members : [shell], 'SIGHUP');
    // A paused pty would hold bash in a blocked write; let it drain so it can see the signal.
    this.resumePty();
    let sweep: NodeJS.Timeout | undefined;
    const swept = new Promise<void>((resolve) => {
      sweep = setTimeout(() => {
        // Jobs that ignored SIGHUP, plus any started since; start times guard against reused pids.
        const known = new Set(members.map((m) => m.pid));
        signalAll([...members, ...sessionMembers(shell.pid).filter((m) => !known.has(m.pid))], 'SIGKILL');
        resolve();
      }, this.killDelayMs);
    });
    this.killed = this.exited.then(async (exit) => {
      const othersRunning = members.some((m) => m.pid !== shell.pid && isRunning(m)) || sessionMembers(shell.pid).length > 0;
      if (othersRunning) await swept;
      else clearTimeout(sweep);
      return exit;
    });
    return this.killed;
  }

  private setUnacked(value: number): void {
    this.unacked = Math.max(0, value);
    this.reconsider();
  }

  /** Pauses or resumes the pty from the load (see the invariants above). */
  private reconsider(): void {
    const load = Math.max(this.unacked, this.sink?.queued?.() ?? 0);
    const overBudget = this.budget?.exceeded ?? false;
    if (!this.paused && (load > HIGH_WATER_BYTES || overBudget) && this.killReason === undefined) {
      this.paused = true;
      if (!this.ended) this.pty.pause();
    } else if (this.paused && load < LOW_WATER_BYTES && !overBudget) {
      this.resumePty();
    }
    if (this.paused && overBudget) this.budget?.whenRelieved(this.relieved);
  }

  private resumePty(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.ended) this.pty.resume();
  }

  private onOutput(chunk: Buffer): void {
    this.enqueue(this.framer.push(chunk));
  }

  private enqueue(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.setUnacked(this.unacked + bytes.length);
    if (this.pendingBytes >= OUTPUT_FRAME_BYTES) this.flushOutput();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushOutput());
    }
  }

  /** Sends what node-pty delivered since the last flush as one frame (and keeps it for replay). */
  private flushOutput(): void {
    this.flushScheduled = false;
    if (this.pendingBytes === 0) return;
    const bytes = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.lastActivity = Date.now();
    this.replay.push(bytes);
    this.sink?.output(bytes);
    for (const mirror of this.mirrors) mirror.output(bytes);
    for (const watcher of this.watchers) watcher.output(bytes);
  }

  private writeInput(): void {
    this.inputTimer = undefined;
    if (this.ended || this.inputQueue.length === 0) return;
    let end = Math.min(INPUT_CHUNK_CHARS, this.inputQueue.length);
    // Do not split a surrogate pair between two writes.
    const last = this.inputQueue.charCodeAt(end - 1);
    if (end < this.inputQueue.length && last >= 0xd800 && last <= 0xdbff) end += 1;
    this.pty.write(this.inputQueue.slice(0, end));
    this.inputQueue = this.inputQueue.slice(end);
    if (this.inputQueue.length > 0) this.inputTimer = setTimeout(() => this.writeInput(), INPUT_INTERVAL_MS);
  }

  private handleExit(exitCode: number, signal: number | undefined): TerminalExit {
    // node-pty emits exit only after its read stream closed, so every byte it read was delivered.
    this.enqueue(this.framer.flush());
    this.flushOutput();
    if (this.inputTimer !== undefined) clearTimeout(this.inputTimer);
    this.inputTimer = undefined;
    this.inputQueue = '';
    const signalName = signal ? (Object.entries(osConstants.signals).find(([, n]) => n === signal)?.[0] ?? `signal ${signal}`) : null;
    const exit: TerminalExit = { code: signalName ? null : exitCode, signal: signalName, reason: this.killReason ?? null };
    this.ended = exit;
    this.paused = false;
    for (const sink of [this.sink, ...this.mirrors, ...this.watchers]) sink?.exit(exit);
    return exit;
  }
}
