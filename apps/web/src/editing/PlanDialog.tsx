/**
 * The plan of an edit, shown before anything runs: each command exactly as it will
 * run, with what it does in words. "Run N commands" sends it; "Cancel" drops it.
 */
import { formatArgv } from '@nslab/model';
import { useOps } from './store';
import { cancelPlan, runPlan } from './submit';
import { Icon } from '../ui/Icons';

/** The plan dialog (shown while a plan waits). */
export function PlanDialog() {
  const plan = useOps((s) => s.plan);
  if (!plan) return null;
  const commands = plan.request.body.kind === 'lesson-solve' ? plan.request.body.commands : [];
  const n = plan.ops.length + commands.length;
  return (
    <div className="plan-dialog" role="dialog" aria-label="Plan" aria-describedby="plan-summary" onKeyDown={(e) => { if (e.key === 'Escape') cancelPlan(); }}>
      <header className="plan-head">
        <div>
          <h2>Plan: {plan.request.label}</h2>
          <p id="plan-summary" className="muted small">{n} command{n === 1 ? '' : 's'} in lab {plan.request.lab}. Nothing has run yet.</p>
        </div>
      </header>
      <ol className="plan-list">
        {plan.ops.map((op, i) => (
          <li key={i}>
            <code className="cmd-line">{formatArgv(op.argv)}</code>
            <span className="cmd-why">{op.description}</span>
          </li>
        ))}
        {commands.map((c, i) => (
          <li key={`run-${i}`}>
            <code className="cmd-line">{c.command}</code>
            <span className="cmd-why">runs in {c.node}, after the commands above</span>
          </li>
        ))}
      </ol>
      <footer className="plan-foot">
        <button className="btn" onClick={cancelPlan}>Cancel</button>
        <button className="btn primary" autoFocus onClick={runPlan}><Icon name="play" size={14} />Run {n} command{n === 1 ? '' : 's'}</button>
      </footer>
    </div>
  );
}
