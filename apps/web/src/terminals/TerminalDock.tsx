/**
 * The terminals tab of the dock: a tab per shell (its node, a status dot, close), a
 * picker to open a new one in any node of the lab, and the screens themselves, all
 * kept mounted so a hidden terminal keeps its screen and its socket.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import '@xterm/xterm/css/xterm.css';
import { useShallow } from 'zustand/react/shallow';
import { closeTerminal, openTerminal } from './terminals';
import { useLab } from '../state/lab';
import { useTerminals } from './store';
import type { TerminalStatus } from './store';
import { Icon } from '../ui/Icons';
import { TerminalView } from './TerminalView';
import { useLiveView } from '../liveview/store';
import { useMirroredTerminals } from '../liveview/mirrors';

const STATUS_WORD: Record<TerminalStatus, string> = { connecting: 'attaching', live: 'running', reconnecting: 're-attaching', exited: 'ended', gone: 'disconnected' };

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The form that opens a terminal in a chosen node. */
export function NewTerminal({ compact = false }: { compact?: boolean }) {
  const nodes = useLab(useShallow((s) => Object.keys(s.topology?.nodes ?? {}).sort(byName)));
  const opening = useTerminals((s) => s.opening);
  const [node, setNode] = useState('');
  // Every lab has a host terminal: in a lab without a node called host, the server creates one for it.
  const choices = nodes.includes('host') ? nodes : ['host', ...nodes];
  const chosen = choices.includes(node) ? node : 'host';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen) void openTerminal(chosen);
  };
  return (
    <form className={`new-terminal${compact ? ' compact' : ''}`} onSubmit={submit}>
      <select aria-label="Terminal node" value={chosen} onChange={(e) => setNode(e.target.value)} title="The namespace the shell runs in; every lab shell sees the lab's namespaces in ip netns list, and ip netns add NAME there adds one to the lab">
        {choices.map((n) => <option key={n} value={n}>{n === 'host' ? (nodes.includes('host') ? 'host (the lab host)' : 'host (creates the lab host)') : n}</option>)}
      </select>
      <button type="submit" className="btn" aria-label="Open terminal" disabled={!chosen || opening}><Icon name="plus" size={14} />Terminal</button>
    </form>
  );
}

/** The terminals panel. */
export function TerminalDock({ visible }: { visible: boolean }) {
  const tabs = useTerminals((s) => s.tabs);
  const active = useTerminals((s) => s.active);
  const problem = useTerminals((s) => s.problem);
  const shown = tabs.find((t) => t.id === active) ?? tabs[0];
  // A live view opens no shell: the lab's open ones appear here as read-only mirrors.
  const viewer = useLiveView((s) => s.viewer !== undefined);
  useMirroredTerminals(viewer);

  return (
    <div className="terminals">
      <div className="term-tabs" role="tablist" aria-label="Terminals">
        {tabs.map((t) => (
          <div key={t.id} className={`term-tab${t.id === shown?.id ? ' active' : ''} is-${t.status}`}>
            <button role="tab" aria-selected={t.id === shown?.id} className="term-tab-btn" title={`Shell in ${t.node}: ${STATUS_WORD[t.status]}${t.message ? ` (${t.message})` : ''}`} onClick={() => useTerminals.getState().activate(t.id)}>
              <span className={`dot ${t.status === 'live' ? 'is-up' : t.status === 'exited' || t.status === 'gone' ? 'is-down' : 'is-unknown'}`} aria-hidden="true" />
              <span className="mono">{t.node}</span>
            </button>
            <button className="term-tab-x" aria-label={`Close terminal ${t.node}`} title={viewer ? 'Stop watching this shell here (it runs on)' : 'Close: ends the shell'} onClick={() => closeTerminal(t.id)}><Icon name="close" size={12} /></button>
          </div>
        ))}
        {viewer ? null : <NewTerminal compact />}
      </div>
      {problem ? (
        <div className="term-problem" role="alert">
          <Icon name="alert" size={14} /><span>{problem}</span>
          <button className="chip-x" aria-label="Dismiss" onClick={() => useTerminals.getState().setProblem(undefined)}><Icon name="close" size={12} /></button>
        </div>
      ) : null}
      <div className="term-body">
        {tabs.length === 0 ? (
          <div className="term-empty">
            <p>A shell inside any namespace of the lab, with <code>ip</code>, <code>ping</code>, <code>tcpdump</code> at hand.</p>
            <p className="muted small">{viewer ? 'This live view shows the lab\'s shells here, read-only, as they are opened.' : <>Double-click a namespace on the canvas, or pick one here. <code>ip netns list</code> shows the lab's namespaces from every terminal.</>}</p>
          </div>
        ) : null}
        {tabs.map((t) => <TerminalView key={t.id} tab={t} visible={visible && t.id === shown?.id} />)}
      </div>
    </div>
  );
}
