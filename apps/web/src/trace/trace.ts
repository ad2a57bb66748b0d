/**
 * Ping traces: sends `trace` for the open lab and routes the answer (a `trace`
 * result, or an `error` with the same id) to the trace store. Installed once by the
 * composition root (main.tsx).
 */
import { client, requestId } from '../server/client';
import { listen } from '../server/dispatch';
import { useDock } from '../shell/store';
import { useLab } from '../state/lab';
import { TRACE_ID_PREFIX, useTrace } from './store';

/** How long a trace may take before the page gives up on it (ms): ping waits 2 s, captures start in well under 1 s. */
const TRACE_TIMEOUT_MS = 20_000;

/** Pings `destination` from `source` in the open lab and traces it; false when it could not be sent. */
export function runTrace(source: string, destination: string, flow?: { proto: 'icmp' | 'tcp' | 'udp'; port?: number }): boolean {
  const lab = useLab.getState().lab;
  const store = useTrace.getState();
  store.setSource(source);
  store.setDestination(destination);
  useDock.getState().show('trace');
  const id = requestId(TRACE_ID_PREFIX);
  store.start(id);
  if (!lab) {
    store.fail(id, 'Open a lab first.');
    return false;
  }
  const extra = flow === undefined || flow.proto === 'icmp' ? {} : { proto: flow.proto, ...(flow.port !== undefined ? { port: flow.port } : {}) };
  if (!client.send({ type: 'trace', id, lab, node: source, destination: destination.trim(), ...extra })) {
    store.fail(id, 'Not connected to the server: wait for the connection to come back (top right), then try again.');
    return false;
  }
  setTimeout(() => useTrace.getState().fail(id, 'The server did not answer the trace in time.'), TRACE_TIMEOUT_MS);
  return true;
}

/** Hooks traces to the socket and the lab store; returns the way to stop. */
export function installTraces(): () => void {
  useTrace.getState().follow(useLab.getState().lab);
  const stop = listen((message) => {
    // A trace with no id answers no request of this page: the owner's, sent to a live view of the lab.
    if (message.type === 'trace' && message.id === undefined && message.lab === useLab.getState().lab) {
      useTrace.getState().seen(message.result);
      useDock.getState().show('trace');
      return;
    }
    const running = useTrace.getState().running;
    if (!running || message.type === 'hello') return;
    if (message.type === 'trace' && message.id === running) useTrace.getState().finish(running, message.result);
    else if (message.type === 'error' && message.id === running) useTrace.getState().fail(running, message.message);
  });
  const unfollow = useLab.subscribe((s, prev) => {
    if (s.lab !== prev.lab) useTrace.getState().follow(s.lab);
  });
  return () => {
    stop();
    unfollow();
  };
}
