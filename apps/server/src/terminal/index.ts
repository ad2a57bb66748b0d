/** The terminal module's public surface, for the composition root (main.ts) and the web client's types. */
export {
  TerminalManager,
  DEFAULT_GRACE_MS,
  DEFAULT_IDLE_MS,
  DEFAULT_MAX_TERMINALS_PER_LAB,
  type OpenRequest,
  type TerminalInfo,
  type TerminalManagerOptions,
} from './manager';
export { TerminalError, terminalMessages, type TerminalErrorCode } from './errors';
export type { TerminalSocket } from './channel';
export type { TerminalExit } from './terminal';
export * from './protocol';
