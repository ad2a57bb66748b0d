/**
 * Ping traces asked on the lab socket: the node checked, the trace run in the lab
 * (capture/lab-trace.ts), the result sent to the asker and to every other view of the lab.
 */
import type { ClientMessage } from '@nslab/model';
import { own } from '@nslab/model';
import { PingTraceError, traceInLab } from '../capture/index';
import { LabError } from '../labs/service';
import type { Client } from './client';
import type { HubContext } from './context';

/** Runs a `trace` request of `client` and sends its result; a trace that cannot run is a LabError saying why. */
export async function answerTrace(hub: HubContext, client: Client, message: Extract<ClientMessage, { type: 'trace' }>): Promise<void> {
  const topology = await hub.feed.watch(message.lab);
  if (!own(topology.nodes, message.node)) throw new LabError('not-found', `lab ${message.lab} has no node "${message.node}" to trace from`);
  try {
    const result = await traceInLab({
      lab: message.lab, nodes: Object.keys(topology.nodes), source: message.node, destination: message.destination,
      ...(message.proto !== undefined ? { proto: message.proto } : {}), ...(message.port !== undefined ? { port: message.port } : {}),
    });
    hub.send(client, { type: 'trace', lab: message.lab, result, ...(message.id ? { id: message.id } : {}) });
    // Every other view of the lab shows the trace too: the owner's other pages, the instructor's and live views
    // (without the asker's id: it answers no request of theirs). Only a lab's own principals subscribe to it.
    for (const c of hub.clients) {
      if (c !== client && c.labs.has(message.lab)) hub.send(c, { type: 'trace', lab: message.lab, result });
    }
  } catch (err) {
    if (err instanceof PingTraceError) throw new LabError('invalid', err.message);
    throw err;
  } finally {
    hub.release(message.lab);
  }
}
