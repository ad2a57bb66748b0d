/**
 * The terminal channel: one WebSocket per terminal, at `/ws/term/:id`.
 *
 * Frames
 *   binary, server -> client  terminal output: the bytes the program wrote (UTF-8 in practice).
 *                             A frame never ends inside a UTF-8 sequence, so each frame decodes
 *                             on its own. Feed it to xterm.js as a Uint8Array.
 *   binary, client -> server  keyboard and paste input, UTF-8 (a sequence may span frames).
 *   text, both ways           one JSON control message from the unions below.
 *
 * Sequence
 *   1. The client's first frame is `hello` {v}. A different version gets `error` and close 4426;
 *      anything else first gets `error` and close 4400; silence for HELLO_TIMEOUT_MS, close 4400.
 *   2. The server answers `ready` {replayBytes, ...}, then binary frames carrying the last
 *      replayBytes of output (the replay; the client resets its screen before writing it),
 *      then live output.
 *   3. Flow control: the client sends `ack` {bytes} once xterm.js has processed output (its write
 *      callback), at least every ACK_EVERY_BYTES. The server pauses the pty while more than
 *      HIGH_WATER_BYTES are unacknowledged and resumes below LOW_WATER_BYTES, so a client that
 *      never acks receives at most about HIGH_WATER_BYTES plus the replay and nothing piles up.
 *   4. `resize` {cols, rows} is clamped to 1..MAX_COLS x 1..MAX_ROWS.
 *   5. When the shell ends, the server sends every byte of output it has, then `exit`
 *      {code, signal, reason}, then closes with 1000. `reason` is a sentence for the learner when
 *      nslab ended the shell ("namespace ns1 of lab demo no longer exists"), otherwise null.
 *   6. Closing the socket does not end the shell: it runs on for the grace period and a new
 *      socket attached to the same id gets the replay and the same shell.
 *
 * Close codes: 1000 the terminal ended; 1001 the server is stopping; 4400 protocol violation;
 * 4404 no such terminal; 4408 the socket fell more than 1 MiB behind (attach again for the replay);
 * 4409 another socket attached to this terminal (no longer sent: a second socket is a mirror); 4426 incompatible version.
 *
 * Every inbound frame comes from an untrusted peer: the server reads control messages with
 * `parseTerminalClientMessage`, the page with `parseTerminalServerMessage`. Pure, so the
 * server (apps/server/src/terminal) and the page (apps/web) share one definition.
 */
import { jsonObject } from './json';

/** Protocol version; bump on any incompatible change to the messages below. */
export const TERMINAL_PROTOCOL_VERSION = 1;

/** Widest terminal accepted: a 4K screen at a small font is about 480 columns (clamp bound). */
export const MAX_COLS = 500;

/** Tallest terminal accepted: a portrait 4K screen at a small font is about 180 rows (clamp bound). */
export const MAX_ROWS = 200;

/** Pause the pty above this many unacknowledged output bytes (VS Code FlowControlConstants.HighWatermarkChars, counted in bytes here). */
export const HIGH_WATER_BYTES = 100_000;

/** Resume the pty below this many unacknowledged output bytes (VS Code FlowControlConstants.LowWatermarkChars). */
export const LOW_WATER_BYTES = 5_000;

/** The client should ack at least this often (VS Code FlowControlConstants.CharCountAckSize). */
export const ACK_EVERY_BYTES = 5_000;

/** A socket that has not said hello by then is closed (a browser sends it on open; 10 s covers a slow tab). */
export const HELLO_TIMEOUT_MS = 10_000;

/** Largest frame the server accepts; pass as `maxPayload` to the WebSocketServer (a paste larger than this is refused by ws). */
export const MAX_CLIENT_FRAME_BYTES = 1 << 20;

/** Close codes used on the terminal socket (see the header). */
export const TerminalCloseCode = {
  ended: 1000,
  serverStopping: 1001,
  protocol: 4400,
  notFound: 4404,
  tooSlow: 4408,
  superseded: 4409,
  incompatible: 4426,
} as const;

