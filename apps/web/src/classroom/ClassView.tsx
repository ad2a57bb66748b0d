/**
 * The class, as the instructor sees it (classroom mode): add a trainee and hand out their join
 * link, the class list (it prints as a sheet of links), each trainee's labs as small live graphs
 * with their lesson progress and failing checks, Watch (a read-only live view in a new tab) and
 * Take control (the lab on this page's canvas, editable), and one lesson started for everyone.
 */
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import type { LessonStatus, TraineeEntry } from '@nslab/model';
import { useLab } from '../state/lab';
import { openLab } from '../server/session';
import { makeViewLink } from '../liveview/share';
import { Icon } from '../ui/Icons';
import { addTrainee, listTrainees, removeTrainee, startClassLesson } from './api';
import { MiniGraph } from './MiniGraph';
import { useClass } from './store';

/** How long a Watch link lasts (hours): a lesson's length, not the default half day. */
const WATCH_HOURS = 2;

/** The message of a failure, as a sentence. */
const sentence = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Copies `text`; false when the browser refuses (the field can still be selected by hand). */
async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A join link with its copy button. */
function JoinLink({ trainee }: { trainee: TraineeEntry }) {
  const [copied, setCopied] = useState<boolean | undefined>();
  return (
    <div className="class-link">
      <input className="mono" readOnly value={trainee.url} aria-label={`Join link for ${trainee.name}`} onFocus={(e) => e.currentTarget.select()} />
      <button type="button" className="btn class-no-print" aria-label={`Copy join link for ${trainee.name}`} onClick={() => { void copy(trainee.url).then(setCopied); }}>
        {copied === true ? 'Copied' : copied === false ? 'Select and copy' : 'Copy'}
      </button>
    </div>
  );
}

/** A lesson's progress in one lab: steps passed, and the checks that fail with their hints. */
function Progress({ status }: { status: LessonStatus }) {
  const passed = status.steps.filter((s) => s.passed).length;
  const failing = status.steps.flatMap((s) => s.checks.filter((c) => c.passed === false).map((c) => ({ step: s.title.en, check: c })));
  return (
    <div className="class-progress" aria-label={`Lesson ${status.lesson} progress`}>
      <div><strong>{status.lesson}</strong>: {status.passed ? 'done' : `${passed} of ${status.steps.length} steps`}</div>
      <progress max={status.steps.length} value={passed} aria-hidden="true" />
      {failing.length > 0 ? (
        <ul className="class-failing" aria-label="Failing checks">
          {failing.slice(0, 4).map(({ step, check }) => <li key={`${step}/${check.id}`} title={check.hint ?? ''}>{check.text.en}{check.hint ? `: ${check.hint}` : ''}</li>)}
          {failing.length > 4 ? <li>and {failing.length - 4} more</li> : null}
        </ul>
      ) : null}
    </div>
  );
}

/** One trainee lab: its graph, its lesson, Watch and Take control. */
function TraineeLab({ trainee, lab }: { trainee: string; lab: string }) {
  const graph = useClass((s) => s.graphs.get(lab));
  const status = useClass((s) => s.status.get(lab));
  const [problem, setProblem] = useState<string | undefined>();
  const name = lab.slice(trainee.length + 2);
  const watch = async () => {
    setProblem(undefined);
    // Opened first, filled once the link exists: a tab opened after an await is a popup browsers block.
    const tab = window.open('', '_blank');
    try {
      const link = await makeViewLink(lab, WATCH_HOURS);
      if (tab) { tab.opener = null; tab.location.href = link.url; } else setProblem(`the browser blocked the new tab: open ${link.url}`);
    } catch (e) {
      tab?.close();
      setProblem(sentence(e));
    }
  };
  const control = () => {
    useClass.getState().setOpen(false);
    openLab(lab);
  };
  return (
    <article className="class-lab" aria-label={`Lab ${name} of ${trainee}`}>
      <div className="class-lab-name mono">{name}</div>
      <MiniGraph lab={name} topology={graph} />
      {status ? <Progress status={status} /> : null}
      <div className="class-lab-actions class-no-print">
        <button type="button" className="btn" title="Open this lab read-only in a new tab (a live-view link)" onClick={() => { void watch(); }}>Watch</button>
        <button type="button" className="btn" title="Open this lab on your canvas, where you can change it" onClick={control}>Take control</button>
      </div>
      {problem ? <p className="class-problem" role="alert">{problem}</p> : null}
    </article>
  );
}

