/**
 * The terminal channel's wire protocol, as the browser speaks it. The server's
 * definition (apps/server/src/terminal/protocol.ts) uses Node's Buffer, so it cannot
 * be compiled into the page; its messages and constants are restated here, once,
 * and every inbound control message is checked before anyone reads it.
 *
 * One WebSocket per terminal at /ws/term/:id: binary frames carry output (server to
 * client) and input (client to server); text frames carry one JSON control message.
 */

/** Must equal the server's TERMINAL_PROTOCOL_VERSION. */
export const TERMINAL_PROTOCOL_VERSION = 1;

/** Ack at least this often (the server's ACK_EVERY_BYTES, VS Code's CharCountAckSize). */
export const ACK_EVERY_BYTES = 5_000;

/** Input frames are cut to this size: well under the server's 1 MiB frame limit, so a huge paste is never refused. */
export const INPUT_CHUNK_BYTES = 64 * 1024;

/** The server's close codes (see its protocol.ts). */
export const TerminalCloseCode = {
  ended: 1000,
  serverStopping: 1001,
  protocol: 4400,
  notFound: 4404,
  superseded: 4409,
  incompatible: 4426,
} as const;

/** Client -> server control messages. Input travels in binary frames. */
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
  node: string;
  cols: number;
  rows: number;
  replayBytes: number;
}

/** The shell ended; `reason` is a sentence when nslab ended it ("namespace ns1 of lab demo no longer exists"). */
export interface TerminalExit {
  type: 'exit';
  code: number | null;
  signal: string | null;
  reason: string | null;
}

/** Server -> client control messages. */
export type TerminalServerMessage = TerminalReady | TerminalExit | { type: 'error'; message: string };

/** The answer to POST /api/labs/:lab/terminals. */
export interface OpenedTerminal {
  id: string;
  node: string;
  pid: number;
}

/** One entry of GET /api/labs/:lab/terminals. */
export interface ListedTerminal {
  id: string;
  lab: string;
  node: string;
  pid: number;
  attached: boolean;
  exit?: { code: number | null; signal: string | null; reason: string | null } | null;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNullable = <T>(v: unknown, is: (x: unknown) => x is T): v is T | null => v === null || is(v);

/** Decodes one text frame from the server; undefined when it is not a message of this protocol. */
export function parseTerminalMessage(text: string): TerminalServerMessage | undefined {
  if (text.length > 64 * 1024) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const m = data as Record<string, unknown>;
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

/** The sentence for a closed socket that brought no exit message. */
export function closeReason(code: number, reason: string): string {
  switch (code) {
    case TerminalCloseCode.notFound:
      return reason || 'this terminal no longer exists on the server (it ended, or the server restarted)';
    case TerminalCloseCode.serverStopping:
      return reason || 'the server stopped';
    case TerminalCloseCode.superseded:
      return reason || 'this terminal was opened in another tab or window';
    case TerminalCloseCode.incompatible:
      return reason || 'the server speaks another terminal protocol: reload the page';
    case TerminalCloseCode.protocol:
      return reason || 'the server refused a message of this page (protocol error)';
    default:
      return reason || 'the connection to the terminal was lost';
  }
}

/** How an exit reads in the tab: the reason nslab gave, else the status. */
export function describeExit(exit: Pick<TerminalExit, 'code' | 'signal' | 'reason'>): string {
  if (exit.reason) return exit.reason;
  if (exit.signal) return `the shell was ended by ${exit.signal}`;
  if (exit.code === 0 || exit.code === null) return 'the shell exited';
  return `the shell exited with status ${exit.code}`;
}
