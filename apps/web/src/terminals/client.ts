/**
 * One terminal's socket: says hello, hands output to its owner and acknowledges it
 * only once the owner says it was processed (xterm.js's write callback), so a
 * runaway program (`yes`) is paused by the server instead of flooding the tab.
 * Re-attaches on its own after a dropped connection (the shell outlives its socket
 * for the server's grace period) and reports when the terminal has ended or is gone.
 */
import type { TerminalClientMessage, TerminalExitMessage, TerminalReady } from '@nslab/model';
import { ACK_EVERY_BYTES, TERMINAL_PROTOCOL_VERSION, TerminalCloseCode, parseTerminalServerMessage } from '@nslab/model';
import { INPUT_CHUNK_BYTES, closeReason } from './protocol';
import { socketProtocols } from '../server/credentials';

/** What a terminal socket tells its owner. */
export interface TerminalEvents {
  /** Attached: the replay follows; the owner resets its screen now. */
  ready(message: TerminalReady): void;
  /** Output to show; call `processed` once it is on the screen (it acknowledges the bytes). */
  output(bytes: Uint8Array, processed: () => void): void;
  /** The shell ended (every byte of its output came before this). */
  exit(message: TerminalExitMessage): void;
  /** The socket closed without an exit; `retrying` says whether it will re-attach by itself. */
  closed(reason: string, code: number, retrying: boolean): void;
}

/** Re-attach attempts after a dropped connection, and their spacing (ms): within the server's 60 s grace. */
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000];

/** Codes after which re-attaching cannot help. */
const FINAL_CODES = new Set<number>([TerminalCloseCode.ended, TerminalCloseCode.notFound, TerminalCloseCode.superseded, TerminalCloseCode.incompatible, TerminalCloseCode.protocol]);

/** The WebSocket URL of a terminal, on this page's origin (the token goes as a subprotocol, see credentials.ts). */
export function terminalUrl(id: string, loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws/term/${encodeURIComponent(id)}`;
}

/** Splits text into UTF-8 frames of at most `max` bytes (a character is never cut: the server accepts split sequences, but whole ones read better in logs). */
export function inputFrames(text: string, max = INPUT_CHUNK_BYTES): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= max) return [bytes];
  const frames: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + max);
    // Back off to a character boundary: continuation bytes are 10xxxxxx.
    while (end < bytes.length && end > start + 1 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
    frames.push(bytes.subarray(start, end));
    start = end;
  }
  return frames;
}

/** Counts processed output and says when an ack is due (at least every ACK_EVERY_BYTES). */
export class AckCounter {
  private pending = 0;
  constructor(private readonly every = ACK_EVERY_BYTES) {}

  /** Records processed bytes; returns the byte count to acknowledge now, or 0. */
  processed(bytes: number): number {
    this.pending += bytes;
    if (this.pending < this.every) return 0;
    const due = this.pending;
    this.pending = 0;
    return due;
  }

  /** Forgets what was counted (a new socket starts its own count). */
  reset(): void {
    this.pending = 0;
  }
}

/** The socket of one terminal. */
export class TerminalConnection {
  private socket: WebSocket | undefined;
  private readonly acks = new AckCounter();
  /** Bumped per socket, so a write callback of an old socket never acks on a new one. */
  private generation = 0;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private ended = false;
  private size: { cols: number; rows: number } | undefined;

  constructor(readonly id: string, private readonly events: TerminalEvents, private readonly url = terminalUrl(id)) {}

  /** Opens the socket (again). */
  connect(): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    const generation = ++this.generation;
    this.acks.reset();
    const socket = new WebSocket(this.url, socketProtocols());
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.send({ type: 'hello', v: TERMINAL_PROTOCOL_VERSION });
    };
    socket.onmessage = (event) => {
      if (generation !== this.generation) return;
      if (typeof event.data === 'string') {
        const message = parseTerminalServerMessage(event.data);
        if (!message) return;
        if (message.type === 'ready') {
          this.attempt = 0;
          this.events.ready(message);
          if (this.size) this.send({ type: 'resize', ...this.size });
        } else if (message.type === 'exit') {
          this.ended = true;
          this.events.exit(message);
        }
        // 'error' precedes a close whose code says the rest.
        return;
      }
      const bytes = new Uint8Array(event.data as ArrayBuffer);
      this.events.output(bytes, () => {
        if (generation !== this.generation) return;
        const due = this.acks.processed(bytes.length);
        if (due > 0) this.send({ type: 'ack', bytes: due });
      });
    };
    socket.onclose = (event) => {
      if (generation !== this.generation || this.disposed || this.ended) return;
      const retrying = !FINAL_CODES.has(event.code) && this.attempt < RETRY_DELAYS_MS.length;
      this.events.closed(closeReason(event.code, event.reason), event.code, retrying);
      if (!retrying) return;
      const delay = RETRY_DELAYS_MS[this.attempt] ?? 15000;
      this.attempt += 1;
      this.timer = setTimeout(() => this.connect(), delay);
    };
    socket.onerror = () => {
      /* onclose follows */
    };
  }

  /** Sends keyboard or paste input (UTF-16 text from xterm's onData). */
  input(text: string): void {
    if (!this.isOpen) return;
    for (const frame of inputFrames(text)) this.socket?.send(frame);
  }

  /** Sends raw bytes (xterm's onBinary gives a string of byte values). */
  inputBinary(data: string): void {
    if (!this.isOpen) return;
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i += 1) bytes[i] = data.charCodeAt(i) & 0xff;
    this.socket?.send(bytes);
  }

  /** Tells the server the screen's size (remembered and sent again after a re-attach). */
  resize(cols: number, rows: number): void {
    if (this.size?.cols === cols && this.size.rows === rows) return;
    this.size = { cols, rows };
    this.send({ type: 'resize', cols, rows });
  }

  /** Closes the socket for good; the shell runs on for the server's grace period. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.socket?.close(1000);
  }

  private get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  private send(message: TerminalClientMessage): void {
    if (this.isOpen) this.socket?.send(JSON.stringify(message));
  }
}
