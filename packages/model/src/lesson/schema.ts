/**
 * The lesson file's shape (lessons/ID.yaml), as schemas. Unknown keys are errors, as
 * in topology files; meaning (ids, references, the start topology) is checked by
 * `parseLesson`, which reports every problem with its path.
 */
import { z } from 'zod';
import { editSchema } from '../edit';

/** Text in both of the page's languages: English and Simplified Chinese. */
export const localized = z.strictObject({ en: z.string().min(1), zh: z.string().min(1) });

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'an id is 1-40 characters of a-z, 0-9 and -, starting with a letter or digit');
const node = z.string().min(1).max(24);
const ifname = z.string().min(1).max(15);
const absent = z.boolean().optional();
const common = { id, text: localized };

/** Every kind of check, each answering one question about the live lab. */
export const rawCheck = z.discriminatedUnion('kind', [
  z.strictObject({ ...common, kind: z.literal('node'), node, absent }),
  z.strictObject({ ...common, kind: z.literal('interface'), node, interface: ifname, type: z.enum(['veth', 'bridge', 'vxlan']).optional(), up: z.boolean().optional(), absent }),
  z.strictObject({ ...common, kind: z.literal('port'), node, bridge: ifname, interface: ifname.optional(), absent }),
  z.strictObject({ ...common, kind: z.literal('address'), node, interface: ifname.optional(), address: z.string(), absent }),
  z.strictObject({ ...common, kind: z.literal('route'), node, route: z.string().optional(), to: z.string().optional(), absent }),
  z.strictObject({
    ...common, kind: z.literal('nat'), node, absent,
    type: z.enum(['masquerade', 'snat', 'dnat']),
    source: z.string().optional(), destination: z.string().optional(), out: z.string().optional(), in: z.string().optional(),
    proto: z.enum(['tcp', 'udp']).optional(), port: z.number().int().min(1).max(65535).optional(), to: z.string().optional(),
  }),
  z.strictObject({
    ...common, kind: z.literal('filter'), node, absent,
    table: z.string().optional(), chain: z.string(), action: z.enum(['accept', 'drop']).optional(),
    source: z.string().optional(), destination: z.string().optional(), in: z.string().optional(), out: z.string().optional(),
  }),
  z.strictObject({ ...common, kind: z.literal('sysctl'), node, key: z.string().regex(/^[a-z0-9_.-]+$/), value: z.string() }),
  z.strictObject({ ...common, kind: z.literal('reach'), from: node, to: z.string() }),
  z.strictObject({ ...common, kind: z.literal('no-reach'), from: node, to: z.string() }),
  /**
   * A TCP connection from `from` to ADDRESS:PORT, with an HTTP listener in each `listen` node while it
   * runs; with `requests` (and two or more listeners) every listener must answer one of the connections.
   */
  z.strictObject({
    ...common, kind: z.literal('tcp'), from: node, to: z.string(),
    listen: z.union([node, z.array(node).min(1).max(8)]).optional(), 'listen-port': z.number().int().min(1).max(65535).optional(),
    requests: z.number().int().min(1).max(100).optional(),
  }),
  z.strictObject({
    ...common, kind: z.literal('packet'), node, interface: ifname, filter: z.string().max(200),
    ping: z.strictObject({ from: node, to: z.string() }),
  }),
  z.strictObject({ ...common, kind: z.literal('output'), node, command: z.string().max(300), pattern: z.string().max(300), absent }),
]);

/** A command to try, with a Run button in the node it names. */
export const rawTry = z.strictObject({ node, command: z.string().min(1).max(300) });

/** One piece of a reference solution: a canvas edit, or a command run in a node. */
export const rawSolution = z.union([
  z.strictObject({ edit: editSchema }),
  z.strictObject({ node, run: z.string().min(1).max(300) }),
]);

/** One step of a lesson. */
export const rawStep = z.strictObject({
  id,
  title: localized,
  text: localized,
  try: z.array(rawTry).optional(),
  checks: z.array(rawCheck).min(1),
  solution: z.array(rawSolution).optional(),
});

/** A per-learner parameter: its default, and the values a learner may be given instead. */
export const rawParam = z.strictObject({ default: z.string(), choices: z.array(z.string()).min(1).optional() });

/** The whole lesson file. */
export const rawLesson = z.strictObject({
  id,
  title: localized,
  summary: localized,
  /** The curriculum document and section the lesson follows. */
  source: z.string().optional(),
  params: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), rawParam).optional(),
  /** The start lab: a topology file without its name (the lab's name is chosen at start). */
  start: z.record(z.string(), z.unknown()),
  steps: z.array(rawStep).min(1),
});

/** The file's types, as the schemas infer them. */
export type RawLesson = z.infer<typeof rawLesson>;
export type RawStep = z.infer<typeof rawStep>;
export type Check = z.infer<typeof rawCheck>;
export type CheckKind = Check['kind'];
export type TryCommand = z.infer<typeof rawTry>;
export type SolutionItem = z.infer<typeof rawSolution>;
export type Localized = z.infer<typeof localized>;