/** The class overlay; nothing unless the instructor opened it. */
export function ClassView() {
  const open = useClass((s) => s.open);
  const trainees = useClass((s) => s.trainees);
  const lessons = useClass((s) => s.lessons);
  const labs = useLab((s) => s.labs);
  const [name, setName] = useState('');
  const [added, setAdded] = useState<TraineeEntry | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [lesson, setLesson] = useState('');
  const [vary, setVary] = useState(true);
  const [started, setStarted] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    let live = true;
    listTrainees().then((t) => { if (live) useClass.getState().setTrainees(t); }, (e: unknown) => { if (live) setProblem(sentence(e)); });
    return () => { live = false; };
  }, [open]);

  if (!open) return null;
  const refresh = async () => useClass.getState().setTrainees(await listTrainees());
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(undefined);
    try {
      const trainee = await addTrainee(name.trim());
      setAdded(trainee);
      setName('');
      await refresh();
    } catch (err) {
      setProblem(sentence(err));
    }
  };
  const remove = async (trainee: string) => {
    if (!window.confirm(`Remove ${trainee}? Their shells end, their labs are destroyed and their link stops working.`)) return;
    setProblem(undefined);
    try {
      await removeTrainee(trainee);
      if (added?.name === trainee) setAdded(undefined);
      await refresh();
    } catch (err) {
      setProblem(sentence(err));
    }
  };
  const start = async (e: FormEvent) => {
    e.preventDefault();
    const chosen = lesson || lessons[0]?.id;
    if (!chosen) return;
    setProblem(undefined);
    setStarted(undefined);
    setBusy(true);
    try {
      const r = await startClassLesson(chosen, vary);
      const failed = r.failed.map((f) => `${f.trainee}: ${f.error}`).join('; ');
      setStarted(`${chosen} started for ${r.started.length} of ${r.started.length + r.failed.length} trainees${failed ? ` (not for ${failed})` : ''}.`);
    } catch (err) {
      setProblem(sentence(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="class-view" role="region" aria-label="Class">
      <header className="class-head">
        <h2>Class</h2>
        <span className="class-count">{trainees.length} trainee{trainees.length === 1 ? '' : 's'}</span>
        <div className="class-head-end class-no-print">
          <button type="button" className="btn" title="Print the class list: a sheet of join links" onClick={() => window.print()}>Print join links</button>
          <button type="button" className="btn icon-btn" aria-label="Close class" title="Back to the canvas" onClick={() => useClass.getState().setOpen(false)}><Icon name="close" size={14} /></button>
        </div>
      </header>
      <div className="class-forms class-no-print">
        <form className="class-form" onSubmit={(e) => { void add(e); }} aria-label="Add a trainee">
          <label>Trainee name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="ana" maxLength={12} aria-label="Trainee name" /></label>
          <button type="submit" className="btn primary" disabled={name.trim() === ''}>Add trainee</button>
          {added ? <div className="class-added" role="status" aria-label="New trainee">Join link for <strong>{added.name}</strong>: <JoinLink trainee={added} /></div> : null}
        </form>
        <form className="class-form" onSubmit={(e) => { void start(e); }} aria-label="Start a lesson for the class">
          <label>Lesson <select value={lesson || lessons[0]?.id || ''} onChange={(e) => setLesson(e.target.value)} aria-label="Lesson for the class">
            {lessons.map((l) => <option key={l.id} value={l.id}>{l.title.en}</option>)}
          </select></label>
          <label className="check"><input type="checkbox" checked={vary} onChange={(e) => setVary(e.target.checked)} /> Each trainee their own values</label>
          <button type="submit" className="btn" disabled={busy || lessons.length === 0 || trainees.length === 0}>{busy ? 'Starting…' : 'Start lesson for the class'}</button>
          {started ? <p role="status" aria-label="Class lesson">{started}</p> : null}
        </form>
      </div>
      {problem ? <p className="class-problem" role="alert">{problem}</p> : null}
      <ul className="class-list" aria-label="Trainees">
        {trainees.length === 0 ? <li className="class-empty">No trainees yet: add one above and hand out their join link.</li> : null}
        {trainees.map((t) => {
          const theirs = labs.map((l) => l.name).filter((l) => l.startsWith(`${t.name}--`)).sort();
          return (
            <li key={t.name} className="class-trainee" aria-label={`Trainee ${t.name}`}>
              <div className="class-trainee-head">
                <strong className="class-trainee-name">{t.name}</strong>
                <JoinLink trainee={t} />
                <button type="button" className="btn danger class-no-print" aria-label={`Remove ${t.name}`} onClick={() => { void remove(t.name); }}>Remove</button>
              </div>
              <div className="class-labs class-no-print">
                {theirs.length === 0 ? <span className="class-empty">no lab yet</span> : theirs.map((lab) => <TraineeLab key={lab} trainee={t.name} lab={lab} />)}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** The top bar's Class button: only on the instructor's page of a classroom server. */
export function ClassButton() {
  const available = useClass((s) => s.available);
  const open = useClass((s) => s.open);
  if (!available) return null;
  return <button className="btn" aria-label="Class" aria-pressed={open} title="Every trainee, their labs live, their lessons; join links" onClick={() => useClass.getState().setOpen(!open)}>Class</button>;
}
