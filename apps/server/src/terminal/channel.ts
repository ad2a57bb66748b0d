/**
 * One WebSocket attached to one terminal: the handshake, validation of every inbound frame, and
 * the server's side of the protocol in protocol.ts. The manager decides which terminal a socket
 * gets; the channel only speaks the protocol.
 */
import type { WebSocket } from 'ws';
import { assertNever, HELLO_TIMEOUT_MS, TERMINAL_PROTOCOL_VERSION, TerminalCloseCode, type TerminalServerMessage } from '@nslab/model';
import { terminalMessages } from './errors';
import { encodeServerMessage, parseClientFrame } from './protocol';
import type { Terminal, TerminalExit, TerminalSink } from './terminal';
import { MAX_SINK_QUEUED_BYTES, type OutputBudget } from './budget';
import { completeUtf8Length, splitUtf8 } from './utf8';

/** The part of a `ws` WebSocket a channel uses: a server-side `ws.WebSocket` fits as is. */
export type TerminalSocket = Pick<WebSocket, 'send' | 'close' | 'on' | 'readyState'>;


/** Replay is sent in frames of at most this size (the size of one pty read, 64 KiB, so replay and live frames look alike). */
const REPLAY_FRAME_BYTES = 64 * 1024;

/** ws's readyState for an open socket (WebSocket.OPEN). */
const OPEN = 1;

/** What the manager is told by a channel. */
export interface ChannelHooks {
  /** The client said hello: the terminal to attach to, or a sentence saying why there is none. */
  resolve(): Terminal | string;
  /** The socket went away while attached to `terminal` (not when dropped). */
  detached(terminal: Terminal): void;
  /** `exit` was delivered to the client for `terminal`. */
  exitDelivered(terminal: Terminal): void;
}

/** The server's end of one terminal socket. */
export class SocketChannel implements TerminalSink {
  private state: 'hello' | 'open' | 'closed' = 'hello';
  private terminal: Terminal | undefined;
  private readonly helloTimer: NodeJS.Timeout;
  /** Output handed to `ws` that it has not yet written to the kernel. */
  private inFlight = 0;
  /** Whether a mirror has been told once that its input is refused. */
  private toldReadOnly = false;

  constructor(
    private readonly ws: TerminalSocket,
    private readonly hooks: ChannelHooks,
    private readonly budget?: OutputBudget,
    /** A live view's socket: it only watches, and its refused input is answered with `readOnly`, a sentence that says why. */
    private readonly watchOnly?: { readOnly: string },
  ) {
    this.helloTimer = setTimeout(() => this.fail(TerminalCloseCode.protocol, terminalMessages.helloExpected()), HELLO_TIMEOUT_MS);
    this.helloTimer.unref();
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('close', () => this.onClose());
    // ws emits 'error' for protocol errors from the peer and closes the socket; without a
    // listener the error would be thrown. The 'close' that follows does the cleanup.
    ws.on('error', () => undefined);
  }

  /** Closes the socket with an error before or instead of attaching. */
  fail(code: number, message: string): void {
    if (this.state === 'closed') return;
    this.send({ type: 'error', message });
    this.closeSocket(code, message);
  }

  /**
   * TerminalSink: live output. Counted until `ws` has written it: the owner's pty pauses on that
   * count (terminal.ts), and a socket that lets it pass MAX_SINK_QUEUED_BYTES anyway (a mirror
   * that does not read) is dropped rather than followed.
   */
  output(bytes: Buffer): void {
    if (this.state !== 'open' || this.ws.readyState !== OPEN) return;
    if (this.inFlight + bytes.length > MAX_SINK_QUEUED_BYTES) {
      return this.dropSlow();
    }
    const n = bytes.length;
    this.inFlight += n;
    this.budget?.add(n);
    this.ws.send(bytes, { binary: true }, () => {
      // Written (or failed with the socket): either way no longer held for this client.
      this.inFlight -= n;
      this.budget?.remove(n);
      this.terminal?.drained();
    });
  }

  /** TerminalSink: output queued in the server for this socket. */
  queued(): number {
    return this.inFlight;
  }

  /** TerminalSink: the owner went and this mirror took its place. */
  promoted(): void {
    this.notice(terminalMessages.promoted());
  }

