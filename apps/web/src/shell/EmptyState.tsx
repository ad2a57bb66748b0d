/**
 * What an empty lab says: how to start, and the bundled example labs, each one
 * click away (it is applied through the plan like anything else).
 */
import { useEffect, useState } from 'react';
import { examplesList } from '@nslab/model';
import type { ExampleLab } from '@nslab/model';
import { useLab } from '../state/lab';
import { useConnection } from '../server/store';
import { proposeFile } from '../editing/submit';
import { Icon } from '../ui/Icons';
import { apiFetch } from '../server/credentials';

/** Reads the examples once; an empty list when the server has none or cannot say. */
function useExamples(): ExampleLab[] {
  const [examples, setExamples] = useState<ExampleLab[]>([]);
  useEffect(() => {
    let live = true;
    apiFetch('/api/examples')
      .then((r) => (r.ok ? r.json() : undefined))
      .then((body: unknown) => {
        const parsed = examplesList.safeParse(body);
        if (live && parsed.success) setExamples(parsed.data.examples);
      })
      .catch(() => undefined);
    return () => { live = false; };
  }, []);
  return examples;
}

/** The empty state, over the canvas when the open lab has no namespaces. */
export function EmptyState() {
  const lab = useLab((s) => s.lab);
  const loaded = useLab((s) => s.topology !== undefined);
  const empty = useLab((s) => s.topology !== undefined && Object.keys(s.topology.nodes).length === 0);
  const status = useConnection((s) => s.status);
  const examples = useExamples();
  if (lab && !loaded) {
    return <div className="empty-state"><div className="empty-card small"><p className="muted">{status === 'open' ? `Loading lab ${lab}…` : 'Waiting for the server…'}</p></div></div>;
  }
  if (lab && !empty) return null;
  return (
    <div className="empty-state">
      <div className="empty-card">
        <h1>Build a network, one namespace at a time</h1>
        <ol className="steps">
          <li><Icon name="namespace" /><span>Drag a <strong>Namespace</strong> from the palette onto the canvas, or click it. Add two.</span></li>
          <li><Icon name="bridge" /><span>Add a <strong>Bridge</strong> for a switch between them, like docker0.</span></li>
          <li><Icon name="plus" /><span>Drag the <span className="knob">+</span> of one onto the other (or the bridge): a veth pair.</span></li>
          <li><Icon name="play" /><span>Each change shows its <code>ip</code> commands first, then runs them.</span></li>
        </ol>
        <p className="muted small">You can also drop a topology file (YAML) anywhere on the page{lab ? <>; this lab is <code>{lab}</code></> : null}.</p>
        {examples.length > 0 ? (
          <>
            <h2>Or start from an example</h2>
            <ul className="examples">
              {examples.map((ex) => (
                <li key={ex.name}>
                  <button className="example" aria-label={`Open example ${ex.name}`} onClick={() => proposeFile(ex.yaml, `example ${ex.name}`)}>
                    <strong>{ex.name}</strong>
                    <span>{ex.description ?? ''}</span>
                  </button>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </div>
    </div>
  );
}
