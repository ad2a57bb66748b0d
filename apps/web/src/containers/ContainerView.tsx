/**
 * The container view: the lab as Docker describes it. Sandboxes (containers) on
 * top with their endpoints, networks below, a wire from each endpoint to its
 * network; hosts and other namespaces after. The selection is the kernel view's:
 * clicking an endpoint selects its interface, which the kernel view shows as the
 * veth pair and the bridge port that implement it.
 */
import { memo, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ContainerModel, EndpointView, NetworkView, SandboxView } from './container-view';
import { containerModel, endpointSelected, networkSelected, sandboxSelected, selectEndpoint, selectNetwork, selectSandbox } from './container-view';
import type { Selection } from '../state/selection';
import { useLab } from '../state/lab';
import { useView } from '../state/view';
import { Icon } from '../ui/Icons';

/** Network colours cycle through this many hues (styles: --net-0 .. --net-5). */
const HUES = 6;

interface Wire { id: string; d: string; hue: number; selected: boolean }

const EMPTY: ContainerModel = { source: 'kernel', sandboxes: [], networks: [], hosts: [], others: [] };

function Endpoint({ ep, hue, selected }: { ep: EndpointView; hue: number; selected: boolean }) {
  const implemented = ep.peer ? `${ep.peer.node}:${ep.peer.interface}${ep.bridge ? ` in bridge ${ep.bridge.name}` : ''}` : '';
  return (
    <button
      className={`cv-endpoint net-${hue}${selected ? ' selected' : ''}`}
      data-endpoint={ep.id}
      data-network={ep.network}
      aria-label={`Endpoint ${ep.sandbox} ${ep.interface}`}
      aria-pressed={selected}
      title={`${ep.node}:${ep.interface}${ep.address ? ` ${ep.address}` : ''}\nveth pair to ${implemented}`}
      onClick={(e) => { e.stopPropagation(); useView.getState().select(selectEndpoint(ep)); }}
    >
      <span className="net-dot" aria-hidden="true" />
      <span className="mono">{ep.interface}</span>
      <span className="mono muted">{ep.address ?? 'no address'}</span>
    </button>
  );
}

const Sandbox = memo(function Sandbox({ s, hues, selection }: { s: SandboxView; hues: Map<string, number>; selection: Selection }) {
  const selected = sandboxSelected(s, selection);
  return (
    <article className={`cv-card cv-sandbox kind-${s.kind}${selected ? ' selected' : ''}`} aria-label={`${s.kind === 'container' ? 'Container' : s.kind === 'host' ? 'Host' : 'Namespace'} ${s.name}`}>
      <button className="cv-card-head" onClick={() => useView.getState().select(selectSandbox(s))} aria-label={`Select ${s.name}`}>
        <Icon name={s.kind === 'host' ? 'host' : 'namespace'} size={15} />
        <strong className="mono">{s.name}</strong>
        {s.mode ? <span className={`badge mode-${s.mode}`}>{s.mode}</span> : null}
        <span className="muted small cv-ns">{s.kind === 'container' && s.mode === 'host' ? `in ${s.node}` : s.kind === 'container' ? `netns ${s.node}` : s.bridges.length ? `bridges ${s.bridges.join(', ')}` : ''}</span>
      </button>
      {s.note ? <p className="cv-note muted small">{s.note}</p> : null}
      {s.joined?.length ? <p className="cv-note small" data-joined={s.joined.join(' ')}>shared with <code>{s.joined.join(', ')}</code> (container mode): one namespace, the same interfaces</p> : null}
      {s.endpoints.length > 0 ? (
        <div className="cv-endpoints">
          {s.endpoints.map((ep) => <Endpoint key={ep.id} ep={ep} hue={hues.get(ep.network) ?? 0} selected={endpointSelected(ep, selection)} />)}
        </div>
      ) : !s.note ? <p className="cv-note muted small">no endpoints</p> : null}
      {s.publish.length > 0 ? <p className="cv-note small">publishes <code>{s.publish.join(', ')}</code></p> : null}
    </article>
  );
});

const Network = memo(function Network({ n, hue, selected }: { n: NetworkView; hue: number; selected: boolean }) {
  return (
    <button className={`cv-card cv-network net-${hue}${selected ? ' selected' : ''}`} data-network={n.id} aria-label={`Network ${n.name}`} aria-pressed={selected} onClick={() => useView.getState().select(selectNetwork(n))}>
      <span className="cv-network-bar" aria-hidden="true" />
      <span className="cv-card-head static">
        <Icon name={n.kind === 'direct' ? 'script' : 'bridge'} size={15} />
        <strong className="mono">{n.name}</strong>
        <span className="badge off">{n.driver}</span>
        {n.internal ? <span className="badge nat" title="No route out: containers on it reach only each other">internal</span> : null}
      </span>
      <span className="cv-net-facts small">
        {n.subnet ? <span>subnet <code>{n.subnet}</code></span> : null}
        {n.gateway ? <span>gateway <code>{n.gateway}</code></span> : null}
        {n.vni !== undefined ? <span>VXLAN <code>{n.vni}</code></span> : null}
        {n.bridges.map((b) => <span key={`${b.node}/${b.name}`}>bridge <code>{b.name}</code> in <code>{b.node}</code></span>)}
        {n.vxlans.map((v) => (
          <span key={`vx ${v.node}/${v.name}`} data-vxlan={`${v.node}/${v.name}`}>
            VXLAN <code>{v.name}</code> in <code>{v.node}</code>{v.remote ? <> to <code>{v.remote}</code></> : v.group ? <> group <code>{v.group}</code></> : null}
          </span>
        ))}
        {n.kind === 'direct' ? <span className="muted">a veth pair, no bridge</span> : null}
      </span>
    </button>
  );
});

