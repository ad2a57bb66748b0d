/**
 * One terminal: an xterm.js screen wired to its socket. Output is acknowledged only
 * after xterm has written it (flow control); the screen is fitted to its box and the
 * size sent on; Ctrl+Shift+C / Ctrl+Shift+V copy and paste (the browser's own
 * shortcuts and menu work too); links are clickable. The status bar says when the
 * shell ended and why, with a button to start a new one.
 */
import { memo, useEffect, useRef } from 'react';
import { Terminal } from '@xterm/xterm';
import type { ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { restartTerminal } from './terminals';
import { TerminalConnection } from './client';
import { describeExit } from './protocol';
import type { Theme } from '../state/view';
import { useView } from '../state/view';
import { useTerminals } from './store';
import type { TerminalTab } from './store';
import { Icon } from '../ui/Icons';
import { isViewer } from '../liveview/store';

/** The screen's colours per page theme (xterm draws on a canvas, so CSS variables do not reach it). */
const THEMES: Record<Theme, ITheme> = {
  dark: {
    background: '#0d1117', foreground: '#e5e9ef', cursor: '#6f95ff', cursorAccent: '#0d1117', selectionBackground: '#2c4a8a',
    black: '#1b212a', red: '#ff6b61', green: '#3fcf74', yellow: '#f0b13d', blue: '#6f95ff', magenta: '#b58cff', cyan: '#2ec4b4', white: '#d0d7e1',
    brightBlack: '#566171', brightRed: '#ff8a80', brightGreen: '#69e093', brightYellow: '#ffcc66', brightBlue: '#9bb5ff', brightMagenta: '#cfb0ff', brightCyan: '#5fe0d2', brightWhite: '#ffffff',
  },
  light: {
    background: '#fbfcfd', foreground: '#18202b', cursor: '#3366f0', cursorAccent: '#fbfcfd', selectionBackground: '#c6d5ff',
    black: '#18202b', red: '#c4281f', green: '#137a3a', yellow: '#9a6400', blue: '#2452d6', magenta: '#7a3fd0', cyan: '#0b7d73', white: '#8a94a3',
    brightBlack: '#5a6678', brightRed: '#e0453b', brightGreen: '#1c9a4b', brightYellow: '#b87a00', brightBlue: '#3366f0', brightMagenta: '#8b4ee8', brightCyan: '#0f9488', brightWhite: '#18202b',
  },
};

/** Scrollback lines kept per terminal: plenty for a tutorial, bounded for a `yes`. */
const SCROLLBACK = 5_000;

const isMac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);

