/** The inspector of a veth link: its two ends with their state and addresses, and delete. */
import { linkKey } from '@nslab/model';
import { carrierOf, looksDown } from '../canvas/derive';
import { useLab } from '../state/lab';
import { useView } from '../state/view';
import { proposeEdits } from '../editing/submit';
import { Icon } from '../ui/Icons';

/** The inspector of the link with key `linkId`. */
export function LinkInspector({ linkId }: { linkId: string }) {
  const link = useLab((s) => s.topology?.links.find((l) => linkKey(l) === linkId));
  const nodes = useLab((s) => s.topology?.nodes);
  if (!link) return <p className="muted pad">This link is gone.</p>;
  const ends = [link.a, link.b];
  return (
    <div className="inspector-body">
      <div className="inspector-head">
        <span className="ns-icon"><Icon name="script" size={18} /></span>
        <div>
          <h2>veth pair</h2>
          <p className="muted small">two ends of one virtual cable</p>
        </div>
      </div>
      {ends.map((e) => {
        const iface = nodes?.[e.node]?.interfaces[e.interface];
        const down = iface ? looksDown({ up: iface.up, carrier: carrierOf(iface) }) : true;
        return (
          <section key={`${e.node}:${e.interface}`} className="section end" aria-label={`End ${e.node}:${e.interface}`}>
            <h3><span className={`dot ${down ? 'is-down' : 'is-up'}`} aria-hidden="true" /> <code>{e.node}:{e.interface}</code> <span className="muted">{down ? 'down' : 'up'}</span></h3>
            <p className="small">{iface?.addresses.length ? iface.addresses.map((a) => <code key={a} className="addr">{a}</code>) : <span className="muted">no addresses</span>}{iface?.master ? <> · in bridge <code>{iface.master}</code></> : null}</p>
            <button className="btn" onClick={() => useView.getState().select({ kind: 'node', node: e.node, interface: e.interface })}>Open {e.node}</button>
          </section>
        );
      })}
      <section className="section">
        <button className="btn danger" aria-label="Delete link" onClick={() => { if (proposeEdits([{ kind: 'link.remove', a: link.a }], `delete link ${link.a.node}:${link.a.interface} - ${link.b.node}:${link.b.interface}`)) useView.getState().select(undefined); }}><Icon name="trash" size={14} />Delete link</button>
      </section>
    </div>
  );
}
