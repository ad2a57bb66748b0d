/**
 * The packets tab of the dock, Wireshark-like: a Watch switch, a filter box, the
 * animation's pause, speed and slow-motion replay, a .pcap download, the list
 * (virtualised: only the rows in view are in the DOM, so 5,000 rows scroll freely)
 * and the detail pane of the selected packet, header by header. Selecting a packet
 * highlights every place on the canvas where the same packet was seen.
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent, UIEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { layerDetail } from './fields';
import { parseFilter } from './filter';
import { replay, setWatching, FLOOD_HOLD_MS } from './feed';
import { natLinks, sightingsOf } from './match';
import type { NatLink } from './match';
import type { PacketRow } from './row';
import { useLab } from '../state/lab';
import { MAX_ROWS, usePackets } from './store';
import { Icon } from '../ui/Icons';
import { signedUrl } from '../server/credentials';
import { useOps } from '../editing/store';

/** Row height (px), mirrored in styles.css (.pkt-row). */
const ROW_HEIGHT = 22;
/** Rows drawn above and below the visible ones, so a fast scroll shows no gap. */
const OVERSCAN = 12;
/** Animation speeds offered. */
const SPEEDS = [0.25, 0.5, 1, 2] as const;
/** The replay: the last seconds, slowed down. */
const REPLAY_SECONDS = 5;
const REPLAY_SLOW = 4;

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** Seconds since the first packet, to the microsecond (Wireshark's "relative time"). */
function relTime(t: number, t0: number): string {
  return (t - t0).toFixed(6);
}

const Row = memo(function Row({ row, t0, selected, seen, top, link }: { row: PacketRow; t0: number; selected: boolean; seen: boolean; top: number; link: NatLink | undefined }) {
  const e = row.event;
  return (
    <div
      className={`pkt-row proto-${row.protocol}${selected ? ' selected' : ''}${seen ? ' seen' : ''}`}
      role="row"
      aria-selected={selected}
      data-seq={row.seq}
      style={{ transform: `translateY(${top}px)` }}
      title={e.summary}
    >
      <span role="cell" className="c-time">{relTime(e.time, t0)}</span>
      <span role="cell" className="c-node">{e.node}</span>
      <span role="cell" className="c-if">{e.interface}</span>
      <span role="cell" className={`c-dir dir-${e.direction ?? 'none'}`}>{e.direction ?? ''}</span>
      <span role="cell" className="c-src">{row.src}</span>
      <span role="cell" className="c-dst">{row.dst}</span>
      <span role="cell" className="c-proto"><span className="proto-chip">{row.protocol.toUpperCase()}</span></span>
      <span role="cell" className="c-info">{link ? <span className="nat-link">{link.text} · </span> : null}{row.info}</span>
      <span role="cell" className="c-summary">{e.summary}</span>
    </div>
  );
});

function Detail({ row, sightings, link, rows }: { row: PacketRow; sightings: PacketRow[]; link: NatLink | undefined; rows: readonly PacketRow[] }) {
  const e = row.event;
  return (
    <aside className="pkt-detail" aria-label="Packet detail">
      <header>
        <strong>{row.protocol.toUpperCase()}</strong> <span className="muted">{e.length} bytes{e.caplen < e.length ? ` (${e.caplen} captured)` : ''}</span>
        <button className="chip-x" aria-label="Close packet detail" onClick={() => usePackets.getState().select(undefined)}><Icon name="close" size={12} /></button>
      </header>
      <p className="mono small pkt-summary">{e.summary}</p>
      <section aria-label="Seen at">
        <h4>Seen at {sightings.length} place{sightings.length === 1 ? '' : 's'}</h4>
        <ol className="seen-list">
          {sightings.map((s) => (
            <li key={s.seq} className={s.seq === row.seq ? 'current' : ''}>
              <button className="link-btn mono" onClick={() => usePackets.getState().select(s.seq)}>{s.event.node}:{s.event.interface}</button>
              <span className="muted"> {s.event.direction ?? ''} +{((s.event.time - (sightings[0]?.event.time ?? s.event.time)) * 1000).toFixed(3)} ms</span>
            </li>
          ))}
        </ol>
      </section>
      {link ? (
        <section aria-label="Across NAT">
          <h4>{link.text}</h4>
          <ol className="seen-list">
            {link.partners.map((seq) => rows.find((r) => r.seq === seq)).filter((r): r is PacketRow => r !== undefined).map((p) => (
              <li key={p.seq}>
                <button className="link-btn mono" onClick={() => usePackets.getState().select(p.seq)}>{p.event.node}:{p.event.interface}</button>
                <span className="muted mono"> {p.src} → {p.dst}</span>
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      {e.layers.map((layer, i) => {
        const d = layerDetail(layer);
        return (
          <details key={i} open className="layer">
            <summary>{d.title}</summary>
            <dl>
              {d.fields.map(([name, value]) => (
                <div key={name}><dt>{name}</dt><dd className="mono">{value}</dd></div>
              ))}
            </dl>
          </details>
        );
      })}
    </aside>
  );
}

/**
 * Downloads `path` through a signed URL that lives a minute: the browser fetches a link without the
 * page's token (credentials.ts), so the server signs this one path for it.
 */
async function download(path: string): Promise<void> {
  try {
    const a = document.createElement('a');
    a.href = await signedUrl(path);
    a.download = '';
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) {
    useOps.getState().setProblems([{ field: 'lab', message: `The capture could not be downloaded: ${err instanceof Error ? err.message : String(err)}` }]);
  }
}

/** The .pcap download: one node's capture, or one interface of it. */
function PcapDownload({ defaultNode }: { defaultNode: string | undefined }) {
  const lab = useLab((s) => s.lab);
  const choices = useLab(useShallow((s) => Object.entries(s.topology?.nodes ?? {}).sort(([a], [b]) => byName(a, b))
    .flatMap(([node, ns]) => [node, ...Object.keys(ns.interfaces).filter((i) => i !== 'lo').sort(byName).map((i) => `${node}/${i}`)])));
  const watching = usePackets((s) => s.watching);
  const [picked, setPicked] = useState('');
  const value = choices.includes(picked) ? picked : defaultNode && choices.includes(defaultNode) ? defaultNode : choices[0] ?? '';
  const [node, iface] = value.split('/');
  const href = lab && node ? `/api/labs/${encodeURIComponent(lab)}/pcap?node=${encodeURIComponent(node)}${iface ? `&iface=${encodeURIComponent(iface)}` : ''}` : undefined;
  return (
    <div className="pcap" role="group" aria-label="Download capture">
      <select aria-label="Capture to download" value={value} onChange={(e) => setPicked(e.target.value)} title="A node's capture (every interface), or one interface of it">
        {choices.map((c) => <option key={c} value={c}>{c.includes('/') ? `\u2003${c.replace('/', ':')}` : `${c} (all)`}</option>)}
      </select>
      <a className={`btn icon-btn${watching && href ? '' : ' disabled'}`} aria-disabled={!watching || !href} href={watching ? href : undefined} onClick={watching && href ? (e) => { e.preventDefault(); void download(href); } : undefined} download title={watching ? `Download ${value.replace('/', ':')} as a .pcapng for Wireshark (each packet names its interface)` : 'Watch packets first: the capture is what the server keeps while watching'} aria-label="Download pcapng">
        <Icon name="download" size={14} />pcapng
      </a>
    </div>
  );
}

/** True until `ms` after `at` (a page-clock time): a timer ends it, so no render reads the clock. */
function useRecent(at: number | undefined, ms: number): boolean {
  // The `at` whose time is up.
  const [over, setOver] = useState<number | undefined>(undefined);
  useEffect(() => {
    if (at === undefined) return undefined;
    const timer = setTimeout(() => setOver(at), Math.max(0, at + ms - Date.now()));
    return () => clearTimeout(timer);
  }, [at, ms]);
  return at !== undefined && over !== at;
}

/** The packets panel. */
export function PacketList() {
  const watching = usePackets((s) => s.watching);
  const rows = usePackets((s) => s.rows);
  const total = usePackets((s) => s.total);
  const filterText = usePackets((s) => s.filter);
  const selectedSeq = usePackets((s) => s.selected);
  const frozen = usePackets((s) => s.frozen);
  const paused = usePackets((s) => s.paused);
  const speed = usePackets((s) => s.speed);
  const flood = usePackets((s) => s.flood);
  const captures = usePackets((s) => s.captures);
  const lab = useLab((s) => s.lab);
  const nodeCount = useLab((s) => Object.keys(s.topology?.nodes ?? {}).length);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  const filter = useMemo(() => parseFilter(filterText), [filterText]);
  const shown = useMemo(() => (filter.empty ? rows : rows.filter((r) => filter.match(r))), [rows, filter]);
  const selected = useMemo(() => rows.find((r) => r.seq === selectedSeq), [rows, selectedSeq]);
  const sightings = useMemo(() => sightingsOf(rows, selected), [rows, selected]);
  // The copies of a packet before and after NAT: the row says so, and selecting one highlights the others.
  const links = useMemo(() => natLinks(rows), [rows]);
  const seen = useMemo(() => new Set([...sightings.map((s) => s.seq), ...(selected ? links.get(selected.seq)?.partners ?? [] : [])]), [sightings, links, selected]);
  const t0 = rows[0]?.event.time ?? 0;

  // Virtual scrolling, following the tail while the user is at the bottom.
  const body = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 300 });
  const atBottom = useRef(true);
  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    atBottom.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT;
    setScroll({ top: el.scrollTop, height: el.clientHeight });
  };
  useEffect(() => {
    const el = body.current;
    if (!el) return;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const el = body.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [shown]);
  const first = Math.max(0, Math.floor(scroll.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((scroll.top + scroll.height) / ROW_HEIGHT) + OVERSCAN);
  const visible = shown.slice(first, last);

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const i = shown.findIndex((r) => r.seq === selectedSeq);
    const next = shown[Math.max(0, Math.min(shown.length - 1, i < 0 ? shown.length - 1 : i + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) {
      usePackets.getState().select(next.seq);
      const el = body.current;
      const idx = shown.indexOf(next);
      if (el && (idx * ROW_HEIGHT < el.scrollTop || (idx + 1) * ROW_HEIGHT > el.scrollTop + el.clientHeight)) el.scrollTop = idx * ROW_HEIGHT - el.clientHeight / 2;
    }
  };

  const toggleWatch = () => {
    if (!setWatching(!watching)) setProblem('Not connected to the server, or no lab is open.');
    else setProblem(undefined);
  };
  const flooding = useRecent(flood?.at, FLOOD_HOLD_MS * 2);
  const ended = Object.entries(captures).filter(([, c]) => c.state === 'ended' && c.message);
  const started = Object.values(captures).filter((c) => c.state === 'started').length;

  return (
    <div className="packets">
      <div className="pkt-toolbar" role="toolbar" aria-label="Packet controls">
        <button className={`btn switch${watching ? ' on' : ''}`} aria-pressed={watching} aria-label="Watch packets" onClick={toggleWatch} disabled={!lab} title="Capture every namespace of the lab (tcpdump inside each) and stream the packets here">
          <span className="switch-knob" aria-hidden="true" />Watch
        </button>
        {watching ? (
          <span className="pkt-capturing muted" role="status" aria-label="Captures" title="Namespaces whose capture (tcpdump) is listening: packets before that are not seen">
            capturing in {started}/{nodeCount}
          </span>
        ) : null}
        <div className="pkt-filter-box">
          <input className="pkt-filter" aria-label="Packet filter" placeholder="filter: icmp  arp|tcp  node:ns1  iface:eth0  10.0.0.2  port:80  !arp" value={filterText} onChange={(e) => usePackets.getState().setFilter(e.target.value)} spellCheck={false} aria-invalid={filter.problems.length > 0 || undefined} title={filter.problems.join('\n') || 'Words must all match; a|b matches either; ! negates'} />
          <span className="pkt-count muted" title={`${total.toLocaleString()} packets seen since watching started; the list keeps the last ${MAX_ROWS.toLocaleString()}`}>{filter.empty ? rows.length : `${shown.length}/${rows.length}`}</span>
        </div>
        <span className="sep" aria-hidden="true" />
        <button className="btn icon-btn" aria-label={paused ? 'Resume animation' : 'Pause animation'} aria-pressed={paused} title={paused ? 'Resume the packets on the canvas' : 'Pause the packets on the canvas'} onClick={() => usePackets.getState().setPaused(!paused)}><Icon name={paused ? 'play' : 'pause'} size={14} /></button>
        <select aria-label="Animation speed" value={speed} onChange={(e) => usePackets.getState().setSpeed(Number(e.target.value))} title="Speed of the packets on the canvas">
          {SPEEDS.map((s) => <option key={s} value={s}>{s}×</option>)}
        </select>
        <button className="btn" aria-label="Replay slowly" title={`Play the last ${REPLAY_SECONDS} seconds again on the canvas, ${REPLAY_SLOW} times slower`} onClick={() => replay(REPLAY_SECONDS, REPLAY_SLOW)} disabled={rows.length === 0}>Replay</button>
        <span className="sep" aria-hidden="true" />
        <button className={`btn icon-btn${frozen ? ' pressed' : ''}`} aria-label={frozen ? 'Follow new packets' : 'Freeze list'} aria-pressed={frozen} title={frozen ? 'Take new packets into the list again' : 'Freeze the list (packets still animate on the canvas)'} onClick={() => usePackets.getState().setFrozen(!frozen)}><Icon name="freeze" size={14} /></button>
        <button className="btn icon-btn" aria-label="Clear packets" title="Clear the list" onClick={() => usePackets.getState().clear()} disabled={rows.length === 0}><Icon name="trash" size={14} /></button>
        <PcapDownload defaultNode={selected?.event.node} />
      </div>
      {problem ? <div className="term-problem" role="alert"><Icon name="alert" size={14} /><span>{problem}</span></div> : null}
      {filter.problems.length > 0 ? <div className="pkt-note err" role="alert">{filter.problems[0]}</div> : null}
      {watching && flooding && flood ? (
        <div className="pkt-note flood" role="status" aria-label="Flood">
          <strong>flood: {Math.round(flood.rate).toLocaleString()} packets/s aggregated</strong>
          <span className="muted"> — above {flood.limit.toLocaleString()}/s the server counts packets instead of sending each; the canvas shows packets per second on each link.</span>
        </div>
      ) : null}
      {ended.length > 0 ? <div className="pkt-note err">{ended.map(([n, c]) => `${n}: ${c.message}`).join(' · ')}</div> : null}
      <div className={`pkt-main${selected ? ' with-detail' : ''}`}>
        <div className="pkt-table" role="table" aria-label="Packets" aria-rowcount={shown.length}>
          <div className="pkt-row pkt-head" role="row">
            <span role="columnheader" className="c-time">Time</span>
            <span role="columnheader" className="c-node">Node</span>
            <span role="columnheader" className="c-if">Interface</span>
            <span role="columnheader" className="c-dir">Dir</span>
            <span role="columnheader" className="c-src">Source</span>
            <span role="columnheader" className="c-dst">Destination</span>
            <span role="columnheader" className="c-proto">Protocol</span>
            <span role="columnheader" className="c-info">Info</span>
            <span role="columnheader" className="c-summary">Summary</span>
          </div>
          <div className="pkt-body" ref={body} onScroll={onScroll} tabIndex={0} onKeyDown={onKey} role="rowgroup"
            onClick={(e) => {
              const seq = (e.target as Element).closest('[data-seq]')?.getAttribute('data-seq');
              if (seq) usePackets.getState().select(Number(seq));
            }}>
            <div className="pkt-spacer" style={{ height: shown.length * ROW_HEIGHT }}>
              {visible.map((r, i) => <Row key={r.seq} row={r} t0={t0} top={(first + i) * ROW_HEIGHT} selected={r.seq === selectedSeq} seen={seen.has(r.seq)} link={links.get(r.seq)} />)}
            </div>
            {rows.length === 0 ? (
              <div className="pkt-empty muted">
                {watching ? 'Watching: packets appear here as they cross any interface of the lab. Try a ping in a terminal.' : <>Turn on <strong>Watch packets</strong> to capture every namespace of the lab. At most {MAX_ROWS.toLocaleString()} packets are kept.</>}
              </div>
            ) : null}
          </div>
        </div>
        {selected ? <Detail row={selected} sightings={sightings} link={links.get(selected.seq)} rows={rows} /> : null}
      </div>
    </div>
  );
}