/** Client -> server control messages (text frames). Input travels in binary frames. */
export type TerminalClientMessage =
  | { type: 'hello'; v: number }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'ack'; bytes: number };

/** The server's answer to hello. `replayBytes` of earlier output follow before live output. */
export interface TerminalReady {
  type: 'ready';
  v: number;
  id: string;
  lab: string;
  /** The node whose network namespace the shell is in. */
  node: string;
  cols: number;
  rows: number;
  /** Bytes of replayed output that follow in binary frames before live output. */
  replayBytes: number;
}

/** The shell ended; `reason` is a sentence when nslab ended it ("namespace ns1 of lab demo no longer exists"). */
export interface TerminalExitMessage {
  type: 'exit';
  code: number | null;
  signal: string | null;
  reason: string | null;
}

/** Server -> client control messages (text frames). Output travels in binary frames. */
export type TerminalServerMessage = TerminalReady | TerminalExitMessage | { type: 'error'; message: string };

/** Clamps a requested terminal size into 1..MAX_COLS x 1..MAX_ROWS (non-integers are floored). */
export function clampTerminalSize(cols: number, rows: number): { cols: number; rows: number } {
  const clamp = (n: number, max: number): number => Math.min(max, Math.max(1, Math.floor(n)));
  return { cols: clamp(cols, MAX_COLS), rows: clamp(rows, MAX_ROWS) };
}

/** Validates one JSON control message; returns the message or a sentence saying what is wrong. */
export function parseTerminalClientMessage(text: string): TerminalClientMessage | string {
  if (text.length > 1024) return `control message of ${text.length} characters is too long (at most 1024)`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'control message is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'control message is not a JSON object';
  const m = value as Record<string, unknown>;
  const isInt = (x: unknown, min: number, max: number): x is number =>
    typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
  switch (m.type) {
    case 'hello':
      if (!isInt(m.v, 0, 1_000_000)) return 'hello needs an integer version "v"';
      return { type: 'hello', v: m.v };
    case 'resize':
      // Out-of-range sizes are clamped, not refused: a huge window should still get a terminal.
      if (typeof m.cols !== 'number' || typeof m.rows !== 'number' || !Number.isFinite(m.cols) || !Number.isFinite(m.rows)) {
        return 'resize needs numbers "cols" and "rows"';
      }
      return { type: 'resize', ...clampTerminalSize(m.cols, m.rows) };
    case 'ack':
      if (!isInt(m.bytes, 0, Number.MAX_SAFE_INTEGER)) return 'ack needs a non-negative integer "bytes"';
      return { type: 'ack', bytes: m.bytes };
    default:
      return `unknown control message type ${JSON.stringify(String(m.type)).slice(0, 40)}`;
  }
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNullable = <T>(v: unknown, is: (x: unknown) => x is T): v is T | null => v === null || is(v);

/** Decodes one text frame from the server; undefined when it is not a message of this protocol. */
export function parseTerminalServerMessage(text: string): TerminalServerMessage | undefined {
  const m = jsonObject(text, 64 * 1024);
  if (!m) return undefined;
  switch (m.type) {
    case 'ready':
      if (!isInt(m.v) || !isStr(m.id) || !isStr(m.lab) || !isStr(m.node) || !isInt(m.cols) || !isInt(m.rows) || !isInt(m.replayBytes)) return undefined;
      return { type: 'ready', v: m.v, id: m.id, lab: m.lab, node: m.node, cols: m.cols, rows: m.rows, replayBytes: m.replayBytes };
    case 'exit':
      if (!isNullable(m.code, isInt) || !isNullable(m.signal, isStr) || !isNullable(m.reason, isStr)) return undefined;
      return { type: 'exit', code: m.code, signal: m.signal, reason: m.reason };
    case 'error':
      return isStr(m.message) ? { type: 'error', message: m.message } : undefined;
    default:
      return undefined;
  }
}

