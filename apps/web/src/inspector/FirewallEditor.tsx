/**
 * The firewall rules of a namespace (NAT and forward rules, as Docker writes them)
 * and a small form to add one. The rule is checked by the model's schema and
 * validation like a topology file, so a mistake comes back at this field.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { describeFirewallRule } from '@nslab/model';
import type { FirewallRule, RawFirewallRule } from '@nslab/model';
import { fieldKey } from '../editing/problems';
import { proposeEdits } from '../editing/submit';
import { FieldProblem } from './FieldProblem';
import { Icon } from '../ui/Icons';

type RuleType = RawFirewallRule['type'];

const HELP: Record<RuleType, string> = {
  masquerade: 'rewrite the source of packets leaving an interface to its address (docker0 to the internet)',
  snat: 'rewrite the source to a fixed address',
  dnat: 'forward a port of this namespace to an address inside (docker run -p)',
  forward: 'accept or drop forwarded packets',
};

/** The rule list and the add form. */
export function FirewallEditor({ node, rules, interfaces }: { node: string; rules: FirewallRule[]; interfaces: string[] }) {
  const [type, setType] = useState<RuleType>('masquerade');
  const [f, setF] = useState({ source: '', destination: '', out: '', in: '', to: '', port: '', proto: 'tcp', action: 'accept' });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const opt = (v: string) => (v.trim() ? v.trim() : undefined);

  const build = (): RawFirewallRule => {
    switch (type) {
      case 'masquerade': return { type, ...(opt(f.source) ? { source: opt(f.source) } : {}), ...(opt(f.out) ? { out: opt(f.out) } : {}) };
      case 'snat': return { type, to: f.to.trim(), ...(opt(f.source) ? { source: opt(f.source) } : {}), ...(opt(f.out) ? { out: opt(f.out) } : {}) };
      case 'dnat': return { type, proto: f.proto === 'udp' ? 'udp' : 'tcp', port: Number(f.port), to: f.to.trim(), ...(opt(f.in) ? { in: opt(f.in) } : {}) };
      case 'forward': return { type, action: f.action === 'drop' ? 'drop' : 'accept', ...(opt(f.source) ? { source: opt(f.source) } : {}), ...(opt(f.destination) ? { destination: opt(f.destination) } : {}), ...(opt(f.in) ? { in: opt(f.in) } : {}), ...(opt(f.out) ? { out: opt(f.out) } : {}) };
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const rule = build();
    if (proposeEdits([{ kind: 'nat.add', node, rule }], `add ${type} rule in ${node}`)) setF({ ...f, source: '', destination: '', to: '', port: '' });
  };

  // nat.remove counts rules as the file does: the ones nslab models ("other" rules are only shown).
  // A rule's index among the rules nslab manages (the file's `nat` list): rules of kind other are not in it.
  const fileIndex = rules.reduce<number[]>((out, r) => [...out, (out.at(-1) ?? -1) + (r.type !== 'other' ? 1 : 0)], []);
  const ifaceSelect = (key: 'in' | 'out', label: string) => (
    <label className="field-row"><span>{label}</span>
      <select aria-label={label} value={f[key]} onChange={set(key)}>
        <option value="">any</option>
        {interfaces.map((i) => <option key={i} value={i}>{i}</option>)}
      </select>
    </label>
  );
  return (
    <>
      <ul className="rule-list" aria-label={`Firewall rules of ${node}`}>
        {rules.map((r, i) => {
          const index = fileIndex[i] ?? -1;
          return (
            <li key={i} className="rule">
              <code>{describeFirewallRule(r)}</code>
              {r.type !== 'other' ? <button className="chip-x" aria-label={`Remove rule ${describeFirewallRule(r)}`} onClick={() => proposeEdits([{ kind: 'nat.remove', node, index }], `remove ${describeFirewallRule(r)} in ${node}`)}><Icon name="close" size={12} /></button> : <span className="muted" title="a rule nslab shows but does not manage">kernel</span>}
            </li>
          );
        })}
        {rules.length === 0 ? <li className="muted">no rules</li> : null}
      </ul>
      <form className="nat-form" onSubmit={submit}>
        <label className="field-row"><span>Type</span>
          <select aria-label="NAT rule type" value={type} onChange={(e) => setType(e.target.value as RuleType)}>
            <option value="masquerade">MASQUERADE</option>
            <option value="snat">SNAT</option>
            <option value="dnat">DNAT (publish a port)</option>
            <option value="forward">FORWARD accept/drop</option>
          </select>
        </label>
        <p className="hint">{HELP[type]}</p>
        {type === 'forward' ? (
          <label className="field-row"><span>Action</span>
            <select aria-label="Action" value={f.action} onChange={set('action')}><option value="accept">accept</option><option value="drop">drop</option></select>
          </label>
        ) : null}
        {type === 'dnat' ? (
          <>
            <label className="field-row"><span>Protocol</span>
              <select aria-label="Protocol" value={f.proto} onChange={set('proto')}><option value="tcp">tcp</option><option value="udp">udp</option></select>
            </label>
            <label className="field-row"><span>Port</span><input aria-label="Port" inputMode="numeric" placeholder="8080" value={f.port} onChange={set('port')} /></label>
          </>
        ) : null}
        {type !== 'dnat' ? <label className="field-row"><span>Source</span><input aria-label="Source" placeholder="192.168.1.0/24" value={f.source} onChange={set('source')} spellCheck={false} /></label> : null}
        {type === 'forward' ? <label className="field-row"><span>Destination</span><input aria-label="Destination" placeholder="any" value={f.destination} onChange={set('destination')} spellCheck={false} /></label> : null}
        {type === 'dnat' || type === 'forward' ? ifaceSelect('in', 'In interface') : null}
        {type !== 'dnat' ? ifaceSelect('out', 'Out interface') : null}
        {type === 'snat' || type === 'dnat' ? <label className="field-row"><span>To</span><input aria-label="To" placeholder={type === 'dnat' ? '192.168.1.1:80' : '203.0.113.2'} value={f.to} onChange={set('to')} spellCheck={false} /></label> : null}
        <button type="submit" className="btn" aria-label="Add NAT rule"><Icon name="plus" size={14} />Add NAT rule</button>
      </form>
      <FieldProblem field={fieldKey.nat(node)} />
    </>
  );
}
