/**
 * The WebSocket to the server: one per page, reconnecting on its own with backoff.
 * Inbound messages are checked for shape before anyone reads them (the socket is
 * a boundary); outbound ones are the protocol's ClientMessage type.
 */
import { jsonObject, MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from '@nslab/model';
import type { ClientMessage, ServerMessage } from '@nslab/model';

/** First and longest wait before reconnecting (ms): quick after a server restart, gentle when it stays down. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 8000;

/** Every type of server message; a record, so the compiler says when the protocol gains one. */
const SERVER_TYPE_RECORD: Record<ServerMessage['type'], true> = {
  hello: true, labs: true, snapshot: true, patch: true, plan: true, progress: true, result: true, error: true, pong: true,
  packets: true, aggregate: true, capture: true, trace: true,
  lessons: true, lesson: true, 'lesson-status': true,
};
const SERVER_TYPES = new Set(Object.keys(SERVER_TYPE_RECORD));

/** Decodes a server message; undefined when it is not one (too big, not JSON, unknown type). */
export function parseServerMessage(text: string): ServerMessage | undefined {
  const data = jsonObject(text, MAX_MESSAGE_BYTES * 4);
  if (!data || typeof data.type !== 'string' || !SERVER_TYPES.has(data.type)) return undefined;
  return data as ServerMessage;
}

/** The delay before reconnect attempt `n` (0-based): doubling, capped, with 20% jitter so tabs do not stampede. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** What the connection tells its owner. */
export interface ConnectionEvents {
  /** A message from the server (after the version check). */
  message(message: ServerMessage): void;
  /** The socket opened and the server's hello matched our protocol. */
  ready(hello: Extract<ServerMessage, { type: 'hello' }>): void;
  /** The socket closed; `retryIn` is when the next attempt is due, undefined when we stopped for good. */
  down(reason: string, retryIn: number | undefined): void;
}

/** A reconnecting WebSocket speaking the nslab protocol. */
export class Connection {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private url = '';
  private ready = false;
  private events: ConnectionEvents | undefined;

  /** Connects to `url` and keeps reconnecting until `stop`. */
  start(url: string, events: ConnectionEvents): void {
    this.url = url;
    this.events = events;
    this.stopped = false;
    this.open();
  }

  /** Closes the socket and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close();
  }

  /** Sends a message; false when the socket is not ready (the caller says so to the user). */
  send(message: ClientMessage): boolean {
    if (!this.socket || !this.ready || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** True when messages can be sent. */
  get isReady(): boolean {
    return this.ready && this.socket?.readyState === WebSocket.OPEN;
  }

  private open(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.ready = false;
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      const message = parseServerMessage(event.data);
      if (!message) return;
      if (message.type === 'hello') {
        if (message.protocol !== PROTOCOL_VERSION) {
          this.stopped = true;
          this.events?.down(`the server speaks protocol ${message.protocol}, this page ${PROTOCOL_VERSION}: reload the page (or update nslab)`, undefined);
          socket.close();
          return;
        }
        this.attempt = 0;
        this.ready = true;
        this.events?.message(message);
        this.events?.ready(message);
        return;
      }
      this.events?.message(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.ready = false;
      if (this.stopped) return;
      const delay = retryDelay(this.attempt);
      this.attempt += 1;
      const reason = event.code === 1008 || event.code === 4401 ? 'the server refused this page: open the address that `nslab serve` printed (with its token)' : 'the connection to the server is lost';
      this.events?.down(reason, delay);
      this.timer = setTimeout(() => this.open(), delay);
    };
    socket.onerror = () => {
      /* onclose follows and reconnects */
    };
  }
}
