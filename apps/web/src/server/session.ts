/**
 * The open lab: which lab this page follows, kept in the address (#lab=NAME) so a
 * reload or a shared link opens the same one, and subscribed on the socket so its
 * snapshot and patches arrive.
 */
import { nameProblem } from '@nslab/model';
import { client } from './client';
import { loadHistory } from '../editing/history';
import { useLab } from '../state/lab';
import { useOps } from '../editing/store';
import { useView } from '../state/view';

/** The lab named in the page address, if it is a valid lab name. */
export function labFromHash(hash: string): string | undefined {
  const m = /(?:^#|&)lab=([^&]*)/.exec(hash);
  const lab = m ? decodeURIComponent(m[1] ?? '') : undefined;
  return lab && !nameProblem(lab, 'lab') ? lab : undefined;
}

/** Opens a lab (or none): follows it, loads its saved positions and subscribes. */
export function openLab(lab: string | undefined): void {
  const prev = useLab.getState().lab;
  if (prev === lab) return;
  if (prev) client.send({ type: 'unsubscribe', lab: prev });
  useLab.getState().follow(lab);
  useView.getState().loadPositions(lab);
  useOps.getState().setProblems([]);
  if (lab) {
    client.send({ type: 'subscribe', lab });
    void loadHistory(lab);
  }
  const hash = lab ? `#lab=${encodeURIComponent(lab)}` : '';
  if (typeof location !== 'undefined' && location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}

/** After a (re)connect: subscribe again to the lab being followed. */
export function resubscribe(): void {
  const lab = useLab.getState().lab;
  if (lab) client.send({ type: 'subscribe', lab });
}
