/**
 * One interface in the inspector: its state and peer, up/down, its addresses (add,
 * remove), the bridge it is plugged into, and removing it (a linked veth goes with
 * its link). Every change is an edit through the plan.
 */
import { memo, useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import type { Interface } from '@nslab/model';
import { buildableType } from '@nslab/model';
import { carrierOf, looksDown } from '../canvas/derive';
import { fieldKey } from '../editing/problems';
import { addressHint } from '../editing/allocator';
import { useLab } from '../state/lab';
import { proposeEdits } from '../editing/submit';
import { FieldProblem, useFieldInvalid } from './FieldProblem';
import { Icon } from '../ui/Icons';

/** Props: the namespace, the interface's name and value, its link peer, and the bridges it could join. */
export interface InterfaceEditorProps {
  node: string;
  name: string;
  iface: Interface;
  peer: string | undefined;
  bridges: string[];
  focused: boolean;
}

function InterfaceEditorView({ node, name, iface, peer, bridges, focused }: InterfaceEditorProps) {
  const [address, setAddress] = useState('');
  const placeholder = useLab((s) => (s.topology ? addressHint(s.topology, node, name) : '10.0.1.1/24'));
  const addrField = fieldKey.addresses(node, name);
  const invalid = useFieldInvalid(addrField);
  const carrier = carrierOf(iface);
  const down = looksDown({ up: iface.up, carrier });
  const errorId = `err-${node}-${name}-addr`;
  const box = useRef<HTMLFieldSetElement>(null);
  useEffect(() => {
    if (focused) box.current?.scrollIntoView({ block: 'nearest' });
  }, [focused]);

  const addAddress = (e: FormEvent) => {
    e.preventDefault();
    const value = address.trim();
    if (!value) return;
    if (proposeEdits([{ kind: 'address.add', node, interface: name, address: value }], `add address ${value} to ${node}:${name}`)) setAddress('');
  };

  return (
    <fieldset className={`iface${focused ? ' focused' : ''}`} aria-label={`Interface ${name}`} ref={box}>
      <legend className="iface-head">
        <span className={`dot ${down ? 'is-down' : carrier === 'unknown' ? 'is-unknown' : 'is-up'}`} aria-hidden="true" />
        <span className="iface-name">{name}</span>
        <span className="kind-tag">{iface.kind === 'other' && iface.type ? iface.type : iface.kind}</span>
        <span className="iface-state">{!iface.up ? 'down' : carrier === 'down' ? 'no carrier' : 'up'}</span>
      </legend>
      {peer ? <div className="iface-peer">veth peer <code>{peer}</code></div> : iface.peer ? <div className="iface-peer">peer outside the lab: <code>{iface.peer}</code></div> : null}
      {iface.vxlan ? <div className="iface-peer">VNI <code>{iface.vxlan.vni}</code>{iface.vxlan.remote ? <> remote <code>{iface.vxlan.remote}</code></> : null}{iface.vxlan.group ? <> group <code>{iface.vxlan.group}</code></> : null} port <code>{iface.vxlan.port}</code></div> : null}
      {iface.kind === 'other' ? (
        <div className="iface-peer">
          {iface.parent ? <>on <code>{iface.parent}</code> </> : null}
          {iface.mode ? <>mode <code>{iface.mode}</code> </> : null}
          {iface.id !== undefined ? <>id <code>{iface.id}</code> </> : null}
          {buildableType(iface) ? null : <span className="muted small">(kept as the kernel has it; nslab does not build it)</span>}
        </div>
      ) : null}
      {iface.mac ? <div className="iface-mac">MAC <code>{iface.mac}</code>{iface.mtu ? <> · MTU <code>{iface.mtu}</code></> : null}</div> : null}

      {iface.kind !== 'loopback' ? (
        <label className="check">
          <input type="checkbox" checked={iface.up} aria-label={`${name} up`} onChange={(e) => proposeEdits([{ kind: 'interface.set', node, name, up: e.target.checked }], `bring ${node}:${name} ${e.target.checked ? 'up' : 'down'}`)} />
          <span>Up <span className="muted small">(<code>ip link set {name} {iface.up ? 'down' : 'up'}</code> to change)</span></span>
        </label>
      ) : null}
      <FieldProblem field={fieldKey.iface(node, name)} />

      <ul className="chips" aria-label={`Addresses of ${name}`}>
        {iface.addresses.map((a) => (
          <li key={a} className="chip">
            <code>{a}</code>
            <button className="chip-x" aria-label={`Remove address ${a}`} title={`Remove ${a}`} onClick={() => proposeEdits([{ kind: 'address.remove', node, interface: name, address: a }], `remove address ${a} from ${node}:${name}`)}><Icon name="close" size={12} /></button>
          </li>
        ))}
        {iface.addresses.length === 0 ? <li className="muted">no addresses</li> : null}
      </ul>
      <form className="inline-form" onSubmit={addAddress}>
        <input aria-label="Address" placeholder={placeholder} value={address} onChange={(e) => setAddress(e.target.value)} spellCheck={false} aria-invalid={invalid || undefined} aria-describedby={invalid ? errorId : undefined} />
        <button type="submit" className="btn" aria-label="Add address" disabled={!address.trim()}><Icon name="plus" size={14} />Add</button>
      </form>
      <FieldProblem field={addrField} id={errorId} />

      {bridges.length > 0 && iface.kind !== 'bridge' && iface.kind !== 'loopback' ? (
        <label className="field-row">
          <span>Bridge</span>
          <select aria-label="Bridge" value={iface.master ?? ''} onChange={(e) => proposeEdits([{ kind: 'interface.set', node, name, master: e.target.value || null }], e.target.value ? `plug ${node}:${name} into ${e.target.value}` : `unplug ${node}:${name} from ${iface.master}`)}>
            <option value="">not in a bridge</option>
            {bridges.filter((b) => b !== name).map((b) => <option key={b} value={b}>{b}</option>)}
          </select>
        </label>
      ) : null}
      <FieldProblem field={fieldKey.master(node, name)} />

      {iface.kind !== 'loopback' ? (
        <div className="iface-actions">
          {peer ? (
            <button className="btn danger-link" aria-label={`Delete link ${node}:${name}`} onClick={() => proposeEdits([{ kind: 'link.remove', a: { node, interface: name } }], `delete link ${node}:${name} - ${peer}`)}><Icon name="trash" size={14} />Delete link</button>
          ) : (
            <button className="btn danger-link" aria-label={`Remove interface ${name}`} onClick={() => proposeEdits([{ kind: 'interface.remove', node, name }], `remove ${node}:${name}`)}><Icon name="trash" size={14} />Remove</button>
          )}
        </div>
      ) : null}
    </fieldset>
  );
}

/** One interface's editor. */
export const InterfaceEditor = memo(InterfaceEditorView);
