/**
 * The HTTP channel's bodies, defined once for the server that sends them and the page
 * that reads them (which validates each, as it does every socket message).
 */
import { z } from 'zod';

/** A bundled example lab, as GET /api/examples lists it. */
export const exampleLab = z.object({ name: z.string(), file: z.string(), description: z.string(), try: z.array(z.string()), yaml: z.string() });
/** A bundled example lab. */
export type ExampleLab = z.infer<typeof exampleLab>;

/** The answer to GET /api/examples. */
export const examplesList = z.object({ examples: z.array(exampleLab) });
/** The answer to GET /api/examples. */
export type ExamplesList = z.infer<typeof examplesList>;

/** The body of POST /api/labs/:lab/terminals: the node to open a shell in, and the screen size (clamped by the server). */
export const openTerminalRequest = z.object({ node: z.string(), cols: z.number().int().optional(), rows: z.number().int().optional() });
/** The body of POST /api/labs/:lab/terminals. */
export type OpenTerminalRequest = z.infer<typeof openTerminalRequest>;

/** The answer to POST /api/labs/:lab/terminals. */
export const openedTerminal = z.object({ id: z.string(), node: z.string(), pid: z.number().int() });
/** The answer to POST /api/labs/:lab/terminals. */
export type OpenedTerminal = z.infer<typeof openedTerminal>;

/** How a listed shell ended; `reason` is a sentence when nslab ended it. */
const terminalEnd = z.object({ code: z.number().int().nullable(), signal: z.string().nullable(), reason: z.string().nullable() });

/** One entry of GET /api/labs/:lab/terminals. */
export const listedTerminal = z.object({
  id: z.string(),
  lab: z.string(),
  node: z.string(),
  pid: z.number().int(),
  cols: z.number().int(),
  rows: z.number().int(),
  attached: z.boolean(),
  createdAt: z.number(),
  exit: terminalEnd.nullable().optional(),
});
/** One entry of GET /api/labs/:lab/terminals. */
export type ListedTerminal = z.infer<typeof listedTerminal>;

/** The answer to GET /api/labs/:lab/terminals. */
export const listedTerminals = z.object({ terminals: z.array(listedTerminal) });

/** The query of GET /api/labs/:lab/pcap: which capture, which interface and time window, which file format. */
export const pcapRequest = z.object({
  node: z.string(),
  iface: z.string().optional(),
  since: z.number().optional(),
  until: z.number().optional(),
  format: z.enum(['pcapng', 'pcap']).optional(),
});
/** The query of GET /api/labs/:lab/pcap. */
export type PcapRequest = z.infer<typeof pcapRequest>;

/** An error answer of any route: a sentence, and the problems of a refused topology. */
export const httpError = z.object({ error: z.string(), code: z.string().optional(), problems: z.array(z.object({ path: z.string(), message: z.string() })).optional() });

/** The body of POST /api/labs/:lab/views: how many hours the live-view link lasts (default 12, at most 72). */
export const viewLinkRequest = z.strictObject({ hours: z.number().optional() });

/** A live-view link: a token that shows one lab and changes nothing, the page address that carries it, and when it ends (ms since the epoch). */
export const viewLink = z.object({ id: z.string(), token: z.string(), url: z.string(), lab: z.string(), expires: z.number() });
/** A live-view link (POST /api/labs/:lab/views answers one; GET lists them). */
export type ViewLink = z.infer<typeof viewLink>;

/** The answer to GET /api/labs/:lab/views. */
export const viewLinks = z.object({ views: z.array(viewLink) });

/** The answer to GET /api/session: who this page's token makes it; a viewer also learns its one lab and when its link ends. */
export const sessionInfo = z.discriminatedUnion('role', [
  /** `classroom`: the server is a classroom, and this page may show the class (trainees, their labs, a lesson for all). */
  z.object({ role: z.literal('instructor'), classroom: z.boolean().optional() }),
  z.object({ role: z.literal('trainee'), trainee: z.string() }),
  z.object({ role: z.literal('viewer'), lab: z.string(), expires: z.number() }),
]);
/** The answer to GET /api/session. */
export type SessionInfo = z.infer<typeof sessionInfo>;

/** One trainee in the class list (GET /api/trainees, and the answer to POST /api/trainees). */
export const traineeEntry = z.object({ name: z.string(), token: z.string(), url: z.string() });
/** One trainee in the class list. */
export type TraineeEntry = z.infer<typeof traineeEntry>;

/** The answer to GET /api/trainees. */
export const traineeList = z.object({ trainees: z.array(traineeEntry) });

/** POST /api/class/lessons: start lesson `lesson` for every trainee, in their lab named after it (or `lab`); `vary` gives each their own values. */
export const classLessonRequest = z.strictObject({ lesson: z.string().min(1).max(40), lab: z.string().min(1).max(24).optional(), vary: z.boolean().optional() });
/** A class-wide lesson start, as sent. */
export type ClassLessonRequest = z.infer<typeof classLessonRequest>;

/** The answer to POST /api/class/lessons: per trainee, the lab it started in, or the sentence that says why not. */
export const classLessonResult = z.object({
  lesson: z.string(),
  started: z.array(z.object({ trainee: z.string(), lab: z.string() })),
  failed: z.array(z.object({ trainee: z.string(), error: z.string() })),
});
/** The answer to POST /api/class/lessons. */
export type ClassLessonResult = z.infer<typeof classLessonResult>;
