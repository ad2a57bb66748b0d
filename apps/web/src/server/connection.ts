/**
 * The WebSocket to the server: one per page, reconnecting on its own with backoff.
 * Every inbound message is validated against the protocol's schema before anyone
 * reads it (the socket is a boundary); outbound ones are the protocol's ClientMessage type.
 */
import { parseServerMessage, PROTOCOL_VERSION } from '@nslab/model';
import type { ClientMessage, ServerMessage } from '@nslab/model';
import { socketProtocols, TOKEN_REFUSED, tokenRefused } from './credentials';

/** First and longest wait before reconnecting (ms): quick after a server restart, gentle when it stays down. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 8000;

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
  /**
   * The socket closed; `retryIn` is when the next attempt is due, undefined when we stopped for good
   * (`refused`: the server refuses this page's token, and trying again cannot help).
   */
  down(reason: string, retryIn: number | undefined, refused?: boolean): void;
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
    const socket = new WebSocket(this.url, socketProtocols());
    this.socket = socket;
    this.ready = false;
    let opened = false;
    socket.onopen = () => { opened = true; };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      const parsed = parseServerMessage(event.data);
      if (!parsed.ok) {
        console.warn(`nslab: ignored a server message: ${parsed.error}`);
        return;
      }
      const message = parsed.message;
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
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.ready = false;
      if (this.stopped) return;
      if (!opened) {
        // Refused before opening: a server that is down, or one that refuses our token (a 401 the
        // socket API does not show). The API says which; a refused token is final.
        void tokenRefused().then((refused) => {
          if (this.socket !== socket || this.stopped) return;
          if (refused) {
            this.stopped = true;
            this.events?.down(TOKEN_REFUSED, undefined, true);
          } else this.retry();
        });
        return;
      }
      this.retry();
    };
    socket.onerror = () => {
      /* onclose follows and reconnects */
    };
  }

  private retry(): void {
    const delay = retryDelay(this.attempt);
    this.attempt += 1;
    this.events?.down('the connection to the server is lost', delay);
    this.timer = setTimeout(() => this.open(), delay);
  }
}
