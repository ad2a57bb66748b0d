/**
 * Applies the automatic layout. While the user has placed nothing in a lab, the
 * whole lab is laid out again whenever nodes appear (loaded from a file, found in
 * the kernel, applied while watching), so it always reads left to right. Once the
 * user has dragged or dropped a node, their arrangement wins: new nodes are placed
 * beside their neighbours and nothing else moves. Laid-out positions are saved, so
 * a lab looks the same after a reload.
 */
import { useEffect, useRef, useState } from 'react';
import { layoutLab, placeNew } from './layout';
import { useLab } from '../state/lab';
import { useView } from '../state/view';

/** How long to wait for more nodes before laying out (ms): an apply adds its namespaces over a few patches. */
const SETTLE_MS = 120;

/** Runs the layout when the open lab needs it; true while the first layout of a lab is pending. */
export function useAutoLayout(): boolean {
  const topology = useLab((s) => s.topology);
  const lab = useLab((s) => s.lab);
  const positions = useView((s) => s.positions);
  const pinned = useView((s) => s.pinned);
  const positionsLab = useView((s) => s.positionsLab);
  const [pending, setPending] = useState(false);
  const generation = useRef(0);

  useEffect(() => {
    if (!topology || !lab || positionsLab !== lab) return;
    const names = Object.keys(topology.nodes);
    const missing = names.filter((n) => !positions[n]);
    if (missing.length === 0) return;
    const userPlaced = names.some((n) => pinned[n]);
    if (userPlaced) {
      useView.getState().setPositions(placeNew(topology, positions, missing));
      return;
    }
    const first = missing.length === names.length;
    // Set in the same commit that schedules the layout, so no frame shows the lab unplaced and not
    // pending; the cleanup below clears it for a run cancelled before it started (see there).
    // eslint-disable-next-line react-hooks/set-state-in-effect
    if (first) setPending(true);
    const mine = ++generation.current;
    performance.mark('nslab:layout-wanted');
    let fired = false;
    const timer = setTimeout(() => {
      fired = true;
      const current = useLab.getState().topology;
      if (!current || useLab.getState().lab !== lab) {
        if (mine === generation.current) setPending(false);
        return;
      }
      const started = performance.now();
      layoutLab(current)
        .then((laid) => {
          // Visible in the browser's performance timeline (and read by bench/canvas.ts).
          performance.measure('nslab:layout', { start: started, end: performance.now() });
          if (mine !== generation.current || useLab.getState().lab !== lab) return;
          useView.getState().setPositions(laid);
          useView.getState().requestFit();
        })
        .catch((err: unknown) => console.error('layout failed', err))
        .finally(() => {
          if (mine === generation.current) setPending(false);
        });
    }, first && names.length > 20 ? 0 : SETTLE_MS);
    return () => {
      clearTimeout(timer);
      // A run cancelled before its layout started gives up `pending`: only a started
      // layout clears it, and the next run may start none (another lab was opened, or
      // every node got a position meanwhile), which left "Laying out…" up for good.
      // A next run that still lays out the whole lab sets it again in the same commit.
      if (!fired) setPending(false);
    };
  }, [topology, lab, positions, pinned, positionsLab]);

  // Known during render, not only after the effect: a lab with no positions at all is
  // not drawn at makeshift places first (300 nodes drawn twice would cost a frame or ten).
  const unplaced = topology !== undefined && positionsLab === lab && Object.keys(topology.nodes).length > 0
    && Object.keys(topology.nodes).every((n) => !positions[n]);
  return pending || unplaced;
}
