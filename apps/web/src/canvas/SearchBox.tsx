/**
 * Find a node: by name, or by an address it holds. Enter (or a click) selects the
 * node and brings it to the middle of the view.
 */
import { useMemo, useState } from 'react';
import { useReactFlow } from '@xyflow/react';
import { NODE_WIDTH } from './geometry';
import { useLab } from '../state/lab';
import { useView } from '../state/view';

/** Matches of `query` in the lab: node names first, then nodes holding a matching address. */
function search(nodes: Record<string, { interfaces: Record<string, { addresses: string[] }> }>, query: string): { node: string; why: string }[] {
  const q = query.trim().toLowerCase();
  if (!q) return Object.keys(nodes).sort().slice(0, 8).map((node) => ({ node, why: '' }));
  const out: { node: string; why: string }[] = [];
  for (const name of Object.keys(nodes).sort()) if (name.includes(q)) out.push({ node: name, why: '' });
  for (const [name, ns] of Object.entries(nodes)) {
    for (const [ifname, iface] of Object.entries(ns.interfaces)) {
      const hit = iface.addresses.find((a) => a.startsWith(q));
      if (hit && !out.some((o) => o.node === name)) out.push({ node: name, why: `${ifname} ${hit}` });
    }
  }
  return out.slice(0, 8);
}

/** The search box (shown while the search panel is open). */
export function SearchBox() {
  const open = useView((s) => s.panels.search);
  const nodes = useLab((s) => s.topology?.nodes);
  const rf = useReactFlow();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const results = useMemo(() => (nodes ? search(nodes, query) : []), [nodes, query]);
  if (!open) return null;

  const close = () => {
    useView.getState().setPanel('search', false);
    setQuery('');
    setActive(0);
  };
  const go = (node: string) => {
    const p = useView.getState().positions[node];
    useView.getState().select({ kind: 'node', node });
    if (p) void rf.setCenter(p.x + NODE_WIDTH / 2, p.y + 60, { zoom: Math.max(rf.getZoom(), 1), duration: 250 });
    close();
  };

  return (
    <div className="search" role="search">
      <input
        autoFocus
        aria-label="Node name or address"
        placeholder="namespace name or address…"
        value={query}
        spellCheck={false}
        onChange={(e) => { setQuery(e.target.value); setActive(0); }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') close();
          else if (e.key === 'ArrowDown') { e.preventDefault(); setActive((a) => Math.min(a + 1, results.length - 1)); }
          else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((a) => Math.max(a - 1, 0)); }
          else if (e.key === 'Enter' && results[active]) go(results[active].node);
        }}
        onBlur={() => setTimeout(close, 150)}
      />
      <ul className="search-results" role="listbox" aria-label="Matching nodes">
        {results.map((r, i) => (
          <li key={r.node} role="option" aria-selected={i === active} className={i === active ? 'active' : ''} onMouseDown={(e) => { e.preventDefault(); go(r.node); }}>
            <strong>{r.node}</strong>{r.why ? <span className="muted"> {r.why}</span> : null}
          </li>
        ))}
        {results.length === 0 ? <li className="muted">no match</li> : null}
      </ul>
    </div>
  );
}
