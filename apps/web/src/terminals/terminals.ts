/**
 * Terminal actions: open a shell in a node (POST /api/labs/:lab/terminals), close
 * it (DELETE /api/terminals/:id), restart an ended one, and run a command in a
 * node's terminal (the lab guide's buttons). The sockets are the TerminalView's.
 */
import { useDock } from '../shell/store';
import { useLab } from '../state/lab';
import type { TerminalTab } from './store';
import { useTerminals } from './store';
import { openedTerminal } from '@nslab/model';
import { apiFetch, errorOf } from '../server/credentials';
import { isViewer } from '../liveview/store';

/** The size a new terminal starts with before the dock measures it (the VT100's). */
const DEFAULT_SIZE = { cols: 80, rows: 24 };

/** Starts a shell in `node` of the open lab; resolves with its tab, or undefined (the problem is in the store). */
async function start(node: string): Promise<TerminalTab | undefined> {
  const lab = useLab.getState().lab;
  const store = useTerminals.getState();
  if (!lab) {
    store.setProblem('Open a lab first.');
    return undefined;
  }
  store.setOpening(true);
  try {
    const res = await apiFetch(`/api/labs/${encodeURIComponent(lab)}/terminals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node, ...DEFAULT_SIZE }),
    });
    if (!res.ok) {
      store.setProblem(await errorOf(res));
      return undefined;
    }
    const parsed = openedTerminal.safeParse(await res.json());
    if (!parsed.success) {
      store.setProblem('the server did not say which terminal it opened');
      return undefined;
    }
    return { id: parsed.data.id, lab, node: parsed.data.node, status: 'connecting' };
  } catch {
    store.setProblem('Could not reach the server to open a terminal: check the connection (top right).');
    return undefined;
  } finally {
    useTerminals.getState().setOpening(false);
  }
}

/** Opens a terminal in `node` and shows it in the dock; `command` is typed once the shell is attached. */
export async function openTerminal(node: string, command?: string): Promise<boolean> {
  useDock.getState().show('terminals');
  const tab = await start(node);
  if (!tab) return false;
  if (command) tab.pending = command;
  useTerminals.getState().add(tab);
  return true;
}

/** Ends a terminal's shell and closes its tab. */
export function closeTerminal(id: string): void {
  const tab = useTerminals.getState().tabs.find((t) => t.id === id);
  useTerminals.getState().remove(id);
  // A live view only stops watching: the shell is its owner's.
  if (isViewer()) return;
  if (tab && tab.status !== 'exited' && tab.status !== 'gone') {
    void apiFetch(`/api/terminals/${encodeURIComponent(id)}`, { method: 'DELETE' }).catch(() => undefined);
  }
}

/** A new shell in the node of an ended terminal, in the same tab position. */
export async function restartTerminal(id: string): Promise<boolean> {
  const old = useTerminals.getState().tabs.find((t) => t.id === id);
  if (!old) return false;
  const tab = await start(old.node);
  if (!tab) return false;
  useTerminals.getState().replace(id, tab);
  return true;
}

/** The node whose terminal should run a lab guide's command: the node `ip netns exec NODE` names, else the lab's host. */
export function commandNode(command: string, nodes: readonly string[]): string | undefined {
  const m = /^\s*(?:sudo\s+)?ip\s+netns\s+exec\s+(\S+)/.exec(command);
  if (m?.[1] && nodes.includes(m[1])) return m[1];
  if (nodes.includes('host')) return 'host';
  return [...nodes].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))[0];
}

/**
 * Types `command` (and Enter) into a terminal on the right node: the one
 * `ip netns exec NODE` names, so that a server started in one node (python3 -m
 * http.server) does not block the next command. Every lab shell sees the lab's
 * namespaces in `ip netns list`, so the command runs verbatim, as in the tutorial.
 * A live terminal on that node is reused; otherwise one is opened. `on` names the
 * node outright (a lesson's command says where it runs).
 */
export async function runCommand(command: string, on?: string): Promise<boolean> {
  const nodes = Object.keys(useLab.getState().topology?.nodes ?? {});
  const node = on !== undefined && nodes.includes(on) ? on : commandNode(command, nodes);
  if (!node) {
    useTerminals.getState().setProblem('This lab has no namespaces to open a terminal in.');
    useDock.getState().show('terminals');
    return false;
  }
  const store = useTerminals.getState();
  const live = [...store.tabs].reverse().find((t) => t.node === node && (t.status === 'live' || t.status === 'connecting'));
  if (live) {
    store.update(live.id, { pending: live.pending ? `${live.pending}\r${command}` : command });
    store.activate(live.id);
    useDock.getState().show('terminals');
    return true;
  }
  return openTerminal(node, command);
}
