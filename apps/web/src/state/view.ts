/**
 * The view store: how the user looks at the lab, never what the lab is. Selection,
 * node positions, open panels, theme and preferences. Positions are kept per lab in
 * localStorage, so a layout the user arranged survives reloads and server restarts.
 */
import { create } from 'zustand';
import type { XY } from './plane';
import type { Selection } from './selection';

/** The colour theme. */
export type Theme = 'light' | 'dark';

/** The panels that can be open. */
export interface Panels {
  log: boolean;
  search: boolean;
  help: boolean;
  /** The lesson column beside the canvas. */
  lesson: boolean;
  /** Presentation mode, for a projector: the chrome hidden, the canvas large, the guide or lesson beside it in large type. */
  present: boolean;
}

/** The state of the view store. */
export interface ViewState {
  selection: Selection;
  /** Positions of the open lab's nodes (top-left corners), by node name. */
  positions: Record<string, XY>;
  /** Nodes the user placed (dragged or dropped): the automatic layout never moves them. */
  pinned: Record<string, true>;
  /** The lab `positions` belong to. */
  positionsLab: string | undefined;
  theme: Theme;
  panels: Panels;
  /** Show each plan and wait for "Run" (true), or run it as soon as it is shown. */
  askBeforeRun: boolean;
  /** Give new links addresses from the allocator. */
  autoAddress: boolean;
  /** Bumped to ask the canvas to fit the whole lab in view (after a layout, on opening a lab). */
  fitRequest: number;
  requestFit(): void;
  select(selection: Selection): void;
  /** Load the saved positions of a lab (when it is opened). */
  loadPositions(lab: string | undefined): void;
  /**
   * Move nodes; `save` writes them to storage (at the end of a drag, not on every
   * frame); `pin` marks them as placed by the user.
   */
  setPositions(moved: Record<string, XY>, save?: boolean, pin?: boolean): void;
  /** Forget the positions of these nodes and unpin them (the layout then places them afresh). */
  clearPositions(names: string[]): void;
  /** Carry a node's position over to its new name. */
  renamePosition(from: string, to: string): void;
  setTheme(theme: Theme): void;
  setPanel(panel: keyof Panels, open: boolean): void;
  setAskBeforeRun(value: boolean): void;
  setAutoAddress(value: boolean): void;
}

const PREFS_KEY = 'nslab:prefs';
const positionsKey = (lab: string) => `nslab:positions:${lab}`;

/** localStorage when there is one (not in unit tests), and never throwing (private mode, quota). */
const storage = {
  get(key: string): unknown {
    try {
      const text = globalThis.localStorage?.getItem(key);
      return text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  },
  set(key: string, value: unknown): void {
    try {
      globalThis.localStorage?.setItem(key, JSON.stringify(value));
    } catch {
      /* storage full or unavailable: positions then last for this page only */
    }
  },
};

/** What is stored per lab. */
interface Stored { positions: Record<string, XY>; pinned: Record<string, true> }

/** Reads a lab's stored positions, keeping only well-formed entries. */
function readStored(value: unknown): Stored {
  const record = (value && typeof value === 'object' ? value : {}) as { positions?: unknown; pinned?: unknown };
  const pinned: Record<string, true> = {};
  if (Array.isArray(record.pinned)) for (const n of record.pinned) if (typeof n === 'string') pinned[n] = true;
  return { positions: readPositions(record.positions), pinned };
}

function readPositions(value: unknown): Record<string, XY> {
  const out: Record<string, XY> = {};
  if (!value || typeof value !== 'object') return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = v as Partial<XY> | null;
    if (p && Number.isFinite(p.x) && Number.isFinite(p.y)) out[k] = { x: p.x as number, y: p.y as number };
  }
  return out;
}

interface Prefs { theme?: Theme; askBeforeRun?: boolean; autoAddress?: boolean }

function initialTheme(prefs: Prefs): Theme {
  if (prefs.theme === 'light' || prefs.theme === 'dark') return prefs.theme;
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const prefs = (storage.get(PREFS_KEY) ?? {}) as Prefs;

/** The one view store. */
export const useView = create<ViewState>()((set, get) => {
  const savePrefs = () => {
    const { theme, askBeforeRun, autoAddress } = get();
    storage.set(PREFS_KEY, { theme, askBeforeRun, autoAddress });
  };
  return {
    selection: undefined,
    positions: {},
    pinned: {},
    positionsLab: undefined,
    theme: initialTheme(prefs),
    panels: { log: false, search: false, help: false, lesson: false, present: false },
    askBeforeRun: prefs.askBeforeRun ?? true,
    autoAddress: prefs.autoAddress ?? true,
    fitRequest: 0,
    requestFit() {
      set({ fitRequest: get().fitRequest + 1 });
    },
    select(selection) {
      const cur = get().selection;
      if (JSON.stringify(cur) !== JSON.stringify(selection)) set({ selection });
    },
    loadPositions(lab) {
      if (get().positionsLab === lab) return;
      const stored = lab ? readStored(storage.get(positionsKey(lab))) : { positions: {}, pinned: {} };
      set({ positionsLab: lab, ...stored, selection: undefined });
    },
    setPositions(moved, save = true, pin = false) {
      const { positions, pinned, positionsLab } = get();
      const next = { ...positions, ...moved };
      const nextPinned = pin ? { ...pinned, ...Object.fromEntries(Object.keys(moved).map((n) => [n, true as const])) } : pinned;
      set({ positions: next, pinned: nextPinned });
      if (save && positionsLab) storage.set(positionsKey(positionsLab), { positions: next, pinned: Object.keys(nextPinned) });
    },
    clearPositions(names) {
      const { positions, pinned, positionsLab } = get();
      const next = { ...positions };
      const nextPinned = { ...pinned };
      for (const n of names) {
        delete next[n];
        delete nextPinned[n];
      }
      set({ positions: next, pinned: nextPinned });
      if (positionsLab) storage.set(positionsKey(positionsLab), { positions: next, pinned: Object.keys(nextPinned) });
    },
    renamePosition(from, to) {
      const p = get().positions[from];
      if (p) get().setPositions({ [to]: p }, true, get().pinned[from] === true);
    },
    setTheme(theme) {
      set({ theme });
      savePrefs();
    },
    setPanel(panel, open) {
      set({ panels: { ...get().panels, [panel]: open } });
    },
    setAskBeforeRun(askBeforeRun) {
      set({ askBeforeRun });
      savePrefs();
    },
    setAutoAddress(autoAddress) {
      set({ autoAddress });
      savePrefs();
    },
  };
});
