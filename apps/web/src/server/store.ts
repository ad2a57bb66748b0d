/**
 * The connection store: whether the socket to the server is up, and what the server
 * said about itself. Shown in the top bar's status region.
 */
import { create } from 'zustand';

/** Where the connection stands. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'incompatible' | 'refused';

/** The state of the connection store. */
export interface ConnectionState {
  status: ConnectionStatus;
  /** The server's name and version, from its hello. */
  server?: string;
  /** Why the connection is not open, in words. */
  detail?: string;
  /** When the next attempt is due (ms since the epoch), while reconnecting. */
  retryAt?: number;
  set(update: Partial<Omit<ConnectionState, 'set'>>): void;
}

/** The one connection store. */
export const useConnection = create<ConnectionState>()((set) => ({
  status: 'connecting',
  set(update) {
    set(update);
  },
}));
