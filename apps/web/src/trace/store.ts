/**
 * The ping trace store: the source and destination being traced, the request in
 * flight, and the last result (or why it could not run). The canvas highlights the
 * result's path while `shown` is on.
 */
import { create } from 'zustand';
import type { PingTraceResult, TraceProto } from '@nslab/model';

/** The prefix of trace request ids: errors answering them belong to the trace panel, not the edit pipeline. */
export const TRACE_ID_PREFIX = 'trace';

/** The state of the trace store. */
export interface TraceState {
  lab: string | undefined;
  source: string;
  destination: string;
  /** What to send: an echo, a TCP connection attempt, a UDP datagram; and to which port. */
  proto: TraceProto;
  port: string;
  /** The hop (1-based index) whose rules are shown, if any. */
  selectedHop: number | undefined;
  /** The id of the trace request in flight. */
  running: string | undefined;
  result: PingTraceResult | undefined;
  /** Why the last trace could not run, in words. */
  error: string | undefined;
  /** Highlight the result's path on the canvas. */
  shown: boolean;
  follow(lab: string | undefined): void;
  setSource(source: string): void;
  setDestination(destination: string): void;
  start(id: string): void;
  finish(id: string, result: PingTraceResult): void;
  /** A trace this page did not ask for (a live view shows the owner's): shown unless one of this page's own is running. */
  seen(result: PingTraceResult): void;
  fail(id: string, error: string): void;
  setShown(shown: boolean): void;
  setFlow(proto: TraceProto, port: string): void;
  selectHop(index: number | undefined): void;
}

/** The one trace store. */
export const useTrace = create<TraceState>()((set, get) => ({
  lab: undefined,
  source: '',
  destination: '',
  running: undefined,
  result: undefined,
  error: undefined,
  shown: true,
  proto: 'icmp',
  port: '',
  selectedHop: undefined,
  setFlow(proto, port) {
    set({ proto, port });
  },
  selectHop(index) {
    set({ selectedHop: index });
  },
  follow(lab) {
    if (get().lab === lab) return;
    set({ lab, source: '', destination: '', running: undefined, result: undefined, error: undefined });
  },
  setSource(source) {
    set({ source });
  },
  setDestination(destination) {
    set({ destination });
  },
  start(id) {
    set({ running: id, error: undefined, result: undefined, shown: true });
  },
  finish(id, result) {
    if (get().running === id) set({ running: undefined, result, selectedHop: undefined });
  },
  seen(result) {
    if (get().running === undefined) set({ result, error: undefined, selectedHop: undefined });
  },
  fail(id, error) {
    if (get().running === id) set({ running: undefined, error });
  },
  setShown(shown) {
    set({ shown });
  },
}));
