/**
 * Which lab is open: the labs the server has, the one being built (not in the
 * kernel until its first node), and "New lab…" to name another.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { nameProblem } from '@nslab/model';
import { openLab } from '../server/session';
import { useLab } from '../state/lab';
import { cloneLab } from '../editing/submit';

const NEW = '\u0000new';
const COPY = '\u0000copy';

/** The lab selector in the top bar. */
export function LabPicker() {
  const lab = useLab((s) => s.lab);
  const labs = useLab((s) => s.labs);
  // Naming a new lab: an empty one, or a copy of the open one.
  const [creating, setCreating] = useState<false | 'new' | 'copy'>(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const names = labs.map((l) => l.name);
  if (lab && !names.includes(lab)) names.push(lab);
  names.sort();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    const problem = nameProblem(n, 'lab');
    if (problem) {
      setError(problem);
      return;
    }
    if (creating === 'copy') cloneLab(n);
    else openLab(n);
    setCreating(false);
    setName('');
    setError(undefined);
  };

  if (creating) {
    return (
      <form className="lab-picker" onSubmit={submit}>
        <input autoFocus aria-label={creating === 'copy' ? 'Copy lab as' : 'New lab name'} placeholder={creating === 'copy' ? `copy of ${lab ?? 'the lab'}` : 'new lab name'} value={name} maxLength={24} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => { if (e.key === 'Escape') setCreating(false); }} aria-invalid={error ? true : undefined} aria-describedby={error ? 'lab-name-error' : undefined} />
        <button type="submit" className="btn primary">{creating === 'copy' ? 'Copy' : 'Create'}</button>
        <button type="button" className="btn" onClick={() => setCreating(false)}>Cancel</button>
        {error ? <span id="lab-name-error" className="field-problem floating" role="alert">{error}</span> : null}
      </form>
    );
  }
  const count = (n: string) => labs.find((l) => l.name === n)?.nodes;
  return (
    <div className="lab-picker">
      <select aria-label="Lab" value={lab ?? ''} onChange={(e) => (e.target.value === NEW ? setCreating('new') : e.target.value === COPY ? setCreating('copy') : openLab(e.target.value || undefined))}>
        {lab === undefined ? <option value="">choose a lab</option> : null}
        {names.map((n) => (
          <option key={n} value={n}>{n}{count(n) === undefined ? ' (new)' : ` (${count(n)} nodes)`}</option>
        ))}
        <option value={NEW}>New lab…</option>
        {lab && count(lab) !== undefined ? <option value={COPY}>Copy this lab as…</option> : null}
      </select>
    </div>
  );
}
