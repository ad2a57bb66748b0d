/**
 * Where each server message goes: kernel state to the lab store, answers to edits
 * to the edit pipeline, the server's hello to the connection store. The only writer
 * of the lab store.
 */
import type { ServerMessage } from '@nslab/model';
import { useConnection } from './store';
import { useLab } from '../state/lab';
import { handleOpMessage } from '../editing/submit';
import { TRACE_ID_PREFIX } from '../trace/store';

/** Listeners for the messages of other features (packets, captures, traces). */
const listeners = new Set<(message: ServerMessage) => void>();

/** Lets another part of the page hear every server message; returns the way to stop. */
export function listen(fn: (message: ServerMessage) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Routes one message from the server. */
export function dispatch(message: ServerMessage): void {
  for (const fn of listeners) fn(message);
  switch (message.type) {
    case 'hello':
      useConnection.getState().set({ status: 'open', server: message.server, detail: undefined, retryAt: undefined });
      useLab.getState().setLabs(message.labs);
      return;
    case 'labs':
      useLab.getState().setLabs(message.labs);
      return;
    case 'snapshot':
      performance.mark('nslab:snapshot');
      useLab.getState().snapshot(message.lab, message.topology, message.meta);
      return;
    case 'patch':
      useLab.getState().patch(message.lab, message.changes);
      return;
    case 'error':
      // A lab that does not exist yet is an empty lab: the first node creates it.
      if (!message.id && message.code === 'not-found' && message.lab !== undefined && message.lab === useLab.getState().lab) {
        useLab.getState().snapshot(message.lab, { name: message.lab, nodes: {}, links: [] }, {});
        return;
      }
      // An answer to a ping trace: the trace panel (a listener above) shows it.
      if (message.id?.startsWith(TRACE_ID_PREFIX)) return;
      handleOpMessage(message);
      return;
    case 'plan':
    case 'progress':
    case 'result':
      handleOpMessage(message);
      return;
    case 'pong':
    case 'packets':
    case 'aggregate':
    case 'capture':
    case 'trace':
    case 'lessons':
    case 'lesson':
    case 'lesson-status':
    case 'conntrack':
    case 'sysctls':
      return; // for the listeners above
    default: {
      const never: never = message;
      throw new Error(`unexpected message ${JSON.stringify(never)}`);
    }
  }
}
