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
import { editSchema } from '../edit';
import type { Change } from '../patch';
import type { Op } from '../op';
import type { Topology } from '../topology';
import type { TopologyMeta } from '../file';
import { PACKET_PROTOCOLS } from '../packet/event';
import type { NodePacketEvent, PacketProtocol } from '../packet/event';
import type { PingTraceResult } from '../packet/trace';
import { jsonObject } from './json';
import { lessonClientMessages, lessonServerMessages } from '../lesson/protocol';
import { conntrackClientMessages, conntrackServerMessages } from './conntrack';
import { knobClientMessages, knobServerMessages } from './knobs';

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
  z.strictObject({
    type: z.literal('trace'), id: requestId, lab: labName, node: z.string().min(1).max(24), destination: z.string().min(1).max(64),
    // Absent: an ICMP echo. tcp and udp need the port traced.
    proto: z.enum(['icmp', 'tcp', 'udp']).optional(), port: z.number().int().min(1).max(65535).optional(),
  }),
  z.strictObject({ type: z.literal('ping'), id: requestId }),
  ...lessonClientMessages,
  ...conntrackClientMessages,
  ...knobClientMessages,
]);

/** A message from a client. */
export type ClientMessage = z.infer<typeof clientMessage>;

/** An object (not an array, not null). */
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A model object checked for its outline only: an object whose `key` (when given) is a string. */
function modelObject<T>(what: string, key?: string) {
  return z.custom<T>((v) => isRecord(v) && (key === undefined || typeof v[key] === 'string'), { message: `expected ${what}` });
}

const topologySchema = z.custom<Topology>((v) => isRecord(v) && typeof v.name === 'string' && isRecord(v.nodes) && Array.isArray(v.links), { message: 'expected a topology' });
const changeSchema = z.custom<Change>((v) => isRecord(v) && Array.isArray(v.path) && v.path.every((p) => typeof p === 'string'), { message: 'expected a change' });
const count = z.number().int().nonnegative();

/** A lab found on the server's machine. */
export const labInfo = z.object({ name: z.string(), nodes: count });
/** A lab found on the server's machine. */
export type LabInfo = z.infer<typeof labInfo>;

/** An op as the client sees it: the op, its command line and a sentence. */
export const plannedOp = z.object({ op: modelObject<Op>('an op', 'kind'), argv: z.array(z.string()), description: z.string() });
/** An op as the client sees it: the op, its command line and a sentence. */
export type PlannedOp = z.infer<typeof plannedOp>;

/** Error codes, so clients can react without parsing sentences. */
export const errorCode = z.enum(['bad-message', 'incompatible', 'invalid', 'not-found', 'conflict', 'kernel', 'too-large', 'internal', 'read-only']);
/** Error codes, so clients can react without parsing sentences. */
export type ErrorCode = z.infer<typeof errorCode>;

/** Packets held back in one interval because a client's rate was exceeded, per node, interface and protocol. */
export const packetCount = z.object({
  node: z.string(),
  interface: z.string(),
  protocol: z.enum(PACKET_PROTOCOLS as [PacketProtocol, ...PacketProtocol[]]),
  packets: count,
  bytes: count,
});
/** Packets held back in one interval because a client's rate was exceeded, per node, interface and protocol. */
export type PacketCount = z.infer<typeof packetCount>;

const id = z.string().optional();
/** A problem with its path: a refusal's reasons, or a warning that did not stop the change. */
const problems = z.array(z.object({ path: z.string(), message: z.string() }));

/** Every message the server sends. */
export const serverMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), protocol: z.number().int(), server: z.string(), labs: z.array(labInfo) }),
  z.object({ type: z.literal('labs'), labs: z.array(labInfo) }),
  z.object({ type: z.literal('snapshot'), lab: z.string(), topology: topologySchema, meta: modelObject<TopologyMeta>('the lab\'s description') }),
  z.object({ type: z.literal('patch'), lab: z.string(), changes: z.array(changeSchema) }),
  z.object({ type: z.literal('plan'), id, lab: z.string(), ops: z.array(plannedOp), dryRun: z.boolean(), warnings: problems.optional() }),
  z.object({ type: z.literal('progress'), id, lab: z.string(), index: count, argv: z.array(z.string()), status: z.enum(['done', 'failed']), code: z.number(), stdout: z.string(), stderr: z.string() }),
  z.object({ type: z.literal('result'), id, lab: z.string(), ok: z.boolean(), ran: count, message: z.string().optional(), warnings: problems.optional() }),
  z.object({
    type: z.literal('error'), id, lab: z.string().optional(), code: errorCode, message: z.string(),
    problems: problems.optional(), op: plannedOp.optional(), stderr: z.string().optional(),
  }),
  z.object({ type: z.literal('pong'), id }),
  z.object({ type: z.literal('packets'), lab: z.string(), packets: z.array(modelObject<NodePacketEvent>('a packet event', 'node')) }),
  z.object({ type: z.literal('aggregate'), lab: z.string(), since: z.number(), until: z.number(), counts: z.array(packetCount), dropped: count, passed: count, ratePerSecond: z.number() }),
  z.object({ type: z.literal('capture'), lab: z.string(), node: z.string(), state: z.enum(['started', 'ended']), message: z.string().optional() }),
  z.object({ type: z.literal('trace'), id, lab: z.string(), result: modelObject<PingTraceResult>('a trace result') }),
  ...lessonServerMessages,
  ...conntrackServerMessages,
  ...knobServerMessages,
]);

/** A message from the server. */
export type ServerMessage = z.infer<typeof serverMessage>;

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
  const type = typeof data === 'object' && data !== null && 'type' in data ? String(data.type) : undefined;
  const types = clientMessage.options.map((o) => o.shape.type.value).join(', ');
  if (first?.code === 'invalid_union' && (first.path.length === 0 || first.path[0] === 'type')) {
    return { ok: false, error: `unknown message type ${JSON.stringify(type)}: send one of ${types}` };
  }
  return { ok: false, error: `invalid ${type ?? 'message'}${where}: ${first?.message ?? 'unreadable'}` };
}

/** Decodes a server message from text; the error says what is wrong in words. */
export function parseServerMessage(text: string, maxLength = MAX_MESSAGE_BYTES * 4): { ok: true; message: ServerMessage } | { ok: false; error: string } {
  const data = jsonObject(text, maxLength);
  if (!data) return { ok: false, error: `the message is not a JSON object of at most ${maxLength} characters` };
  const parsed = serverMessage.safeParse(data);
  if (parsed.success) return { ok: true, message: parsed.data };
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  return { ok: false, error: `invalid ${typeof data.type === 'string' ? data.type.slice(0, 40) : 'message'}${where}: ${first?.message ?? 'unreadable'}` };
}