/** The wires from endpoints to networks, measured from the DOM after layout. */
function useWires(root: React.RefObject<HTMLDivElement | null>, model: ContainerModel, hues: Map<string, number>, selection: Selection): Wire[] {
  const [wires, setWires] = useState<Wire[]>([]);
  useLayoutEffect(() => {
    const el = root.current;
    if (!el) return;
    const measure = () => {
      const base = el.getBoundingClientRect();
      const out: Wire[] = [];
      const all = [...model.sandboxes, ...model.hosts, ...model.others];
      for (const s of all) {
        for (const ep of s.endpoints) {
          const a = el.querySelector(`[data-endpoint="${CSS.escape(ep.id)}"]`)?.getBoundingClientRect();
          const b = el.querySelector(`.cv-network[data-network="${CSS.escape(ep.network)}"]`)?.getBoundingClientRect();
          if (!a || !b) continue;
          const x1 = a.left + a.width / 2 - base.left + el.scrollLeft;
          const below = b.top >= a.bottom;
          const y1 = (below ? a.bottom : a.top) - base.top + el.scrollTop;
          const x2 = Math.min(Math.max(x1, b.left + 16), b.right - 16) - base.left + el.scrollLeft;
          const y2 = (below ? b.top : b.bottom) - base.top + el.scrollTop;
          const dy = (y2 - y1) / 2;
          out.push({ id: ep.id, d: `M${x1},${y1} C${x1},${y1 + dy} ${x2},${y2 - dy} ${x2},${y2}`, hue: hues.get(ep.network) ?? 0, selected: endpointSelected(ep, selection) });
        }
      }
      setWires(out);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    for (const child of Array.from(el.children)) observer.observe(child);
    return () => observer.disconnect();
  }, [root, model, hues, selection]);
  return wires;
}

/** The container view of the open lab. */
export function ContainerView() {
  const topology = useLab((s) => s.topology);
  const layer = useLab((s) => s.meta.containers);
  const selection = useView((s) => s.selection);
  const model = useMemo(() => (topology ? containerModel(topology, layer) : undefined), [topology, layer]);
  const hues = useMemo(() => new Map((model?.networks ?? []).map((n, i) => [n.id, i % HUES])), [model]);
  const root = useRef<HTMLDivElement>(null);
  const wires = useWires(root, model ?? EMPTY, hues, selection);
  if (!model) return <div className="container-view"><p className="muted pad">Loading the lab…</p></div>;
  const sandboxTitle = model.source === 'docker' ? 'Containers (sandboxes)' : 'Sandboxes (namespaces without a bridge)';
  return (
    <div className="container-view" role="region" aria-label="Container view" onClick={(e) => { if (e.target === e.currentTarget) useView.getState().select(undefined); }}>
      <div className="cv-intro">
        <strong>Docker's model</strong>
        <span className="muted">{model.source === 'docker'
          ? 'from the lab file: each container is a sandbox (a network namespace), each endpoint a veth pair into a network, each network a bridge.'
          : 'derived from the kernel: a namespace without a bridge is a sandbox, each veth end an endpoint, each bridge a network.'} Click an endpoint to see the veth pair and bridge port behind it in the kernel view.</span>
      </div>
      <div className="cv-lanes" ref={root}>
        <svg className="cv-wires" aria-hidden="true">
          {wires.map((w) => <path key={w.id} d={w.d} className={`cv-wire net-${w.hue}${w.selected ? ' selected' : ''}`} />)}
        </svg>
        <section className="cv-row" aria-label={sandboxTitle}>
          <h3>{sandboxTitle}</h3>
          <div className="cv-cards">
            {model.sandboxes.length === 0 ? <p className="muted small">none</p> : model.sandboxes.map((s) => <Sandbox key={s.name} s={s} hues={hues} selection={selection} />)}
          </div>
        </section>
        <section className="cv-row" aria-label="Networks">
          <h3>Networks</h3>
          <div className="cv-cards">
            {model.networks.length === 0 ? <p className="muted small">none</p> : model.networks.map((n) => <Network key={n.id} n={n} hue={hues.get(n.id) ?? 0} selected={networkSelected(n, selection)} />)}
          </div>
        </section>
        {model.hosts.length + model.others.length > 0 ? (
          <section className="cv-row" aria-label="Hosts and other namespaces">
            <h3>{model.others.length > 0 ? 'Hosts and other namespaces' : 'Hosts'}</h3>
            <div className="cv-cards">
              {[...model.hosts, ...model.others].map((s) => <Sandbox key={s.name} s={s} hues={hues} selection={selection} />)}
            </div>
          </section>
        ) : null}
      </div>
    </div>
  );
}