  private dropSlow(): void {
    const terminal = this.terminal;
    this.terminal = undefined;
    this.fail(TerminalCloseCode.tooSlow, terminalMessages.tooSlow(MAX_SINK_QUEUED_BYTES));
    if (terminal && terminal.detach(this)) this.hooks.detached(terminal);
  }

  /** TerminalSink: the shell ended after its last output; say so and close. */
  exit(exit: TerminalExit): void {
    if (this.state !== 'open') return;
    this.send({ type: 'exit', ...exit });
    this.closeSocket(TerminalCloseCode.ended, 'terminal ended');
    const terminal = this.terminal;
    this.terminal = undefined;
    if (terminal) {
      terminal.detach(this);
      // A live view seeing the exit is not the learner seeing it: the record waits for them.
      if (!this.watchOnly) this.hooks.exitDelivered(terminal);
    }
  }

  /** TerminalSink: a sentence for the learner. */
  notice(message: string): void {
    this.send({ type: 'error', message });
  }

  /** TerminalSink: no longer attached (another socket took the terminal, or the server detached it). */
  dropped(code: number, message: string): void {
    this.terminal = undefined; // no longer ours: do not detach it on close
    this.fail(code, message);
  }

  private send(message: TerminalServerMessage): void {
    if (this.state !== 'closed' && this.ws.readyState === OPEN) this.ws.send(encodeServerMessage(message));
  }

  private closeSocket(code: number, reason: string): void {
    clearTimeout(this.helloTimer);
    this.state = 'closed';
    // A close reason is limited to 123 bytes by RFC 6455; cut it on a character boundary.
    const bytes = Buffer.from(reason).subarray(0, 123);
    this.ws.close(code, bytes.subarray(0, completeUtf8Length(bytes)).toString('utf8'));
  }

  private onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.state === 'closed') return;
    const frame = parseClientFrame(data, isBinary);
    if (this.state === 'hello') {
      if (frame.kind !== 'message' || frame.message.type !== 'hello') return this.fail(TerminalCloseCode.protocol, terminalMessages.helloExpected());
      if (frame.message.v !== TERMINAL_PROTOCOL_VERSION) {
        return this.fail(TerminalCloseCode.incompatible, terminalMessages.incompatible(frame.message.v, TERMINAL_PROTOCOL_VERSION));
      }
      clearTimeout(this.helloTimer);
      return this.connect();
    }
    const terminal = this.terminal;
    if (terminal === undefined) return;
    // A mirror watches: its input, resizes and acknowledgements are not the terminal's.
    if (!terminal.owns(this) && frame.kind !== 'invalid') {
      if (frame.kind === 'input' && !this.toldReadOnly) {
        this.toldReadOnly = true;
        this.notice(this.watchOnly?.readOnly ?? terminalMessages.readOnly());
      }
      return;
    }
    switch (frame.kind) {
      case 'input':
        return terminal.input(frame.bytes);
      case 'invalid':
        return this.send({ type: 'error', message: frame.reason });
      case 'message': {
        const message = frame.message;
        switch (message.type) {
          case 'resize':
            return terminal.resize(message.cols, message.rows);
          case 'ack':
            return terminal.ack(message.bytes);
          case 'hello':
            return this.send({ type: 'error', message: 'hello was already received on this socket' });
          default:
            return assertNever(message);
        }
      }
      default:
        return assertNever(frame);
    }
  }

  private connect(): void {
    const resolved = this.hooks.resolve();
    if (typeof resolved === 'string') return this.fail(TerminalCloseCode.notFound, resolved);
    this.terminal = resolved;
    this.state = 'open';
    const { replay } = resolved.attach(this, { watchOnly: this.watchOnly !== undefined });
    const { id, lab, node } = resolved.identity;
    this.send({ type: 'ready', v: TERMINAL_PROTOCOL_VERSION, id, lab, node, cols: resolved.cols, rows: resolved.rows, replayBytes: replay.length });
    for (const frame of splitUtf8(replay, REPLAY_FRAME_BYTES)) this.output(frame);
    // A shell that ended while nobody was attached: the replay above, then its exit.
    const ended = resolved.exit;
    if (ended) this.exit(ended);
  }

  private onClose(): void {
    clearTimeout(this.helloTimer);
    const terminal = this.terminal;
    this.terminal = undefined;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (wasOpen && terminal && terminal.detach(this)) this.hooks.detached(terminal);
  }
}
