/** One socket on the lab hub and what it follows: labs, packet captures, conntrack tables, a lesson. */
import type { WebSocket } from 'ws';
import type { ServerMessage } from '@nslab/model';
import type { Principal } from '../classroom/scope';
import { kernelLab } from '../classroom/scope';

/** A connected socket's state, kept by the hub until the socket closes. */
export interface Client {
  ws: WebSocket;
  labs: Set<string>;
  packets: Map<string, () => void>;
  /** Labs whose patches this client missed (its socket was congested): it gets a fresh snapshot of each. */
  resync: Set<string>;
  /** Labs whose fresh snapshot is being prepared: their patches are held back, the snapshot will include them. */
  resyncing: Set<string>;
  /** Where this client's lesson messages go, while it follows a lesson. */
  lessonSend?: (m: ServerMessage) => void;
  /** The conntrack tables this client follows, by "lab\nnode": the function that stops each. */
  conntrack: Map<string, () => void>;
  /** Whose labs it sees: a trainee names their own labs only, and sees only them (classroom/scope.ts). */
  principal: Principal;
}

/** A new client's state: following nothing yet. */
export function newClient(ws: WebSocket, principal: Principal): Client {
  return { ws, labs: new Set(), packets: new Map(), resync: new Set(), resyncing: new Set(), conntrack: new Map(), principal };
}

/** The kernel name of a lab a principal named, for an error about it; undefined when the name itself is wrong. */
export function knownAs(principal: Principal, lab: string): string | undefined {
  try {
    return kernelLab(principal, lab);
  } catch {
    return undefined;
  }
}
