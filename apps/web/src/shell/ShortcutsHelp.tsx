/** The list of keyboard shortcuts (press ?). */
import { useView } from '../state/view';
import { Icon } from '../ui/Icons';
import { SHORTCUTS } from './shortcuts';

/** The shortcuts dialog. */
export function ShortcutsHelp() {
  const open = useView((s) => s.panels.help);
  if (!open) return null;
  const close = () => useView.getState().setPanel('help', false);
  return (
    <div className="modal-backdrop" onClick={close}>
      <div className="modal" role="dialog" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => { if (e.key === 'Escape') close(); }}>
        <header className="modal-head"><h2>Keyboard shortcuts</h2><button className="btn ghost icon-btn" autoFocus aria-label="Close" onClick={close}><Icon name="close" /></button></header>
        <dl className="shortcuts">
          {SHORTCUTS.map((s) => (
            <div key={s.keys}><dt><kbd>{s.keys}</kbd></dt><dd>{s.what}</dd></div>
          ))}
        </dl>
      </div>
    </div>
  );
}
