/**
 * "Share live view": makes a read-only link of the open lab (for a projector or a stream),
 * shows it with a copy button, and lists the lab's links with a way to revoke each.
 */
import { useEffect, useState } from 'react';
import type { ViewLink } from '@nslab/model';
import { useLab } from '../state/lab';
import { Icon } from '../ui/Icons';
import { listViewLinks, makeViewLink, revokeViewLink } from './share';
import { useLiveView } from './store';

/** Lifetimes offered, in hours (the server's default is 12, its most 72). */
const HOURS = [1, 12, 72] as const;

/** The top bar's button and its panel; nothing on a viewer's page. */
export function ShareLiveView() {
  const viewer = useLiveView((s) => s.viewer);
  const lab = useLab((s) => s.lab);
  const exists = useLab((s) => s.labs.some((l) => l.name === s.lab));
  const [open, setOpen] = useState(false);
  const [hours, setHours] = useState<number>(12);
  const [made, setMade] = useState<ViewLink | undefined>();
  const [links, setLinks] = useState<ViewLink[]>([]);
  const [problem, setProblem] = useState<string | undefined>();
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    if (!open || !lab) return;
    let live = true;
    listViewLinks(lab).then((l) => { if (live) setLinks(l); }, (e: unknown) => { if (live) setProblem(e instanceof Error ? e.message : String(e)); });
    return () => { live = false; };
  }, [open, lab, made]);

  if (viewer) return null;
  const close = () => { setOpen(false); setMade(undefined); setProblem(undefined); setCopied(false); };
  const make = async () => {
    if (!lab) return;
    setProblem(undefined);
    setCopied(false);
    try {
      setMade(await makeViewLink(lab, hours));
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
  };
  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      setProblem('The browser did not allow copying: select the link and copy it yourself.');
    }
  };
  const revoke = async (id: string) => {
    if (!lab) return;
    try {
      await revokeViewLink(lab, id);
      setLinks((l) => l.filter((x) => x.id !== id));
      if (made?.id === id) setMade(undefined);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <div className="share-live-view">
      <button className="btn" aria-label="Share live view" aria-expanded={open} disabled={!exists} title={exists ? 'Make a read-only link that shows this lab live (a projector, a stream)' : 'Build the lab first: a live view shows a lab the kernel has'} onClick={() => (open ? close() : setOpen(true))}>Share live view</button>
      {open && lab ? (
        <div className="share-panel" role="dialog" aria-label="Share live view">
          <p className="small">A link that shows <span className="mono">{lab}</span> as it changes (canvas, packets, terminal output) and allows nothing else. It ends when it expires, is revoked, or the server restarts.</p>
          <div className="share-row">
            <label className="small">Lasts <select aria-label="Link lifetime" value={hours} onChange={(e) => setHours(Number(e.target.value))}>{HOURS.map((h) => <option key={h} value={h}>{h} h</option>)}</select></label>
            <button className="btn primary" aria-label="Make link" onClick={() => void make()}>Make link</button>
          </div>
          {made ? (
            <div className="share-row">
              <input className="mono share-url" aria-label="Live view link" readOnly value={made.url} onFocus={(e) => e.target.select()} />
              <button className="btn" aria-label="Copy link" onClick={() => void copy(made.url)}><Icon name={copied ? 'check' : 'script'} size={14} />{copied ? 'Copied' : 'Copy'}</button>
            </div>
          ) : null}
          {problem ? <p className="field-problem" role="alert">{problem}</p> : null}
          {links.length > 0 ? (
            <ul className="share-links" aria-label="Open links of this lab">
              {links.map((l) => (
                <li key={l.id}>
                  <span className="small muted">ends {new Date(l.expires).toLocaleString()}</span>
                  <button className="btn danger-link" aria-label={`Revoke link ${l.id}`} onClick={() => void revoke(l.id)}>Revoke</button>
                </li>
              ))}
            </ul>
          ) : null}
          <div className="share-row end"><button className="btn ghost" onClick={close}>Close</button></div>
        </div>
      ) : null}
    </div>
  );
}
