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
 *   6. Closing the socket does not end the shell: it runs on until its lab is destroyed or its
 *      idle timeout passes, and a new socket attached to the same id gets the replay and the same shell.
 *   7. A socket attached while another is attached is a read-only mirror: replay and output,
 *      its input, resizes and acks ignored (one `error` says so). When the owner goes, the
 *      first mirror becomes the owner (an `error` says so too). An ack of more than was sent
 *      and not acknowledged is ignored, and the pty also pauses while the socket's own queue in
 *      the server is above HIGH_WATER_BYTES: acknowledging what was never read gains nothing.
 *
 * Close codes: 1000 the terminal ended; 1001 the server is stopping; 4400 protocol violation;
 * 4404 no such terminal; 4408 the socket fell more than 1 MiB behind (attach again for the replay);
 * 4409 another socket attached to this terminal (no longer sent: a second socket is a mirror); 4426 incompatible version.
 *
 * Every inbound frame comes from an untrusted peer and goes through `parseTerminalClientMessage`.
 * The messages and constants are defined once in packages/model (protocol/terminal.ts), shared
 * with the page, and imported from there under their own names; this file adds what needs Node's Buffer.
 */

import type { TerminalClientMessage, TerminalServerMessage } from '@nslab/model';
import { parseTerminalClientMessage } from '@nslab/model';

/** A decoded client frame, or why it was refused (the reason is sent back as `error`). */
export type ParsedClientFrame =
  | { kind: 'message'; message: TerminalClientMessage }
  | { kind: 'input'; bytes: Buffer }
  | { kind: 'invalid'; reason: string };

/** Decodes and validates one inbound frame as `ws` delivers it (data, isBinary). */
export function parseClientFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): ParsedClientFrame {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (isBinary) return { kind: 'input', bytes };
  const parsed = parseTerminalClientMessage(bytes.toString('utf8'));
  return typeof parsed === 'string' ? { kind: 'invalid', reason: parsed } : { kind: 'message', message: parsed };
}

/** Serialises a server control message for a text frame. */
export function encodeServerMessage(message: TerminalServerMessage): string {
  return JSON.stringify(message);
}
