/** The terminal module's public surface, for the composition root (main.ts) and the HTTP routes. */
export { TerminalManager } from './manager';
export { TerminalError } from './errors';
