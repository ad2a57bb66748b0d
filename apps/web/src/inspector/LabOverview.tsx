/**
 * The inspector when nothing is selected: the lab itself. Counts, tips, a fresh
 * layout, and destroy (its description and commands to try are in the lab guide above).
 */
import { useShallow } from 'zustand/react/shallow';
import { useLab } from '../state/lab';
import { useView } from '../state/view';
import { proposeDestroy } from '../editing/submit';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The lab overview. */
export function LabOverview() {
  const lab = useLab((s) => s.lab);
  const counts = useLab(useShallow((s) => {
    const t = s.topology;
    if (!t) return undefined;
    const nodes = Object.values(t.nodes);
    return {
      nodes: nodes.length,
      links: t.links.length,
      bridges: nodes.reduce((n, ns) => n + Object.values(ns.interfaces).filter((i) => i.kind === 'bridge').length, 0),
      rules: nodes.reduce((n, ns) => n + ns.nat.length, 0),
    };
  }));

  if (!lab) return <div className="inspector-body"><p className="muted">No lab is open. Pick one at the top, or name a new one.</p></div>;

  const relayout = () => {
    const names = Object.keys(useLab.getState().topology?.nodes ?? {});
    useView.getState().clearPositions(names);
  };

  return (
    <div className="inspector-body">
      <div className="inspector-head">
        <div>
          <h2>{lab}</h2>
          <p className="muted small">{counts ? [plural(counts.nodes, 'namespace'), plural(counts.links, 'link'), plural(counts.bridges, 'bridge'), plural(counts.rules, 'firewall rule')].join(' · ') : 'loading…'}</p>
        </div>
      </div>
      <section className="section">
        <h3>Tips</h3>
        <ul className="tips">
          <li>Click a namespace or a link to edit it here.</li>
          <li>Drag a namespace's <span className="knob">+</span> onto another namespace or a bridge to connect them.</li>
          <li>Every change shows its <code>ip</code> commands before it runs; the log below shows what ran.</li>
        </ul>
      </section>
      {counts && counts.nodes > 0 ? (
        <section className="section row">
          <button className="btn" aria-label="Lay out again" onClick={relayout}>Lay out again</button>
          <button className="btn danger" aria-label="Destroy lab" onClick={() => proposeDestroy()}>Destroy lab</button>
        </section>
      ) : null}
    </div>
  );
}
