/**
 * The lab socket's conntrack messages, kept apart from the core protocol, which imports
 * them: a client follows one namespace's connection-tracking table (what NAT is
 * remembering), and the server sends the whole table whenever the kernel reports a
 * change, and again every few seconds while watched, so timeouts stay true.
 */
import { z } from 'zod';
import type { ConntrackEntry } from '../packet/trace';

const labName = z.string().min(1).max(24);
const nodeName = z.string().min(1).max(24);
const port = z.number().int().min(0).max(65535);

/** One direction of a conntrack entry, checked field by field (the server's table reaches the page as data). */
export const conntrackTuple = z.strictObject({ src: z.string().max(64), dst: z.string().max(64), sport: port.optional(), dport: port.optional() });

/** One conntrack entry on the wire. */
export const conntrackEntry: z.ZodType<ConntrackEntry> = z.strictObject({
  node: z.string().max(24),
  proto: z.string().max(16),
  state: z.string().max(24),
  original: conntrackTuple,
  reply: conntrackTuple,
  flags: z.array(z.string().max(24)).max(8),
  timeout: z.number().int().nonnegative(),
});

/** Entries one `conntrack` message carries at most: a table page a person can read, and well under MAX_MESSAGE_BYTES (about 250 bytes each). */
export const MAX_LIVE_CONNTRACK = 500;

/** Conntrack messages a client may send. */
export const conntrackClientMessages = [
  /** Follow a namespace's conntrack table: a `conntrack` message now and on every change. */
  z.strictObject({ type: z.literal('conntrack-watch'), lab: labName, node: nodeName }),
  /** Stop following a node's table (or, without a node, every table of the lab). */
  z.strictObject({ type: z.literal('conntrack-unwatch'), lab: labName, node: nodeName.optional() }),
] as const;

/** Conntrack messages the server sends. */
export const conntrackServerMessages = [
  /**
   * A namespace's table as read at `at` (ms since the epoch): up to MAX_LIVE_CONNTRACK
   * entries of `total`; `error` says in words why it could not be read.
   */
  z.object({
    type: z.literal('conntrack'), lab: z.string(), node: z.string(),
    entries: z.array(conntrackEntry).max(MAX_LIVE_CONNTRACK), total: z.number().int().nonnegative(), at: z.number(),
    error: z.string().optional(),
  }),
] as const;

/** A conntrack message the server sends. */
export type ConntrackServerMessage = z.infer<(typeof conntrackServerMessages)[number]>;
