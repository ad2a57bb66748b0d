/**
 * The page's one connection to the server. Made here, started by main.tsx (the
 * composition root), used by whoever needs to send.
 */
import { Connection } from './connection';

/** The connection every part of the page sends through. */
export const client = new Connection();

let counter = 0;

/** A request id, unique within the page. */
export function requestId(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}
