/**
 * The netfilter rules one hop of a trace met, as the kernel's own trace reported
 * them (table, chain, the rule as the user would write it, the verdict), shown when
 * a hop is clicked; and the conntrack entries that link a flow's NAT rewrites.
 */
import type { ConntrackEntry, RuleVerdict } from '@nslab/model';
import { hopEndpoints } from '@nslab/model';

/** The rules of the selected hop. */
export function HopRules({ at, rules }: { at: string; rules: readonly RuleVerdict[] }) {
  const shown = rules.filter((r) => !(r.rule === 'policy' && r.verdict === 'continue'));
  return (
    <div className="hop-rules" aria-label={`Rules at ${at}`}>
      {shown.length === 0 ? <p className="muted small">No netfilter rule decided anything here (nothing matched, or the kernel's trace saw no chain at this hop).</p> : null}
      <ul>
        {shown.map((r) => (
          <li key={r.index} className={`rule verdict-${r.verdict.split(' ')[0]}`}>
            <span className="muted">{r.table} {r.chain}</span> <code className="mono">{r.rule === 'policy' ? `policy ${r.verdict}` : r.rule}</code> <strong>{r.verdict}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The conntrack entries of a traced flow: original direction and the reply NAT expects. */
export function ConntrackEntries({ entries }: { entries: readonly ConntrackEntry[] }) {
  if (entries.length === 0) return null;
  return (
    <details className="trace-conntrack" open>
      <summary>conntrack</summary>
      <ul aria-label="Conntrack entries">
        {entries.map((e, i) => (
          <li key={i} className="mono small">{e.node}: {e.proto}{e.state ? ` ${e.state}` : ''} {hopEndpoints(e.original)}, reply {hopEndpoints(e.reply)}{e.flags.length > 0 ? ` [${e.flags.join(', ')}]` : ''}</li>
        ))}
      </ul>
    </details>
  );
}
