/**
 * The wire protocol between the browser and the server, defined once. Every message
 * is JSON with a `type`. Client messages are schemas (the server validates each one:
 * it comes from an untrusted peer); server messages are types both sides compile against.
 *
 * Flow: the client connects to /ws and receives `hello`; it sends `subscribe` for a
 * lab and receives a `snapshot`, then `patch`es as the kernel changes. `apply`/`edit`
 * answer with `plan`, then `progress` per op as it runs, then `result`.
 */
import { z } from 'zod';
import { editSchema } from './edit';
import type { Change } from './patch';
import type { Op } from './op';
import type { Problem } from './problem';
import type { Topology } from './topology';
import type { TopologyMeta } from './file';
import type { NodePacketEvent, PacketProtocol } from './packet/event';
import type { PingTraceResult } from './packet/trace';
import { lessonClientMessages } from './lesson/protocol';
import type { LessonServerMessage } from './lesson/protocol';

/** Packets held back in one interval because a client's rate was exceeded, per node, interface and protocol. */
export interface PacketCount { node: string; interface: string; protocol: PacketProtocol; packets: number; bytes: number }

/** Bumped on every incompatible change; a client that differs is told so and stops. */
export const PROTOCOL_VERSION = 1;

/** The largest message either side accepts, in bytes: a 300-node lab's snapshot is well under this. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

const labName = z.string().min(1).max(24);
const requestId = z.string().max(64).optional();

/** Every message a client may send. */
export const clientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribe'), lab: labName }),
  z.strictObject({ type: z.literal('unsubscribe'), lab: labName }),
  z.strictObject({ type: z.literal('apply'), id: requestId, topology: z.unknown(), dryRun: z.boolean().optional() }),
  z.strictObject({ type: z.literal('edit'), id: requestId, lab: labName, edits: z.array(editSchema).min(1).max(500), dryRun: z.boolean().optional() }),
  z.strictObject({ type: z.literal('destroy'), id: requestId, lab: labName }),
  z.strictObject({ type: z.literal('watch-packets'), lab: labName }),
  z.strictObject({ type: z.literal('unwatch-packets'), lab: labName }),
  z.strictObject({ type: z.literal('trace'), id: requestId, lab: labName, node: z.string().min(1).max(24), destination: z.string().min(1).max(64) }),
  z.strictObject({ type: z.literal('ping'), id: requestId }),
  ...lessonClientMessages,
]);

/** A message from a client. */
export type ClientMessage = z.infer<typeof clientMessage>;

/** A lab found on the server's machine. */
export interface LabInfo { name: string; nodes: number }

/** An op as the client sees it: the op, its command line and a sentence. */
export interface PlannedOp { op: Op; argv: string[]; description: string }

/** Error codes, so clients can react without parsing sentences. */
export type ErrorCode = 'bad-message' | 'incompatible' | 'invalid' | 'not-found' | 'conflict' | 'kernel' | 'too-large' | 'internal';

/** Every message the server sends. */
export type ServerMessage =
  | { type: 'hello'; protocol: number; server: string; labs: LabInfo[] }
  | { type: 'labs'; labs: LabInfo[] }
  | { type: 'snapshot'; lab: string; topology: Topology; meta: TopologyMeta }
  | { type: 'patch'; lab: string; changes: Change[] }
  | { type: 'plan'; id?: string; lab: string; ops: PlannedOp[]; dryRun: boolean }
  | { type: 'progress'; id?: string; lab: string; index: number; argv: string[]; status: 'done' | 'failed'; code: number; stdout: string; stderr: string }
  | { type: 'result'; id?: string; lab: string; ok: boolean; ran: number; message?: string }
  | { type: 'error'; id?: string; lab?: string; code: ErrorCode; message: string; problems?: Problem[]; op?: PlannedOp; stderr?: string }
  | { type: 'pong'; id?: string }
  | { type: 'packets'; lab: string; packets: NodePacketEvent[] }
  | { type: 'aggregate'; lab: string; since: number; until: number; counts: PacketCount[]; dropped: number; passed: number; ratePerSecond: number }
  | { type: 'capture'; lab: string; node: string; state: 'started' | 'ended'; message?: string }
  | { type: 'trace'; id?: string; lab: string; result: PingTraceResult }
  | LessonServerMessage;

/**
 * The JSON object in a text frame from a peer; undefined when the text is longer than
 * `maxLength`, is not JSON, or is not an object (an array is not one here).
 */
export function jsonObject(text: string, maxLength: number): Record<string, unknown> | undefined {
  if (text.length > maxLength) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

/** Parses a client message from text; the error says what is wrong in words. */
export function parseClientMessage(text: string): { ok: true; message: ClientMessage } | { ok: false; error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: 'the message is not JSON' };
  }
  const parsed = clientMessage.safeParse(data);
  if (parsed.success) return { ok: true, message: parsed.data };
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  const type = typeof data === 'object' && data !== null && 'type' in data ? String((data as { type: unknown }).type) : undefined;
  const types = clientMessage.options.map((o) => o.shape.type.value).join(', ');
  if (first?.code === 'invalid_union' && (first.path.length === 0 || first.path[0] === 'type')) {
    return { ok: false, error: `unknown message type ${JSON.stringify(type)}: send one of ${types}` };
  }
  return { ok: false, error: `invalid ${type ?? 'message'}${where}: ${first?.message ?? 'unreadable'}` };
}
