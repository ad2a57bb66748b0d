/**
 * A live view's terminals: the shells open in its lab, each shown as a read-only mirror. The
 * protocol has no message for the terminal list, so the viewer reads GET /api/labs/:lab/terminals
 * every few seconds while it is open (one small request; a lab has at most 16 shells).
 */
import { useEffect } from 'react';
import { listedTerminals } from '@nslab/model';
import { apiFetch } from '../server/credentials';
import { useLab } from '../state/lab';
import { useTerminals } from '../terminals/store';
import { useDock } from '../shell/store';

/** How often a viewer looks for shells opened or ended in its lab (2 s: a projector may lag that much behind a new tab). */
const LIST_INTERVAL_MS = 2_000;

/** While `on`, adds a tab for every running shell of the open lab that has none (and was not closed here), and opens the dock on it. */
export function useMirroredTerminals(on: boolean): void {
  useEffect(() => {
    if (!on) return;
    const dismissed = new Set<string>();
    const known = new Set(useTerminals.getState().tabs.map((t) => t.id));
    const unsubscribe = useTerminals.subscribe((s, before) => {
      // A tab closed here stays closed: the next list must not bring it back.
      for (const t of before.tabs) if (!s.tabs.some((x) => x.id === t.id)) dismissed.add(t.id);
    });
    let stopped = false;
    const look = async () => {
      const lab = useLab.getState().lab;
      if (!lab || stopped) return;
      try {
        const res = await apiFetch(`/api/labs/${encodeURIComponent(lab)}/terminals`);
        if (!res.ok) return;
        const parsed = listedTerminals.safeParse(await res.json());
        if (!parsed.success || stopped || useLab.getState().lab !== lab) return;
        const store = useTerminals.getState();
        for (const t of parsed.data.terminals) {
          if (t.exit || dismissed.has(t.id) || known.has(t.id) || store.tabs.some((x) => x.id === t.id)) continue;
          known.add(t.id);
          store.add({ id: t.id, lab, node: t.node, status: 'connecting' });
          // A projector shows a shell as soon as its owner opens one.
          if (!useDock.getState().open) useDock.getState().show('terminals');
        }
      } catch {
        /* the connection status says when the server is gone */
      }
    };
    void look();
    const timer = setInterval(() => void look(), LIST_INTERVAL_MS);
    return () => { stopped = true; clearInterval(timer); unsubscribe(); };
  }, [on]);
}
