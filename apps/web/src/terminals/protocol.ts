/**
 * What the page adds to the terminal channel's protocol (packages/model,
 * protocol/terminal.ts, shared with the server): input chunking and the sentences a
 * closed socket or an ended shell reads as. Every inbound control message is checked
 * before use, by the model's parseTerminalServerMessage.
 *
 * One WebSocket per terminal at /ws/term/:id: binary frames carry output (server to
 * client) and input (client to server); text frames carry one JSON control message.
 */

import { TerminalCloseCode } from '@nslab/model';
import type { TerminalExitMessage } from '@nslab/model';


/** Input frames are cut to this size: well under the server's 1 MiB frame limit, so a huge paste is never refused. */
export const INPUT_CHUNK_BYTES = 64 * 1024;

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
export function describeExit(exit: Pick<TerminalExitMessage, 'code' | 'signal' | 'reason'>): string {
  if (exit.reason) return exit.reason;
  if (exit.signal) return `the shell was ended by ${exit.signal}`;
  if (exit.code === 0 || exit.code === null) return 'the shell exited';
  return `the shell exited with status ${exit.code}`;
}
