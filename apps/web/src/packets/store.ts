/**
 * The packets store: what the open lab's captures sent (a bounded list of rows, the
 * last flood statement, each capture's state) and how the user looks at it
 * (watching or not, the filter, the selected packet, the animation's pause and
 * speed). Rows arrive in batches from `packets.ts`, at most a few times a second,
 * and the list never holds more than MAX_ROWS: a flood cannot grow the tab.
 */
import { create } from 'zustand';
import type { PacketCount } from '@nslab/model';
import type { PacketRow } from './row';

/** Rows kept: about a minute of a busy lab; the oldest go first. */
export const MAX_ROWS = 5_000;

/** The last flood statement: the server aggregated instead of sending every packet. */
export interface Flood {
  /** When it arrived (ms since the epoch, page clock). */
  at: number;
  /** Packets a second the captures saw in the interval (held back and sent). */
  rate: number;
  /** The client's limit: above it, packets are counted instead of sent. */
  limit: number;
  /** The interval the counts cover (s). */
  seconds: number;
  dropped: number;
  passed: number;
  counts: PacketCount[];
}

/** A capture's state in one node. */
export interface CaptureState {
  state: 'started' | 'ended';
  message?: string;
}

/** The state of the packets store. */
export interface PacketsState {
  lab: string | undefined;
  watching: boolean;
  rows: PacketRow[];
  /** Packets received since watching started (rows drop the oldest; this does not). */
  total: number;
  /** The selected row's seq. */
  selected: number | undefined;
  filter: string;
  /** The list stops taking new rows (packets still animate and count). */
  frozen: boolean;
  flood: Flood | undefined;
  captures: Record<string, CaptureState>;
  /** Animation controls. */
  paused: boolean;
  speed: number;
  follow(lab: string | undefined): void;
  setWatching(watching: boolean): void;
  append(rows: PacketRow[]): void;
  select(seq: number | undefined): void;
  setFilter(filter: string): void;
  setFrozen(frozen: boolean): void;
  setFlood(flood: Flood | undefined): void;
  setCapture(node: string, state: CaptureState): void;
  setPaused(paused: boolean): void;
  setSpeed(speed: number): void;
  clear(): void;
}

/** The one packets store. */
export const usePackets = create<PacketsState>()((set, get) => ({
  lab: undefined,
  watching: false,
  rows: [],
  total: 0,
  selected: undefined,
  filter: '',
  frozen: false,
  flood: undefined,
  captures: {},
  paused: false,
  speed: 1,
  follow(lab) {
    if (get().lab === lab) return;
    set({ lab, watching: false, rows: [], total: 0, selected: undefined, flood: undefined, captures: {}, frozen: false });
  },
  setWatching(watching) {
    set(watching ? { watching } : { watching, captures: {}, flood: undefined });
  },
  append(rows) {
    if (rows.length === 0) return;
    const total = get().total + rows.length;
    if (get().frozen) {
      set({ total });
      return;
    }
    const prev = get().rows;
    const all = prev.concat(rows);
    // Captures of different namespaces arrive in their own batches: keep the list in capture-time order.
    const last = prev[prev.length - 1];
    if (rows.some((r, i) => (i === 0 ? last !== undefined && r.event.time < last.event.time : r.event.time < rows[i - 1]!.event.time))) {
      all.sort((a, b) => a.event.time - b.event.time || a.seq - b.seq);
    }
    const kept = all.length > MAX_ROWS ? all.slice(all.length - MAX_ROWS) : all;
    const selected = get().selected;
    const stillThere = selected === undefined || kept === all || kept.some((r) => r.seq === selected);
    set({ rows: kept, total, ...(stillThere ? {} : { selected: undefined }) });
  },
  select(selected) {
    set({ selected });
  },
  setFilter(filter) {
    set({ filter });
  },
  setFrozen(frozen) {
    set({ frozen });
  },
  setFlood(flood) {
    set({ flood });
  },
  setCapture(node, state) {
    set({ captures: { ...get().captures, [node]: state } });
  },
  setPaused(paused) {
    set({ paused });
  },
  setSpeed(speed) {
    set({ speed });
  },
  clear() {
    set({ rows: [], total: 0, selected: undefined, flood: undefined });
  },
}));
