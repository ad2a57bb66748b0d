/**
 * A namespace's kernel knobs in the inspector, under their sysctl names: the
 * namespace's own (bridge-nf-call-iptables, ...) and, per interface, rp_filter,
 * proxy_arp, route_localnet and the rest of sysctl.ts's allow-list, as the kernel has
 * them, and every other net.* sysctl the kernel holds off a fresh namespace's value, read-only.
 * They are read when the inspector opens, after every change the page makes
 * and on request; changing one is a `sysctl.set` edit through the plan, like any other.
 */
import { useCallback, useEffect, useState } from 'react';
import { isOtherSysctl, SYSCTLS } from '@nslab/model';
import type { SysctlSpec } from '@nslab/model';
import { client, requestId } from '../server/client';
import { listen } from '../server/dispatch';
import { proposeEdits } from '../editing/submit';
import { fieldKey } from '../editing/problems';
import { FieldProblem } from './FieldProblem';

/** One knob: its sysctl name, a choice of the values nslab offers, and what it does. */
function Knob({ node, name, spec, value }: { node: string; name: string; spec: SysctlSpec; value: string }) {
  return (
    <label className="knob-row" title={spec.help}>
      <code>{name}</code>
      <select aria-label={name} value={value} onChange={(e) => proposeEdits([{ kind: 'sysctl.set', node, name, value: e.target.value }], `set ${name} = ${e.target.value} in ${node}`)}>
        {spec.values.includes(value) ? null : <option value={value}>{value}</option>}
        {spec.values.map((v) => <option key={v} value={v}>{v}</option>)}
      </select>
      <FieldProblem field={fieldKey.sysctl(node, name)} />
    </label>
  );
}

/** The knobs of namespace `node` in `lab`, with its interfaces' names. */
export function KernelKnobs({ lab, node, interfaces }: { lab: string; node: string; interfaces: readonly string[] }) {
  // The knobs last read, with the node they belong to: another node's are not shown while this one's are read.
  const [got, setGot] = useState<{ lab: string; node: string; values: Map<string, string> } | undefined>(undefined);
  const values = got !== undefined && got.lab === lab && got.node === node ? got.values : undefined;
  const read = useCallback(() => client.send({ type: 'sysctl-read', id: requestId('sysctl'), lab, node }), [lab, node]);

  useEffect(() => {
    const stop = listen((m) => {
      if (m.type === 'sysctls' && m.lab === lab && m.node === node) setGot({ lab, node, values: new Map(Object.entries(m.values)) });
      // A change the page made to this lab (a knob, or an interface added) may have changed the knobs.
      else if ((m.type === 'result' && m.lab === lab) || m.type === 'hello') read();
    });
    read();
    return stop;
  }, [lab, node, read]);

  const present = (name: string) => values?.get(name);
  const other = [...(values ?? [])].filter(([name]) => isOtherSysctl(name)).sort(([a], [b]) => a.localeCompare(b));
  const own = SYSCTLS.filter((s) => s.scope === 'namespace' && s.key !== 'net.ipv4.ip_forward' && present(s.key) !== undefined);
  const perInterface = (iface: string) => SYSCTLS.filter((s) => s.scope === 'interface').map((s) => ({ spec: s, name: `net.ipv${s.family}.conf.${iface}.${s.key}` })).filter((k) => present(k.name) !== undefined);

  return (
    <section className="section" aria-label="Kernel knobs">
      <h3>Kernel knobs <button className="link-btn small" onClick={read} title="Read the knobs from the kernel again (a sysctl -w typed in a shell)">read again</button></h3>
      {values === undefined ? <p className="muted small">Reading…</p> : null}
      {own.map((s) => <Knob key={s.key} node={node} name={s.key} spec={s} value={present(s.key) ?? ''} />)}
      {values !== undefined ? ['all', ...interfaces].map((iface) => {
        const knobs = perInterface(iface);
        if (knobs.length === 0) return null;
        return (
          <details key={iface} className="knob-group" open={iface === 'all'}>
            <summary>{iface === 'all' ? <>all interfaces (<code>net.ipv4.conf.all</code>: counts with each interface&apos;s)</> : <>interface <code>{iface}</code></>}</summary>
            {knobs.map((k) => <Knob key={k.name} node={node} name={k.name} spec={k.spec} value={present(k.name) ?? ''} />)}
          </details>
        );
      }) : null}
      {other.length > 0 ? (
        <details className="knob-group" open>
          <summary title="Sysctls nslab does not offer as knobs, where the kernel holds them off a fresh namespace's value (a sysctl -w typed in a shell): kept by export and apply">other sysctls changed ({other.length})</summary>
          <ul className="other-sysctls" aria-label="Other sysctls changed">
            {other.map(([name, value]) => <li key={name}><code>{name}</code> = <code>{value}</code></li>)}
          </ul>
        </details>
      ) : null}
    </section>
  );
}