/** The xterm.js view of terminal `tab`; `visible` says whether its box is shown (it is fitted only then). */
function TerminalViewImpl({ tab, visible }: { tab: TerminalTab; visible: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | undefined>(undefined);
  const connRef = useRef<TerminalConnection | undefined>(undefined);
  const fitRef = useRef<FitAddon | undefined>(undefined);
  const { id } = tab;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const store = useTerminals.getState;
    const term = new Terminal({
      allowProposedApi: false,
      cursorBlink: true,
      fontFamily: "ui-monospace, 'SF Mono', 'JetBrains Mono', 'Cascadia Mono', Menlo, Consolas, 'DejaVu Sans Mono', monospace",
      fontSize: 13,
      lineHeight: 1.15,
      scrollback: SCROLLBACK,
      theme: THEMES[useView.getState().theme],
      rightClickSelectsWord: false,
      // A live view's screen mirrors the shell; the keyboard is its owner's.
      disableStdin: isViewer(),
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.loadAddon(new WebLinksAddon((event, uri) => {
      event.preventDefault();
      window.open(uri, '_blank', 'noopener,noreferrer');
    }));
    term.open(el);
    if (term.textarea) term.textarea.setAttribute('aria-label', `Terminal ${tab.node}`);
    termRef.current = term;
    fitRef.current = fit;

    // Ctrl+Shift+C copies the selection, Ctrl+Shift+V pastes (Cmd+C/V on a Mac are the browser's own).
    term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || isMac) return true;
      const key = e.key.toLowerCase();
      if (e.ctrlKey && e.shiftKey && key === 'c') {
        if (term.hasSelection()) void navigator.clipboard?.writeText(term.getSelection()).catch(() => undefined);
        e.preventDefault();
        return false;
      }
      if (e.ctrlKey && e.shiftKey && key === 'v') {
        e.preventDefault();
        void navigator.clipboard?.readText().then((text) => term.paste(text)).catch(() => undefined);
        return false;
      }
      return true;
    });

    const conn = new TerminalConnection(id, {
      ready() {
        term.reset();
        store().update(id, { status: 'live', message: undefined, restored: false });
      },
      output(bytes, processed) {
        term.write(bytes, processed);
      },
      exit(message) {
        store().update(id, { status: 'exited', message: describeExit(message), code: message.code });
      },
      closed(reason, code, retrying) {
        const tabNow = store().tabs.find((t) => t.id === id);
        if (!retrying && code === 4404 && tabNow?.restored) {
          // A terminal remembered from before the reload that the server no longer has: forget it quietly.
          store().remove(id);
          return;
        }
        store().update(id, { status: retrying ? 'reconnecting' : 'gone', message: reason, restored: false });
      },
    });
    connRef.current = conn;
    const onData = term.onData((data) => conn.input(data));
    const onBinary = term.onBinary((data) => conn.inputBinary(data));
    const onResize = term.onResize(({ cols, rows }) => conn.resize(cols, rows));
    const onFocus = () => store().setFocused(id);
    const onBlur = () => { if (store().focused === id) store().setFocused(undefined); };
    term.textarea?.addEventListener('focus', onFocus);
    term.textarea?.addEventListener('blur', onBlur);

    const refit = () => {
      if (el.offsetWidth === 0 || el.offsetHeight === 0) return;
      try {
        fit.fit();
      } catch {
        /* not laid out yet */
      }
    };
    const observer = new ResizeObserver(refit);
    observer.observe(el);
    refit();
    conn.resize(term.cols, term.rows);
    conn.connect();

    const unsubscribeTheme = useView.subscribe((s, prev) => {
      if (s.theme !== prev.theme) term.options.theme = THEMES[s.theme];
    });

    return () => {
      unsubscribeTheme();
      observer.disconnect();
      term.textarea?.removeEventListener('focus', onFocus);
      term.textarea?.removeEventListener('blur', onBlur);
      onData.dispose();
      onBinary.dispose();
      onResize.dispose();
      conn.dispose();
      term.dispose();
      termRef.current = undefined;
      connRef.current = undefined;
      if (store().focused === id) store().setFocused(undefined);
    };
    // One xterm per terminal id; the node never changes for an id.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);

  // Shown again (tab switch, dock reopened, maximised): fit and take the keyboard.
  useEffect(() => {
    if (!visible) return;
    const term = termRef.current;
    const raf = requestAnimationFrame(() => {
      try {
        fitRef.current?.fit();
      } catch {
        /* not laid out yet */
      }
      term?.focus();
    });
    return () => cancelAnimationFrame(raf);
  }, [visible]);

  // A command from the lab guide, typed once the shell is attached.
  useEffect(() => {
    if (tab.status !== 'live' || !tab.pending) return;
    const text = tab.pending;
    useTerminals.getState().update(id, { pending: undefined });
    connRef.current?.input(`${text}\r`);
  }, [id, tab.status, tab.pending]);

  const ended = tab.status === 'exited' || tab.status === 'gone';
  return (
    <div className={`term-pane${visible ? '' : ' hidden'}`} role="tabpanel" aria-label={`Terminal ${tab.node}`} data-terminal={id} data-status={tab.status}>
      <div className="term-screen" ref={box} />
      {tab.status !== 'live' ? (
        <div className={`term-status is-${tab.status}`} role="status" aria-label={`Terminal status ${tab.node}`}>
          {tab.status === 'connecting' ? <><span className="spinner" /> Attaching to the shell in <code>{tab.node}</code>…</>
            : tab.status === 'reconnecting' ? <><span className="spinner" /> {tab.message ?? 'Connection lost'}; re-attaching…</>
              : <>
                <Icon name={tab.status === 'exited' && (tab.code === 0 || tab.code === null) && !tab.message?.includes('no longer exists') ? 'check' : 'alert'} size={14} />
                <span className="term-status-text">{tab.status === 'exited' ? 'Shell ended' : 'Disconnected'}: {tab.message}</span>
                {ended && !isViewer() ? <button className="btn" aria-label={`Restart terminal ${tab.node}`} onClick={() => void restartTerminal(id)}><Icon name="undo" size={14} />Restart</button> : null}
              </>}
        </div>
      ) : null}
    </div>
  );
}

/** A terminal screen; re-renders only when its tab or visibility changes. */
export const TerminalView = memo(TerminalViewImpl);
