/**
 * The ping trace tab of the dock: pick the node that pings and the address it
 * pings; the server sends one echo and follows it through every namespace. The hop
 * list shows each sighting (node:interface, direction, time from the first, the
 * echo's addresses with NAT rewrites marked); the canvas shows the path. A failed
 * ping says where it was last seen and why.
 */
import { useMemo } from 'react';
import type { FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { traceView, formatMs } from './trace-view';
import type { TraceRow } from './trace-view';
import { runTrace } from './trace';
import { useLab } from '../state/lab';
import { useTrace } from './store';
import { Icon } from '../ui/Icons';
import { ConntrackEntries, HopRules } from './HopRules';

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The address with its NAT rewrite shown: "10.0.0.1 → 203.0.113.2" marked. */
function Addr({ value, rewrite }: { value: string; rewrite: [string, string] | undefined }) {
  if (!rewrite) return <span>{value}</span>;
  return <span className="nat-rewrite" title={`NAT rewrote ${rewrite[0]} to ${rewrite[1]} before this hop`}><s>{rewrite[0]}</s> → <strong>{rewrite[1]}</strong></span>;
}

function HopRow({ row, selected }: { row: TraceRow; selected: boolean }) {
  const port = (p: number | undefined, rw: [number, number] | undefined) => (p === undefined ? null : <>:{rw ? <span className="nat-rewrite"><s>{rw[0]}</s> → <strong>{rw[1]}</strong></span> : p}</>);
  return (
    <>
    <li className={`hop is-${row.type}${row.lastSeen ? ' last-seen' : ''}${row.rewritten ? ' rewritten' : ''}${row.dropped ? ' dropped' : ''}${selected ? ' selected' : ''}`} data-hop={row.index}
      onClick={() => useTrace.getState().selectHop(selected ? undefined : row.index)} title="Show the rules this hop met">
      <span className="hop-n">{row.index}</span>
      <span className="hop-at mono">{row.at}</span>
      <span className={`hop-dir dir-${row.direction ?? 'none'}`}>{row.direction ?? '?'}</span>
      <span className="hop-time mono">+{formatMs(row.offsetMs)}</span>
      <span className="hop-type">{row.what ?? row.type}</span>
      <span className="hop-addr mono"><Addr value={row.src} rewrite={row.rewritten?.src} />{port(row.sport, row.rewritten?.sport)} → <Addr value={row.dst} rewrite={row.rewritten?.dst} />{port(row.dport, row.rewritten?.dport)}</span>
      {row.nat ? <span className="badge">{row.nat}</span> : null}
      {row.dropped ? <span className="badge err">dropped</span> : null}
      {row.encapsulation ? <span className="hop-encap">{row.encapsulation}</span> : null}
      {row.lastSeen ? <span className="badge err">last seen</span> : null}
    </li>
    {selected ? <li className="hop-detail"><HopRules at={row.at} rules={row.rules} /></li> : null}
    </>
  );
}

/** The ping trace panel. */
export function TracePanel() {
  const nodes = useLab(useShallow((s) => Object.keys(s.topology?.nodes ?? {}).sort(byName)));
  const links = useLab((s) => s.topology?.links);
  const addresses = useLab(useShallow((s) => {
    const out: string[] = [];
    for (const [name, ns] of Object.entries(s.topology?.nodes ?? {})) {
      for (const [ifname, iface] of Object.entries(ns.interfaces)) {
        if (iface.kind === 'loopback') continue;
        for (const a of iface.addresses) out.push(`${a.slice(0, a.indexOf('/'))}\t${name}:${ifname}`);
      }
    }
    return out.sort(byName);
  }));
  const source = useTrace((s) => s.source);
  const destination = useTrace((s) => s.destination);
  const running = useTrace((s) => s.running);
  const result = useTrace((s) => s.result);
  const error = useTrace((s) => s.error);
  const shown = useTrace((s) => s.shown);
  const proto = useTrace((s) => s.proto);
  const port = useTrace((s) => s.port);
  const selectedHop = useTrace((s) => s.selectedHop);
  const view = useMemo(() => (result ? traceView(result, links ?? []) : undefined), [result, links]);

  const from = nodes.includes(source) ? source : nodes.find((n) => n !== 'host') ?? nodes[0] ?? '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (from && destination.trim()) runTrace(from, destination.trim(), proto === 'icmp' ? { proto } : { proto, port: Number(port) });
  };

  return (
    <div className="trace">
      <form className="trace-form" onSubmit={submit} aria-label="Ping trace">
        <label>From
          <select aria-label="Trace source" value={from} onChange={(e) => useTrace.getState().setSource(e.target.value)}>
            {nodes.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <label>send
          <select aria-label="Trace protocol" value={proto} onChange={(e) => useTrace.getState().setFlow(e.target.value as 'icmp' | 'tcp' | 'udp', port)}>
            <option value="icmp">ping</option>
            <option value="tcp">TCP</option>
            <option value="udp">UDP</option>
          </select>
        </label>
        <label>to
          <input aria-label="Trace destination" list="trace-addresses" placeholder="address, e.g. 192.168.1.3" value={destination} onChange={(e) => useTrace.getState().setDestination(e.target.value)} spellCheck={false} />
        </label>
        {proto !== 'icmp' ? (
          <label>port
            <input aria-label="Trace port" className="port" inputMode="numeric" placeholder="80" value={port} onChange={(e) => useTrace.getState().setFlow(proto, e.target.value)} />
          </label>
        ) : null}
        <datalist id="trace-addresses">
          {addresses.map((a) => { const [ip, where] = a.split('\t'); return <option key={a} value={ip}>{where}</option>; })}
        </datalist>
        <button type="submit" className="btn primary" disabled={!from || !destination.trim() || running !== undefined || (proto !== 'icmp' && !/^\d{1,5}$/.test(port))}>
          {running ? <span className="spinner" /> : <Icon name="play" size={14} />}Trace
        </button>
        {view ? (
          <label className="check inline">
            <input type="checkbox" checked={shown} onChange={(e) => useTrace.getState().setShown(e.target.checked)} aria-label="Show path on canvas" />
            <span>show on canvas</span>
          </label>
        ) : null}
      </form>
      <div className="trace-body">
        {error ? <div className="term-problem" role="alert"><Icon name="alert" size={14} /><span>{error}</span></div> : null}
        {running ? <p className="muted pad">Pinging once from <code>{source}</code> and capturing every namespace…</p> : null}
        {!running && !view && !error ? (
          <p className="muted pad">One ping, followed hop by hop: every interface the echo request and its reply cross, with any address NAT rewrites on the way. Pick a node and an address, then <strong>Trace</strong>.</p>
        ) : null}
        {view ? (
          <>
            <div className={`trace-verdict ${view.ok ? 'ok' : 'fail'}`} role="status" aria-label="Trace verdict">
              <Icon name={view.ok ? 'check' : 'alert'} size={16} />
              <div>
                <p>{view.verdict}</p>
                {view.cause ? <p className="trace-cause">{view.cause}</p> : null}
                {view.warning ? <p className="muted small">{view.warning}</p> : null}
              </div>
            </div>
            <ol className="hop-list" aria-label="Hops">
              {view.rows.map((r) => <HopRow key={r.index} row={r} selected={selectedHop === r.index} />)}
            </ol>
            <ConntrackEntries entries={result?.conntrack ?? []} />
            {result?.ping.stdout ? (
              <details className="trace-ping">
                <summary>ping output</summary>
                <pre className="mono">{result.ping.stdout}{result.ping.stderr}</pre>
              </details>
            ) : null}
          </>
        ) : null}
      </div>
    </div>
  );
}
