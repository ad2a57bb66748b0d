/**
 * Per-lab memory of what the page did: its command log and its undo history, kept by the server
 * so that they survive a reload and are the same in every tab showing the lab. The server does not
 * interpret the entries (the page's own records, apps/web/src/store/ops.ts); it checks their shape
 * and bounds their size, and forgets a lab's history when the lab is destroyed.
 */

/** A lab's kept history as stored and sent: the command log and the undo steps, oldest first. */
export interface LabHistory { log: unknown[]; undo: unknown[] }

/** Bytes of JSON one lab's history may hold (a log of 100 runs with their output fits easily). */
export const MAX_HISTORY_BYTES = 512 * 1024;

/** Entries kept of each list: the page's own limits (LOG_LIMIT 100, UNDO_LIMIT 50) with room to spare. */
const MAX_ENTRIES = 200;

/** Why a history sent by a page is refused, or undefined when it is acceptable. */
export function historyProblem(lab: string, body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'send {"log": [...], "undo": [...]}';
  const { log, undo } = body as { log?: unknown; undo?: unknown };
  for (const [name, list] of [['log', log], ['undo', undo]] as const) {
    if (!Array.isArray(list)) return `${name} must be a list`;
    if (list.length > MAX_ENTRIES) return `${name} has ${list.length} entries: keep at most ${MAX_ENTRIES}`;
    for (const entry of list) {
      if (!entry || typeof entry !== 'object' || (entry as { lab?: unknown }).lab !== lab) return `every ${name} entry must be an object of lab ${lab}`;
    }
  }
  if (JSON.stringify(body).length > MAX_HISTORY_BYTES) return `the history is larger than ${MAX_HISTORY_BYTES} bytes: clear the command log`;
  return undefined;
}

/** Every lab's history, in memory (a server restart starts afresh, like its terminals). */
export class HistoryStore {
  private readonly labs = new Map<string, LabHistory>();

  /** The lab's history (empty lists when nothing was kept). */
  get(lab: string): LabHistory {
    return this.labs.get(lab) ?? { log: [], undo: [] };
  }

  /** Replaces the lab's history; the caller checked it with historyProblem. */
  set(lab: string, history: LabHistory): void {
    this.labs.set(lab, { log: history.log, undo: history.undo });
  }

  /** Forgets a lab's history (the lab was destroyed). */
  forget(lab: string): void {
    this.labs.delete(lab);
  }
}
