/**
 * The page's one connection to the server. Made here, started by main.tsx (the
 * composition root), used by whoever needs to send.
 */
import { Connection } from './connection';

/** The connection every part of the page sends through. */
export const client = new Connection();

let counter = 0;
/** This page's mark in its request ids: the command log outlives the page (history.ts), so ids must not repeat after a reload. */
const pageTag = Math.random().toString(36).slice(2, 8);

/** A request id, unique within the page and across its reloads. */
export function requestId(prefix: string): string {
  counter += 1;
  return `${prefix}${pageTag}-${counter}`;
}
