/**
 * Keyboard shortcuts: delete, undo, fit view, search, presentation mode, help. They stay out of the
 * way while the user types in a field (except Escape).
 */
import { useEffect } from 'react';
import { deleteSelection } from '../editing/actions';
import { useOps } from '../editing/store';
import { useView } from '../state/view';
import { cancelPlan, undo } from '../editing/submit';
import { isViewer } from '../liveview/store';

/** The shortcuts, as the help dialog lists them. */
export const SHORTCUTS: readonly { keys: string; what: string }[] = [
  { keys: 'Delete', what: 'delete the selected namespace or link (through its plan)' },
  { keys: 'Ctrl+Z', what: 'undo the last edit (runs its inverse plan)' },
  { keys: 'F', what: 'fit the lab in view' },
  { keys: '/ or Ctrl+K', what: 'search a namespace or an address' },
  { keys: 'Enter', what: 'run the plan being shown' },
  { keys: 'Escape', what: 'cancel the plan, close search, clear the selection' },
  { keys: 'P', what: 'presentation mode on or off (for a projector)' },
  { keys: '?', what: 'show these shortcuts' },
  { keys: 'Double-click', what: 'open a terminal in a namespace (right-click: more)' },
  { keys: 'Ctrl+Shift+C / V', what: 'copy and paste in a terminal' },
];

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

/** Installs the shortcuts on the window for the life of the page. */
export function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const view = useView.getState();
      if (e.key === 'Escape') {
        if (useOps.getState().plan) cancelPlan();
        else if (view.panels.search) view.setPanel('search', false);
        else if (view.panels.help) view.setPanel('help', false);
        else if (view.panels.present && !typing(e.target)) view.setPanel('present', false);
        else if (!typing(e.target)) view.select(undefined);
        return;
      }
      if (typing(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      // A live view changes nothing: undo and delete are not its keys.
      const viewer = isViewer();
      if (mod && e.key.toLowerCase() === 'z' && !e.shiftKey) {
        e.preventDefault();
        if (!viewer) undo();
      } else if (mod && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        view.setPanel('search', true);
      } else if (mod || e.altKey) {
        return;
      } else if (e.key === 'Delete' || e.key === 'Backspace') {
        if (!viewer && deleteSelection()) e.preventDefault();
      } else if (e.key === 'f' || e.key === 'F') {
        view.requestFit();
      } else if (e.key === '/') {
        e.preventDefault();
        view.setPanel('search', true);
      } else if (e.key === 'p' || e.key === 'P') {
        view.setPanel('present', !view.panels.present);
      } else if (e.key === '?') {
        view.setPanel('help', true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
