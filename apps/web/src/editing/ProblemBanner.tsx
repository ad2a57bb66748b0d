/**
 * Problems that belong to no field on screen: the lab as a whole, a file that could
 * not be read, a node not shown in the inspector. Dismissable.
 */
import { useShallow } from 'zustand/react/shallow';
import { useOps } from './store';
import { useView } from '../state/view';
import { Icon } from '../ui/Icons';

/** The problem banner over the canvas. */
export function ProblemBanner() {
  const selected = useView((s) => (s.selection?.kind === 'node' ? s.selection.node : undefined));
  const problems = useOps(useShallow((s) => s.problems.filter((p) => p.field === 'lab' || (p.node !== undefined && p.node !== selected))));
  if (problems.length === 0) return null;
  return (
    <div className="problem-banner" role="alert" aria-label="Problems">
      <Icon name="alert" />
      <ul>
        {problems.slice(0, 6).map((p, i) => (
          <li key={i}>{p.node && p.field !== 'lab' ? <button className="link-btn" onClick={() => useView.getState().select({ kind: 'node', node: p.node! })}>{p.node}</button> : null}{p.node && p.field !== 'lab' ? ': ' : ''}{p.message}</li>
        ))}
        {problems.length > 6 ? <li className="muted">and {problems.length - 6} more</li> : null}
      </ul>
      <button className="btn ghost icon-btn" aria-label="Dismiss problems" onClick={() => useOps.getState().setProblems([])}><Icon name="close" size={14} /></button>
    </div>
  );
}
