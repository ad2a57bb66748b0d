/**
 * The inspector of a namespace: a terminal and a ping trace from it, its name,
 * forwarding, interfaces, routes (in `ip route` syntax), firewall rules, a way to
 * connect it without dragging, and delete.
 */
import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { changedPolicies, describePolicy, formatRoute, netnsName } from '@nslab/model';
import { connect } from '../editing/actions';
import { roleOf } from '../canvas/derive';
import { freshBridgeName } from '../editing/naming';
import { routeHint } from '../editing/allocator';
import { fieldKey } from '../editing/problems';
import { useLab } from '../state/lab';
import { useView } from '../state/view';
import { proposeEdits } from '../editing/submit';
import { FieldProblem, useFieldInvalid } from './FieldProblem';
import { Icon } from '../ui/Icons';
import { InterfaceEditor } from './InterfaceEditor';
import { FirewallEditor } from './FirewallEditor';
import { NodeActions } from '../canvas/NodeActions';
import { ConntrackSection } from '../conntrack/ConntrackSection';
import { KernelKnobs } from './KernelKnobs';

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The inspector of namespace `node`, with `focus` the interface clicked on the canvas. */
export function NamespaceInspector({ node, focus }: { node: string; focus?: string }) {
  const lab = useLab((s) => s.lab);
  const ns = useLab((s) => s.topology?.nodes[node]);
  const links = useLab((s) => s.topology?.links);
  const routePlaceholder = useLab((s) => (s.topology ? routeHint(s.topology, node) : 'default via 10.0.1.1'));
  const nodeNames = useLab((s) => s.topology?.nodes);
  const [rename, setRename] = useState<string | undefined>(undefined);
  const [route, setRoute] = useState('');
  const [target, setTarget] = useState('');
  const routeInvalid = useFieldInvalid(fieldKey.routes(node));

  const targets = useMemo(() => {
    const out: { value: string; label: string }[] = [];
    for (const [name, other] of Object.entries(nodeNames ?? {}).sort(([a], [b]) => byName(a, b))) {
      if (name !== node) out.push({ value: name, label: name });
      for (const [ifname, iface] of Object.entries(other.interfaces).sort(([a], [b]) => byName(a, b))) {
        if (iface.kind === 'bridge') out.push({ value: `${name}\n${ifname}`, label: `${name} · bridge ${ifname}` });
      }
    }
    return out;
  }, [nodeNames, node]);

  if (!ns || !lab) return <p className="muted pad">This namespace is gone.</p>;

  const peerOf = (ifname: string) => {
    const l = links?.find((x) => (x.a.node === node && x.a.interface === ifname) || (x.b.node === node && x.b.interface === ifname));
    if (!l) return undefined;
    const far = l.a.node === node && l.a.interface === ifname ? l.b : l.a;
    return `${far.node}:${far.interface}`;
  };
  const ifnames = Object.keys(ns.interfaces).filter((n) => !(n === 'lo' && ns.interfaces[n]?.addresses.length === 0)).sort((a, b) => {
    const ka = ns.interfaces[a]?.kind === 'bridge' ? 0 : 1;
    const kb = ns.interfaces[b]?.kind === 'bridge' ? 0 : 1;
    return ka - kb || byName(a, b);
  });
  const bridges = ifnames.filter((n) => ns.interfaces[n]?.kind === 'bridge');
  // Only what differs from a fresh namespace (every chain ACCEPT), as the file writes it.
  const policies = changedPolicies(ns.policies);
  // Native nftables tables and ip6tables rules: shown, never edited here (a file's nftables: and firewall6: set them).
  const kept = [...Object.keys(ns.nftables ?? {}).map((t) => `nftables table ${t}`), ...(ns.ip6tables ?? []).map((r) => `ip6tables ${r}`)];
  const name = rename ?? node;

  const submitRename = (e: FormEvent) => {
    e.preventDefault();
    const to = name.trim();
    if (!to || to === node) return;
    if (proposeEdits([{ kind: 'node.rename', node, to }], `rename ${node} to ${to}`)) {
      setRename(undefined);
      useView.getState().select({ kind: 'node', node: to });
    }
  };
  const addRoute = (e: FormEvent) => {
    e.preventDefault();
    const r = route.trim();
    if (r && proposeEdits([{ kind: 'route.add', node, route: r }], `add route ${r} in ${node}`)) setRoute('');
  };
  const doConnect = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const [to, bridge] = target.split('\n');
    if (to && connect({ node }, bridge ? { node: to, bridge } : { node: to })) setTarget('');
  };

  return (
    <div className="inspector-body">
      <div className="inspector-head">
        <span className="ns-icon"><Icon name={roleOf(node, ns)} size={18} /></span>
        <div>
          <h2>{node}</h2>
          <p className="muted small">namespace <code>{netnsName(lab, node)}</code></p>
        </div>
      </div>
      <NodeActions node={node} />

      <form className="inline-form" onSubmit={submitRename}>
        <input aria-label="Name" value={name} maxLength={24} onChange={(e) => setRename(e.target.value)} spellCheck={false} />
        <button type="submit" className="btn" disabled={name.trim() === node || !name.trim()}>Rename</button>
      </form>
      <FieldProblem field={fieldKey.node(node)} />

      <label className="check">
        <input type="checkbox" aria-label="IP forwarding" checked={ns.forwarding} onChange={(e) => proposeEdits([{ kind: 'forwarding.set', node, value: e.target.checked }], `${e.target.checked ? 'enable' : 'disable'} forwarding in ${node}`)} />
        <span>IP forwarding (<code>net.ipv4.ip_forward</code>): routes between interfaces</span>
      </label>
      <FieldProblem field={fieldKey.forwarding(node)} />

      <section className="section" aria-label="Interfaces">
        <h3>Interfaces <span className="count">{ifnames.length}</span></h3>
        {ifnames.length === 0 ? <p className="muted small">None yet. Connect this namespace to another (drag its <span className="knob">+</span>), or add a bridge.</p> : null}
        {ifnames.map((n) => (
          <InterfaceEditor key={n} node={node} name={n} iface={ns.interfaces[n]!} peer={peerOf(n)} bridges={bridges} focused={focus === n} />
        ))}
        <button className="btn" title={`Add a bridge to ${node}`} onClick={() => { const b = freshBridgeName(ns); proposeEdits([{ kind: 'interface.add', node, name: b, interface: { kind: 'bridge' } }], `add bridge ${b} to ${node}`); }}><Icon name="bridge" size={14} />Add a bridge here</button>
      </section>

      <section className="section" aria-label="Connect">
        <h3>Connect</h3>
        <form className="inline-form" onSubmit={doConnect}>
          <select aria-label="Connect to" value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">choose a namespace or bridge…</option>
            {targets.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
          </select>
          <button type="submit" className="btn" aria-label="Connect" disabled={!target}>Connect</button>
        </form>
        <FieldProblem field={fieldKey.connect(node)} />
      </section>

      <section className="section" aria-label="Routes">
        <h3>Routes <span className="count">{ns.routes.length}</span></h3>
        <ul className="chips column">
          {ns.routes.map((r) => {
            const text = formatRoute(r);
            return (
              <li key={text} className="chip">
                <code>{text}</code>
                <button className="chip-x" aria-label={`Remove route ${text}`} onClick={() => proposeEdits([{ kind: 'route.remove', node, route: text }], `remove route ${text} in ${node}`)}><Icon name="close" size={12} /></button>
              </li>
            );
          })}
          {ns.routes.length === 0 ? <li className="muted">only the routes of its own subnets</li> : null}
        </ul>
        <form className="inline-form" onSubmit={addRoute}>
          <input aria-label="Route" placeholder={routePlaceholder} value={route} onChange={(e) => setRoute(e.target.value)} spellCheck={false} aria-invalid={routeInvalid || undefined} />
          <button type="submit" className="btn" aria-label="Add route" disabled={!route.trim()}><Icon name="plus" size={14} />Add</button>
        </form>
        <FieldProblem field={fieldKey.routes(node)} />
      </section>

      <section className="section" aria-label="NAT">
        <h3>NAT and firewall <span className="count">{ns.nat.length}</span></h3>
        {policies.length > 0 ? (
          <ul className="rule-list" aria-label={`Chain policies of ${node}`}>
            {policies.map(([key, policy]) => <li key={key} className="rule"><code>{describePolicy(key, policy)}</code><span className="muted" title="what a built-in chain does with a packet no rule decided (iptables -P)">policy</span></li>)}
          </ul>
        ) : null}
        <FirewallEditor node={node} rules={ns.nat} interfaces={ifnames.filter((n) => n !== 'lo')} />
        {kept.length > 0 ? (
          <ul className="rule-list" aria-label={`Firewall state of ${node} that nslab keeps`}>
            {kept.map((line) => <li key={line} className="rule"><code>{line}</code><span className="muted" title="read from the kernel and kept as it is: a topology file sets it with nftables: or firewall6:">kept</span></li>)}
          </ul>
        ) : null}
      </section>

      <KernelKnobs lab={lab} node={node} interfaces={ifnames.filter((n) => n !== 'lo')} />

      <ConntrackSection lab={lab} node={node} />

      <section className="section">
        <button className="btn danger" aria-label={`Delete namespace ${node}`} onClick={() => { if (proposeEdits([{ kind: 'node.remove', node }], `delete namespace ${node}`)) useView.getState().select(undefined); }}><Icon name="trash" size={14} />Delete namespace</button>
      </section>
    </div>
  );
}
