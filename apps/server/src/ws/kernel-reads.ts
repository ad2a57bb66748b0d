/** Reads of a lab node's kernel asked on the lab socket: its sysctls once, its conntrack table followed live. */
import type { ClientMessage } from '@nslab/model';
import { netnsName, own } from '@nslab/model';
import { readSysctls } from '../kernel/observe';
import { readOtherSysctls } from '../kernel/sysctl-other';
import { LabError } from '../labs';
import type { Client } from './client';
import type { HubContext } from './context';

/** Answers a `sysctl-read` with the node's kernel knobs. */
export async function answerSysctls(hub: HubContext, client: Client, message: Extract<ClientMessage, { type: 'sysctl-read' }>): Promise<void> {
  const topology = await hub.feed.watch(message.lab);
  try {
    const ns = own(topology.nodes, message.node) ? topology.nodes[message.node] : undefined;
    if (!ns) throw new LabError('not-found', `lab ${message.lab} has no node "${message.node}" whose kernel knobs could be read`);
    const netns = netnsName(message.lab, message.node);
    const [knobs, other] = await Promise.all([readSysctls(netns, Object.keys(ns.interfaces)), readOtherSysctls(netns)]);
    const values = Object.assign(knobs, other);
    hub.send(client, { type: 'sysctls', lab: message.lab, node: message.node, values, ...(message.id ? { id: message.id } : {}) });
  } finally {
    hub.release(message.lab);
  }
}

/** Starts following a node's conntrack table for `client` (afresh when it followed it already). */
export async function watchConntrack(hub: HubContext, client: Client, message: Extract<ClientMessage, { type: 'conntrack-watch' }>): Promise<void> {
  const conntrack = hub.conntrack;
  if (!conntrack) throw new LabError('not-found', 'this server does not read conntrack tables');
  const topology = await hub.feed.watch(message.lab);
  try {
    if (!own(topology.nodes, message.node)) throw new LabError('not-found', `lab ${message.lab} has no node "${message.node}" whose conntrack table could be shown`);
    if (!hub.clients.has(client)) return;
    const key = `${message.lab}\n${message.node}`;
    // Asked again (the lab applied anew after a destroy ended its table): the follow starts afresh.
    client.conntrack.get(key)?.();
    client.conntrack.set(key, conntrack.watch(message.lab, message.node, (m) => hub.send(client, m)));
  } finally {
    hub.release(message.lab);
  }
}

/** Stops following the conntrack tables of a lab's node (every node when none is named). */
export function unwatchConntrack(client: Client, message: Extract<ClientMessage, { type: 'conntrack-unwatch' }>): void {
  for (const [key, stop] of client.conntrack) {
    const [lab, node] = key.split('\n');
    if (lab === message.lab && (message.node === undefined || node === message.node)) {
      stop();
      client.conntrack.delete(key);
    }
  }
}
