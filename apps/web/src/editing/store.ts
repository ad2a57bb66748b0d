/**
 * The operations store: edits on their way to the kernel. The plan waiting to be
 * run, the command log of what ran (each command with its output and exit status),
 * the problems of the last edit placed at their node and field, and the undo history.
 */
import { create } from 'zustand';
import type { Edit, PlannedOp, RawTopology } from '@nslab/model';
import type { PlacedProblem } from './problems';

/** What a request asks the server to do. */
export type RequestBody =
  | { kind: 'edit'; edits: Edit[] }
  | { kind: 'apply'; topology: RawTopology }
  | { kind: 'destroy' }
  /** A lesson step's reference solution (its edits, then its commands, each in its node). */
  | { kind: 'lesson-solve'; step: number; commands: { node: string; command: string }[] };

/** One request in flight (a dry run or a run). */
export interface OpRequest {
  id: string;
  lab: string;
  /** What the user did, for the log ("add address 10.0.1.1/24 to ns1:eth0"). */
  label: string;
  body: RequestBody;
  dryRun: boolean;
  /** The edits that undo this request; absent when it cannot be undone. */
  inverse?: Edit[];
}

/** A dry run's plan, shown before it runs. */
export interface PendingPlan {
  request: OpRequest;
  ops: PlannedOp[];
}

/** One command of a run, as the log shows it. */
export interface LogCommand {
  argv: string[];
  description: string;
  status: 'planned' | 'done' | 'failed';
  code?: number;
  stdout?: string;
  stderr?: string;
}

/** One run in the command log. */
export interface LogEntry {
  id: string;
  lab: string;
  label: string;
  status: 'running' | 'ok' | 'failed';
  commands: LogCommand[];
  /** The outcome in words (the server's message, or why it failed). */
  message?: string;
  at: number;
}

/** One step of the undo history. */
export interface UndoStep {
  lab: string;
  label: string;
  inverse: Edit[];
}

/** How many runs the log keeps, and how many steps can be undone: enough for a session, bounded. */
const LOG_LIMIT = 100;
const UNDO_LIMIT = 50;

/** The state of the operations store. */
export interface OpsState {
  requests: Record<string, OpRequest>;
  plan: PendingPlan | undefined;
  log: LogEntry[];
  problems: PlacedProblem[];
  history: UndoStep[];
  /** The id of the run in progress, if any. */
  running: string | undefined;
  track(request: OpRequest): void;
  forget(id: string): void;
  showPlan(plan: PendingPlan | undefined): void;
  startRun(request: OpRequest, ops: PlannedOp[]): void;
  progress(id: string, index: number, update: Partial<LogCommand> & { argv: string[] }): void;
  finishRun(id: string, ok: boolean, message?: string): void;
  setProblems(problems: PlacedProblem[]): void;
  pushUndo(step: UndoStep): void;
  popUndo(lab: string): UndoStep | undefined;
  clearLog(): void;
}

/** The one operations store. */
export const useOps = create<OpsState>()((set, get) => ({
  requests: {},
  plan: undefined,
  log: [],
  problems: [],
  history: [],
  running: undefined,
  track(request) {
    set({ requests: { ...get().requests, [request.id]: request } });
  },
  forget(id) {
    const { [id]: _gone, ...rest } = get().requests;
    set({ requests: rest, running: get().running === id ? undefined : get().running });
  },
  showPlan(plan) {
    set({ plan });
  },
  startRun(request, ops) {
    const entry: LogEntry = {
      id: request.id,
      lab: request.lab,
      label: request.label,
      status: 'running',
      commands: ops.map((o) => ({ argv: o.argv, description: o.description, status: 'planned' })),
      at: Date.now(),
    };
    const log = [...get().log.filter((e) => e.id !== request.id), entry].slice(-LOG_LIMIT);
    set({ log, running: request.id });
  },
  progress(id, index, update) {
    set({
      log: get().log.map((e) => {
        if (e.id !== id) return e;
        const commands = [...e.commands];
        const prev = commands[index] ?? { argv: update.argv, description: '', status: 'planned' as const };
        commands[index] = { ...prev, ...update };
        return { ...e, commands };
      }),
    });
  },
  finishRun(id, ok, message) {
    set({
      log: get().log.map((e) => (e.id === id ? { ...e, status: ok ? 'ok' : 'failed', ...(message ? { message } : {}) } : e)),
      running: get().running === id ? undefined : get().running,
    });
  },
  setProblems(problems) {
    set({ problems });
  },
  pushUndo(step) {
    set({ history: [...get().history, step].slice(-UNDO_LIMIT) });
  },
  popUndo(lab) {
    const history = get().history;
    for (let i = history.length - 1; i >= 0; i -= 1) {
      const step = history[i];
      if (step?.lab === lab) {
        set({ history: [...history.slice(0, i), ...history.slice(i + 1)] });
        return step;
      }
    }
    return undefined;
  },
  clearLog() {
    set({ log: get().log.filter((e) => e.status === 'running') });
  },
}));
