/**
 * The dock store (view state): the panel under the canvas, which tab it shows
 * (terminals, packets, ping trace, command log), whether it is open or maximised,
 * and its height. Also which view of the lab the stage shows (kernel or containers).
 * The height is kept in localStorage: a user who likes a tall terminal keeps it.
 */
import { create } from 'zustand';

/** The tabs of the dock. */
export type DockTab = 'terminals' | 'packets' | 'trace' | 'log';

/** The views of the lab: what the kernel has, or Docker's model of it. */
export type LabView = 'kernel' | 'containers';

/** The smallest dock (px): a tab row and a few terminal lines. */
export const DOCK_MIN_HEIGHT = 140;
/** The dock's first height (px): about 14 terminal lines, leaving 400 px of canvas on a 720-pixel screen. */
export const DOCK_DEFAULT_HEIGHT = 260;

const HEIGHT_KEY = 'nslab:dock-height';

function storedHeight(): number {
  try {
    const v = Number(globalThis.localStorage?.getItem(HEIGHT_KEY));
    return Number.isFinite(v) && v >= DOCK_MIN_HEIGHT ? v : DOCK_DEFAULT_HEIGHT;
  } catch {
    return DOCK_DEFAULT_HEIGHT;
  }
}

/** The state of the dock store. */
export interface DockState {
  open: boolean;
  tab: DockTab;
  /** The dock fills the stage (a terminal popped out large). */
  maximised: boolean;
  height: number;
  view: LabView;
  /** Opens the dock on a tab. */
  show(tab: DockTab): void;
  /** Clicking a tab: shows it, or closes the dock when it is the open tab. */
  toggle(tab: DockTab): void;
  close(): void;
  setMaximised(value: boolean): void;
  setHeight(px: number, save?: boolean): void;
  setView(view: LabView): void;
}

/** The one dock store. */
export const useDock = create<DockState>()((set, get) => ({
  open: false,
  tab: 'terminals',
  maximised: false,
  height: storedHeight(),
  view: 'kernel',
  show(tab) {
    if (get().open && get().tab === tab) return;
    set({ open: true, tab });
  },
  toggle(tab) {
    const { open, tab: cur } = get();
    if (open && cur === tab) set({ open: false, maximised: false });
    else set({ open: true, tab });
  },
  close() {
    set({ open: false, maximised: false });
  },
  setMaximised(maximised) {
    set({ maximised, open: maximised ? true : get().open });
  },
  setHeight(px, save = false) {
    const height = Math.max(DOCK_MIN_HEIGHT, Math.round(px));
    set({ height });
    if (save) {
      try {
        globalThis.localStorage?.setItem(HEIGHT_KEY, String(height));
      } catch {
        /* the height then lasts for this page only */
      }
    }
  },
  setView(view) {
    set({ view });
  },
}));
