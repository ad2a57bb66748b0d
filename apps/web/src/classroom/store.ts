/**
 * The class (view state of the instructor's page in classroom mode): whether this page may
 * show it and whether it is open, the trainees, and each trainee lab's live graph and lesson
 * status. The graphs are kept apart from the lab store (which holds the one lab the canvas
 * shows): they come from the same socket's snapshots and patches of the labs the class
 * view subscribes to (live.ts).
 */
import { create } from 'zustand';
import type { LessonInfo, LessonStatus, TraineeEntry, Topology } from '@nslab/model';

/** The state of the class store. */
export interface ClassState {
  /** This page is the instructor's on a classroom server: the class can be shown. */
  available: boolean;
  open: boolean;
  trainees: TraineeEntry[];
  /** Each subscribed trainee lab's topology, by the kernel's lab name. */
  graphs: Map<string, Topology>;
  /** Each trainee lab's lesson status, by the kernel's lab name (absent: no lesson there). */
  status: Map<string, LessonStatus>;
  /** The lessons the server offers. */
  lessons: LessonInfo[];
  setAvailable(available: boolean): void;
  setOpen(open: boolean): void;
  setTrainees(trainees: TraineeEntry[]): void;
  setGraph(lab: string, topology: Topology | undefined): void;
  setStatus(lab: string, status: LessonStatus | undefined): void;
  setLessons(lessons: LessonInfo[]): void;
}

/** A copy of `map` with `key` set to `value`, or removed when it is undefined. */
function withEntry<V>(map: Map<string, V>, key: string, value: V | undefined): Map<string, V> {
  const next = new Map(map);
  if (value === undefined) next.delete(key);
  else next.set(key, value);
  return next;
}

/** The class store. */
export const useClass = create<ClassState>((set, get) => ({
  available: false,
  open: false,
  trainees: [],
  graphs: new Map(),
  status: new Map(),
  lessons: [],
  setAvailable: (available) => set({ available }),
  setOpen: (open) => set({ open }),
  setTrainees: (trainees) => set({ trainees }),
  setGraph: (lab, topology) => set({ graphs: withEntry(get().graphs, lab, topology) }),
  setStatus: (lab, status) => set({ status: withEntry(get().status, lab, status) }),
  setLessons: (lessons) => set({ lessons }),
}));
