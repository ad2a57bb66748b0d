/**
 * The live conntrack table of the namespace in the inspector: what NAT is remembering.
 * While it is shown the page follows the table (`conntrack-watch`), and again after a
 * reconnect; the server sends the table on every change. Between messages the
 * seconds left count down here, from the moment the server read the table.
 */
import { useEffect, useMemo, useState } from 'react';
import type { ConntrackServerMessage } from '@nslab/model';
import { client } from '../server/client';
import { listen } from '../server/dispatch';
import { conntrackRows } from './table';

/** How often the seconds left are redrawn (ms): the unit they are shown in. */
const TICK_MS = 1000;

/** The conntrack table of `node` in `lab`, live. */
export function ConntrackSection({ lab, node }: { lab: string; node: string }) {
  // The table last received, with the node it belongs to: another node's is not shown while this one's is asked.
  const [got, setGot] = useState<{ lab: string; node: string; table: ConntrackServerMessage } | undefined>(undefined);
  const table = got !== undefined && got.lab === lab && got.node === node ? got.table : undefined;
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const stop = listen((m) => {
      if (m.type === 'conntrack' && m.lab === lab && m.node === node) setGot({ lab, node, table: m });
      // A new socket knows nothing of this page's follows: ask again.
      else if (m.type === 'hello') client.send({ type: 'conntrack-watch', lab, node });
    });
    client.send({ type: 'conntrack-watch', lab, node });
    return () => {
      stop();
      client.send({ type: 'conntrack-unwatch', lab, node });
    };
  }, [lab, node]);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(timer);
  }, []);

  const rows = useMemo(() => (table ? conntrackRows(table.entries, table.at, now) : []), [table, now]);

  return (
    <section className="section" aria-label="Connection tracking">
      <h3>Connection tracking <span className="count">{table?.total ?? 0}</span></h3>
      <p className="muted small">What this namespace&apos;s netfilter remembers (<code>conntrack -L</code>): the reply a NAT rewrite expects, live.</p>
      {table === undefined ? <p className="muted small">Reading…</p> : null}
      {table?.error ? <p className="muted small" role="status">{table.error}</p> : null}
      {table !== undefined && !table.error && rows.length === 0 ? <p className="muted small">No connections tracked. Entries appear once a rule here needs conntrack (NAT, <code>--ctstate</code>) and traffic crosses it.</p> : null}
      {rows.length > 0 ? (
        <table className="conntrack-table" aria-label={`Conntrack entries of ${node}`}>
          <thead><tr><th>proto</th><th>original</th><th>reply expected</th><th>NAT</th><th title="seconds until the kernel forgets it">left</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} className={r.natText ? 'is-nat' : undefined}>
                <td><code>{r.proto}</code>{r.state ? <span className="muted small"> {r.state}</span> : null}</td>
                <td><code>{r.original}</code></td>
                <td><code>{r.reply}</code>{r.flags.length > 0 ? <span className="muted small"> [{r.flags.join(', ')}]</span> : null}</td>
                <td>{r.natText || <span className="muted">none</span>}</td>
                <td>{r.left}s</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {table !== undefined && table.total > rows.length ? <p className="muted small">Showing {rows.length} of {table.total} entries.</p> : null}
    </section>
  );
}
