/**
 * Terminal errors and the catalogue of learner-facing sentences they carry.
 * Every message a learner can see from the terminal module is built here.
 */

/** What went wrong, for callers that branch (e.g. HTTP status: limit -> 429, not-found -> 404). */
export type TerminalErrorCode =
  | 'bad-name' // a lab or node name that fails NAME_PATTERN
  | 'limit' // the lab already has maxPerLab live terminals
  | 'no-namespace' // the node's network namespace does not exist
  | 'no-host-node' // a host terminal was asked for in a lab without a node called host, and no fallback was given
  | 'not-found' // no terminal with that id
  | 'closed' // the manager (server stop) or the lab (closeLab during the open) was closed
  | 'not-contained' // a classroom trainee's shell in a lab whose namespaces their user namespace does not own
  | 'command' // a helper command (unshare, nsenter, mount) failed
  | 'spawn'; // node-pty could not start the shell

/** Context carried by a TerminalError: what was being done, and what the kernel or tool said. */
export interface TerminalErrorContext {
  lab?: string;
  node?: string;
  id?: string;
  argv?: readonly string[];
  exitCode?: number | null;
  stderr?: string;
  cause?: unknown;
}

/** A typed terminal error; `message` is a sentence a learner can act on, `context` is for logs. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(
    readonly code: TerminalErrorCode,
    message: string,
    readonly context: TerminalErrorContext = {},
  ) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
  }
}

/** The catalogue: one function per sentence. */
export const terminalMessages = {
  badName: (what: 'lab' | 'node', name: string): string =>
    `${what} name ${JSON.stringify(name.slice(0, 40))} is not valid: use 1-24 of a-z, 0-9 and '-', starting with a letter or digit`,
  limit: (lab: string, max: number): string =>
    `lab ${lab} already has ${max} terminals open; close one first (limit set by --max-terminals)`,
  noNamespace: (lab: string, node: string): string =>
    `namespace ${node} of lab ${lab} does not exist; create the node before opening a terminal in it`,
  gone: (lab: string, node: string): string => `namespace ${node} of lab ${lab} no longer exists`,
  noHostNode: (lab: string): string =>
    `lab ${lab} has no node called host; choose the node whose network the host terminal should use`,
  hostNode: (lab: string, why: string): string => `could not create the host node of lab ${lab} for its host terminal: ${why}`,
  notFound: (id: string): string =>
    `terminal ${id.slice(0, 40)} does not exist (it ended, or the server restarted); open a new terminal`,
  closed: (): string => 'the server is stopping; no new terminals can be opened',
  labClosed: (lab: string): string => `lab ${lab} was closed`,
  closedByUser: (): string => 'the terminal was closed',
  idle: (ms: number): string => `closed after ${duration(ms)} without input or output`,
  grace: (ms: number): string => `closed: no browser was attached for ${duration(ms)}`,
  serverStopping: (): string => 'the server stopped',
  superseded: (): string => 'this terminal was opened in another tab or window',
  readOnly: (): string => 'this terminal is open in another tab or window: this one only watches, and takes over when that one closes',
  promoted: (): string => 'the other tab or window closed: this one types now',
  tooSlow: (bytes: number): string => `this tab fell more than ${Math.round(bytes / 1024)} KiB behind the terminal's output; attach again to catch up`,
  detached: (): string => 'the server detached this window from the terminal; the shell is still running',
  helloExpected: (): string => 'the first message on a terminal socket must be hello',
  incompatible: (theirs: number, ours: number): string =>
    `this page speaks terminal protocol ${theirs} but the server speaks ${ours}; reload the page`,
  inputTooLarge: (max: number): string =>
    `input dropped: more than ${max} characters are already waiting to be typed; paste less at once`,
  command: (argv: readonly string[], stderr: string): string =>
    `could not prepare the terminal: ${argv.join(' ')} failed${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''}`,
  notContained: (lab: string): string =>
    `lab ${lab} was made before this classroom contained its trainees, so its namespaces belong to the machine and a trainee's shell cannot enter them: destroy the lab and apply it again (the new one is yours)`,
  spawn: (lab: string, node: string, why: string): string => `could not start a shell in ${node} of lab ${lab}: ${why}`,
};

/** "30 minutes", "1 minute", "45 seconds": durations in messages. */
function duration(ms: number): string {
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  return ms >= 120_000 ? plural(Math.round(ms / 60_000), 'minute') : plural(Math.max(1, Math.round(ms / 1000)), 'second');
}
