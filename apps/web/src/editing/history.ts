/**
 * The command log and undo history of each lab live on the server (GET/PUT /api/labs/:lab/history),
 * so a reload, or another tab on the same lab, finds them. The page loads a lab's history when it
 * opens the lab and sends it back, debounced, whenever the open lab's log or undo steps change.
 */
import { useLab } from '../state/lab';
import type { LogEntry, UndoStep } from './store';
import { useOps } from './store';
import { apiFetch } from '../server/credentials';

/** Changes gathered before one PUT: a run's progress events come in bursts. */
const SAVE_DEBOUNCE_MS = 300;

/** Labs whose history has been loaded: nothing is saved for a lab before its history is in (it would erase it). */
const loaded = new Set<string>();
let timer: ReturnType<typeof setTimeout> | undefined;

const url = (lab: string) => `/api/labs/${encodeURIComponent(lab)}/history`;

/** Loads a lab's kept history into the operations store, in place of what the page held of that lab. */
export async function loadHistory(lab: string): Promise<void> {
  try {
    const res = await apiFetch(url(lab));
    if (!res.ok) return;
    const body = (await res.json()) as { log?: unknown; undo?: unknown };
    const log = (Array.isArray(body.log) ? body.log : []) as LogEntry[];
    const undo = (Array.isArray(body.undo) ? body.undo : []) as UndoStep[];
    const ops = useOps.getState();
    const ours = (e: { lab: string }) => e.lab === lab;
    // Entries this page made meanwhile (a run still going) stay; the server's come first.
    const known = new Set(log.map((e) => e.id));
    useOps.setState({
      log: [...ops.log.filter((e) => !ours(e)), ...log.filter(ours), ...ops.log.filter((e) => ours(e) && !known.has(e.id))],
      history: [...ops.history.filter((s) => !ours(s)), ...undo.filter(ours), ...ops.history.filter(ours)],
    });
  } catch {
    /* the server is unreachable: the page keeps what it has and saves it later */
  } finally {
    loaded.add(lab);
  }
}

function save(): void {
  timer = undefined;
  const lab = useLab.getState().lab;
  if (!lab || !loaded.has(lab)) return;
  const { log, history } = useOps.getState();
  const body = { log: log.filter((e) => e.lab === lab), undo: history.filter((s) => s.lab === lab) };
  void apiFetch(url(lab), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => undefined);
}

/** Sends the open lab's history to the server whenever it changes. Call once, at start. */
export function keepHistory(): void {
  useOps.subscribe((state, prev) => {
    if (state.log === prev.log && state.history === prev.history) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(save, SAVE_DEBOUNCE_MS);
  });
}
