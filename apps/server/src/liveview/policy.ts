/**
 * What a viewer of a live-view link may ask for: what shows its lab, and nothing that changes a
 * thing. One table for the lab socket (every client message is classed, so a new message is a
 * compile error until someone decides) and one list for HTTP.
 */
import type { ClientMessage } from '@nslab/model';
import { LabError } from '../labs/service';

/** `show`: reads what is there; `change`: changes the kernel, a lesson or runs probes in the lab. */
type Access = 'show' | 'change';

/** Each lab-socket message, classed. */
const SOCKET: Record<ClientMessage['type'], Access> = {
  ping: 'show',
  subscribe: 'show',
  unsubscribe: 'show',
  'watch-packets': 'show',
  'unwatch-packets': 'show',
  'conntrack-watch': 'show',
  'conntrack-unwatch': 'show',
  // Reads /proc/sys in the lab's namespaces: the inspector's knobs, shown as they are.
  'sysctl-read': 'show',
  'lesson-list': 'show',
  'lesson-watch': 'show',
  'lesson-unwatch': 'show',
  apply: 'change',
  edit: 'change',
  destroy: 'change',
  // A trace sends probes (ping, a TCP connection) from inside the lab: the lab's traffic changes.
  trace: 'change',
  'lesson-start': 'change',
  'lesson-solve': 'change',
  'lesson-reset': 'change',
};

/** The sentence every refusal to a viewer says. */
export function readOnlySentence(name: string): string {
  return `this is a read-only live view of ${name}: it shows, it does not change`;
}

/** Throws the read-only refusal when a viewer of lab `name` sends a message that changes something. */
export function admitViewerMessage(name: string, message: ClientMessage): void {
  if (SOCKET[message.type] === 'change') throw new LabError('read-only', readOnlySentence(name));
}

/**
 * The HTTP reads a viewer may make, as paths under /api: what the page needs to show a lab (who
 * it is, the lab, its export, its terminal list, its command log, a capture's download and the
 * signed URL that download takes). Any other route, and any other method, is refused.
 */
const HTTP_READS: readonly RegExp[] = [
  /^\/version$/,
  /^\/session$/,
  /^\/labs$/,
  /^\/labs\/[^/]+$/,
  /^\/labs\/[^/]+\/(?:export|terminals|pcap|history)$/,
];

/** Whether a viewer may make this request (method and path under /api). */
export function viewerMayRequest(method: string, path: string): boolean {
  if (method === 'POST') return path === '/signed-url';
  return (method === 'GET' || method === 'HEAD') && HTTP_READS.some((r) => r.test(path));
}
