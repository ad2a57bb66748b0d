/**
 * The live actions on a namespace, offered in its inspector and its context menu:
 * open a terminal in it, trace a ping from it.
 */
import { create } from 'zustand';
import { useEffect, useRef } from 'react';
import { openTerminal } from '../terminals/terminals';
import { useDock } from '../shell/store';
import { useTrace } from '../trace/store';
import { Icon } from '../ui/Icons';

/** Starts a trace from `node`: the trace tab opens with the node as the source. */
export function traceFrom(node: string): void {
  useTrace.getState().setSource(node);
  useDock.getState().show('trace');
  requestAnimationFrame(() => document.querySelector<HTMLInputElement>('input[aria-label="Trace destination"]')?.focus());
}

/** The buttons in a namespace's inspector. */
export function NodeActions({ node }: { node: string }) {
  return (
    <div className="node-actions">
      <button className="btn" aria-label={`Open terminal in ${node}`} title="A shell in this namespace (or double-click it on the canvas)" onClick={() => void openTerminal(node)}><Icon name="terminal" size={14} />Open terminal</button>
      <button className="btn" aria-label={`Trace ping from ${node}`} title="Ping an address from here and follow the echo hop by hop" onClick={() => traceFrom(node)}><Icon name="route" size={14} />Trace ping</button>
    </div>
  );
}

/** Where the context menu is open: a node at a point of the window. */
interface MenuState {
  at: { node: string; x: number; y: number } | undefined;
  open(node: string, x: number, y: number): void;
  close(): void;
}

/** The context menu's store (view state). */
export const useNodeMenu = create<MenuState>()((set) => ({
  at: undefined,
  open(node, x, y) {
    set({ at: { node, x, y } });
  },
  close() {
    set({ at: undefined });
  },
}));

/** The context menu of a namespace on the canvas. */
export function NodeMenu() {
  const at = useNodeMenu((s) => s.at);
  const menu = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!at) return;
    menu.current?.querySelector('button')?.focus();
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent && e.key !== 'Escape') return;
      if (e.type === 'pointerdown' && menu.current?.contains(e.target as Node)) return;
      useNodeMenu.getState().close();
    };
    window.addEventListener('pointerdown', close, true);
    window.addEventListener('keydown', close, true);
    window.addEventListener('blur', close);
    return () => {
      window.removeEventListener('pointerdown', close, true);
      window.removeEventListener('keydown', close, true);
      window.removeEventListener('blur', close);
    };
  }, [at]);
  if (!at) return null;
  const run = (fn: () => void) => () => {
    useNodeMenu.getState().close();
    fn();
  };
  return (
    <div className="context-menu" role="menu" aria-label={`Actions on ${at.node}`} ref={menu} style={{ left: Math.min(at.x, window.innerWidth - 200), top: Math.min(at.y, window.innerHeight - 120) }}>
      <div className="context-title mono">{at.node}</div>
      <button role="menuitem" onClick={run(() => void openTerminal(at.node))}><Icon name="terminal" size={14} />Open terminal</button>
      <button role="menuitem" onClick={run(() => traceFrom(at.node))}><Icon name="route" size={14} />Trace ping from here</button>
    </div>
  );
}
