/**
 * The terminals store (view state): the terminal tabs of the open lab, which one is
 * shown, which one has the keyboard (its node is highlighted on the canvas), and
 * each one's status. The shells themselves live on the server; this store holds
 * their ids, which are also kept in sessionStorage per lab so that a reload
 * re-attaches to the same shells (the server keeps them for a grace period).
 */
import { create } from 'zustand';

/** Where a terminal stands. */
export type TerminalStatus = 'connecting' | 'live' | 'reconnecting' | 'exited' | 'gone';

/** One terminal tab. */
export interface TerminalTab {
  /** The server's terminal id. */
  id: string;
  lab: string;
  node: string;
  status: TerminalStatus;
  /** Why it ended or dropped, in words. */
  message?: string;
  /** Exit status, when it exited. */
  code?: number | null;
  /** A command to type once the shell is attached (a lab guide's "Run"). */
  pending?: string;
  /** Restored from sessionStorage after a reload: dropped quietly if the server no longer has it. */
  restored?: boolean;
}

/** The state of the terminals store. */
export interface TerminalsState {
  lab: string | undefined;
  tabs: TerminalTab[];
  /** The id of the tab shown. */
  active: string | undefined;
  /** The id of the terminal that has the keyboard. */
  focused: string | undefined;
  /** Why the last terminal could not be opened. */
  problem: string | undefined;
  /** An open request is in flight. */
  opening: boolean;
  /** Follows a lab: its stored tabs come back (to be re-attached). */
  follow(lab: string | undefined): void;
  add(tab: TerminalTab, at?: number): void;
  update(id: string, change: Partial<Omit<TerminalTab, 'id'>>): void;
  remove(id: string): void;
  /** Replaces a tab in place (a restart gives a new shell, so a new id). */
  replace(id: string, tab: TerminalTab): void;
  activate(id: string | undefined): void;
  setFocused(id: string | undefined): void;
  setProblem(problem: string | undefined): void;
  setOpening(opening: boolean): void;
}

const storageKey = (lab: string) => `nslab:terminals:${lab}`;

/** The terminals worth re-attaching after a reload: those still running. */
export function storedTabs(tabs: readonly TerminalTab[]): { id: string; node: string }[] {
  return tabs.filter((t) => t.status !== 'exited' && t.status !== 'gone').map((t) => ({ id: t.id, node: t.node }));
}

/** Reads a lab's stored terminals, keeping only well-formed entries. */
export function readStored(value: unknown): { id: string; node: string }[] {
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is { id: string; node: string } => !!v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test((v as { id: string }).id) && typeof (v as { node?: unknown }).node === 'string');
}

function load(lab: string): { id: string; node: string }[] {
  try {
    return readStored(JSON.parse(globalThis.sessionStorage?.getItem(storageKey(lab)) ?? '[]'));
  } catch {
    return [];
  }
}

function save(lab: string | undefined, tabs: readonly TerminalTab[]): void {
  if (!lab) return;
  try {
    const list = storedTabs(tabs.filter((t) => t.lab === lab));
    if (list.length === 0) globalThis.sessionStorage?.removeItem(storageKey(lab));
    else globalThis.sessionStorage?.setItem(storageKey(lab), JSON.stringify(list));
  } catch {
    /* no session storage: terminals then last for this page only */
  }
}

/** The one terminals store. */
export const useTerminals = create<TerminalsState>()((set, get) => {
  const setTabs = (tabs: TerminalTab[], extra: Partial<TerminalsState> = {}) => {
    set({ tabs, ...extra });
    save(get().lab, tabs);
  };
  return {
    lab: undefined,
    tabs: [],
    active: undefined,
    focused: undefined,
    problem: undefined,
    opening: false,
    follow(lab) {
      if (get().lab === lab) return;
      const tabs: TerminalTab[] = lab ? load(lab).map((t) => ({ id: t.id, lab, node: t.node, status: 'connecting', restored: true })) : [];
      set({ lab, tabs, active: tabs[0]?.id, focused: undefined, problem: undefined });
    },
    add(tab, at) {
      const tabs = [...get().tabs];
      tabs.splice(at ?? tabs.length, 0, tab);
      setTabs(tabs, { active: tab.id, problem: undefined });
    },
    update(id, change) {
      const tabs = get().tabs.map((t) => (t.id === id ? { ...t, ...change } : t));
      setTabs(tabs);
    },
    remove(id) {
      const { tabs, active, focused } = get();
      const i = tabs.findIndex((t) => t.id === id);
      if (i < 0) return;
      const next = tabs.filter((t) => t.id !== id);
      setTabs(next, {
        active: active === id ? (next[Math.min(i, next.length - 1)]?.id) : active,
        focused: focused === id ? undefined : focused,
      });
    },
    replace(id, tab) {
      const tabs = get().tabs.map((t) => (t.id === id ? tab : t));
      setTabs(tabs, { active: tab.id, focused: get().focused === id ? undefined : get().focused });
    },
    activate(id) {
      set({ active: id });
    },
    setFocused(focused) {
      if (get().focused !== focused) set({ focused });
    },
    setProblem(problem) {
      set({ problem });
    },
    setOpening(opening) {
      set({ opening });
    },
  };
});
