/**
 * The dock under the canvas: terminals, packets, the ping trace and the command log
 * as tabs. Its top edge drags to resize; it can be maximised over the canvas (a
 * terminal popped out large). Every panel stays mounted while hidden, so terminals
 * keep their screens and sockets. The command log opens here when a plan runs.
 */
import { useEffect, useRef } from 'react';
import type { PointerEvent as ReactPointerEvent } from 'react';
import { useLab } from '../state/lab';
import { useOps } from '../editing/store';
import type { DockTab } from './store';
import { DOCK_MIN_HEIGHT, useDock } from './store';
import { usePackets } from '../packets/store';
import { useTerminals } from '../terminals/store';
import { useView } from '../state/view';
import { CommandLogBody } from '../editing/CommandLog';
import { Icon } from '../ui/Icons';
import { PacketList } from '../packets/PacketList';
import { TerminalDock } from '../terminals/TerminalDock';
import { TracePanel } from '../trace/TracePanel';
import { useLiveView } from '../liveview/store';

/** The dock never takes more than the window minus this (px): the top bar and a strip of canvas stay. */
const KEEP_ABOVE = 160;

const TABS: { tab: DockTab; label: string }[] = [
  { tab: 'terminals', label: 'Terminals' },
  { tab: 'packets', label: 'Packets' },
  { tab: 'trace', label: 'Ping trace' },
  { tab: 'log', label: 'Command log' },
];

/** The dock. */
export function Dock() {
  const lab = useLab((s) => s.lab);
  const open = useDock((s) => s.open);
  const tab = useDock((s) => s.tab);
  const maximised = useDock((s) => s.maximised);
  const height = useDock((s) => s.height);
  const terminals = useTerminals((s) => s.tabs.length);
  // A live view sees traces but sends none: a trace runs probes in the lab.
  const viewer = useLiveView((s) => s.viewer !== undefined);
  const watching = usePackets((s) => s.watching);
  const packets = usePackets((s) => s.rows.length);
  const log = useOps((s) => s.log);
  const logOpen = useView((s) => s.panels.log);
  const failed = log.filter((e) => e.status === 'failed').length;

  // Terminals belong to a lab: switching labs (or reloading) shows that lab's terminals, re-attached.
  useEffect(() => {
    useTerminals.getState().follow(lab);
    if (useTerminals.getState().tabs.length > 0) useDock.getState().show('terminals');
  }, [lab]);

  // The command log's "open" flag (set when a plan runs) and the dock's log tab are one thing.
  useEffect(() => {
    if (logOpen) useDock.getState().show('log');
  }, [logOpen]);
  useEffect(() => {
    const showing = open && tab === 'log';
    if (useView.getState().panels.log !== showing) useView.getState().setPanel('log', showing);
  }, [open, tab]);

  // The canvas changes size when the dock opens, closes or is restored: fit the lab into what is left.
  const sized = useRef(false);
  useEffect(() => {
    if (!sized.current) {
      sized.current = true;
      return;
    }
    if (!maximised) requestAnimationFrame(() => useView.getState().requestFit());
  }, [open, maximised]);

  const drag = useRef<{ y: number; h: number } | undefined>(undefined);
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (!open || maximised) return;
    drag.current = { y: e.clientY, h: height };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d) return;
    const max = Math.max(DOCK_MIN_HEIGHT, window.innerHeight - KEEP_ABOVE);
    useDock.getState().setHeight(Math.min(max, d.h + (d.y - e.clientY)));
  };
  const onPointerUp = () => {
    if (!drag.current) return;
    drag.current = undefined;
    useDock.getState().setHeight(useDock.getState().height, true);
  };

  const count = (t: DockTab) => {
    switch (t) {
      case 'terminals':
        return terminals > 0 ? <span className="count">{terminals}</span> : null;
      case 'packets':
        return <>{watching ? <span className="live-dot" title="Watching packets" aria-label="watching" /> : null}{packets > 0 ? <span className="count">{packets}</span> : null}</>;
      case 'trace':
        return null;
      case 'log':
        return <>{log.length > 0 ? <span className="count">{log.length}</span> : null}{failed ? <span className="badge err">{failed} failed</span> : null}</>;
      default:
        return null;
    }
  };

  return (
    <section className={`dock${open ? ' open' : ''}${maximised ? ' maximised' : ''}`} style={open && !maximised ? { height } : undefined} aria-label="Dock">
      {open && !maximised ? <div className="dock-resize" role="separator" aria-orientation="horizontal" aria-label="Resize dock" onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerCancel={onPointerUp} /> : null}
      <header className="dock-head">
        <div className="dock-tabs" role="tablist" aria-label="Dock tabs">
          {TABS.map(({ tab: t, label }) => (
            <button key={t} role="tab" aria-selected={open && tab === t} className={`dock-tab${open && tab === t ? ' active' : ''}`} onClick={() => useDock.getState().toggle(t)}>
              {label}{count(t)}
            </button>
          ))}
        </div>
        <div className="dock-actions">
          {open && tab === 'log' && log.length > 0 ? <button className="btn ghost" aria-label="Clear log" onClick={() => useOps.getState().clearLog()}>Clear</button> : null}
          {open ? (
            <button className="btn ghost icon-btn" aria-label={maximised ? 'Restore dock' : 'Maximise dock'} title={maximised ? 'Back to the canvas' : 'Make the dock fill the canvas area'} onClick={() => useDock.getState().setMaximised(!maximised)}>
              <Icon name={maximised ? 'restore' : 'maximise'} size={14} />
            </button>
          ) : null}
          <button className="btn ghost icon-btn" aria-label={open ? 'Close dock' : 'Open dock'} onClick={() => (open ? useDock.getState().close() : useDock.getState().show(tab))}>
            <Icon name={open ? 'chevron-down' : 'chevron-up'} size={14} />
          </button>
        </div>
      </header>
      <div className="dock-body" hidden={!open}>
        <div className="dock-panel" hidden={tab !== 'terminals'}><TerminalDock visible={open && tab === 'terminals'} /></div>
        <div className="dock-panel" hidden={tab !== 'packets'}><PacketList /></div>
        <div className="dock-panel" hidden={tab !== 'trace'}><fieldset className="read-only-fields" disabled={viewer}><TracePanel /></fieldset></div>
        <div className="dock-panel" hidden={tab !== 'log'}><CommandLogBody /></div>
      </div>
    </section>
  );
}
