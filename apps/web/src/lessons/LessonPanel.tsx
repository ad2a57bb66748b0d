/**
 * The lesson panel beside the canvas: the lesson running in the followed lab, its
 * steps with text, commands to try and checks that turn green, red or pending live
 * (the server sends a status whenever the kernel changes), hints under failing
 * checks, "Show me" and "Reset step", progress, and a downloadable summary.
 */
import { useEffect, useState } from 'react';
import Markdown from 'react-markdown';
import type { Lesson, LessonInfo, LessonStatus, ServerMessage } from '@nslab/model';
import { client, requestId } from '../server/client';
import { listen } from '../server/dispatch';
import { useLab } from '../state/lab';
import { useConnection } from '../server/store';
import { useView } from '../state/view';
import { useLang } from './i18n';
import { proposeLessonSolution } from '../editing/submit';
import { RunButton } from '../terminals/RunButton';
import type { Progress } from './summary';
import { summarize, summaryMarkdown } from './summary';
import './lessons.css';
import { useLiveView } from '../liveview/store';

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/** The panel; renders nothing until the server has answered. */
export function LessonPanel() {
  const lab = useLab((s) => s.lab);
  const { t, lang, set: setLang } = useLang();
  const [lesson, setLesson] = useState<Lesson | null>(null);
  const [status, setStatus] = useState<LessonStatus | null>(null);
  const [list, setList] = useState<LessonInfo[]>([]);
  const open = useView((s) => s.panels.lesson);
  // A live view follows the lesson's progress; starting, solving and resetting are its owner's.
  const viewer = useLiveView((s) => s.viewer !== undefined);
  // A trainee starts with their own values (two trainees' labs differ, so answers cannot be copied); anyone may choose.
  const trainee = useLiveView((s) => s.trainee);
  const [vary, setVary] = useState<boolean | undefined>(undefined);
  const varied = vary ?? trainee;
  const setOpen = (value: boolean) => useView.getState().setPanel('lesson', value);
  const [progress, setProgress] = useState<Progress>(() => ({ started: Date.now(), passedAt: new Map(), hints: new Map() }));

  useEffect(() => listen((m: ServerMessage) => {
    if (m.type === 'lessons') setList(m.lessons);
    if (m.type === 'lesson' && m.lab === lab) {
      setLesson(m.lesson);
      setStatus(null);
      if (m.lesson) setOpen(true);
      setProgress({ started: Date.now(), passedAt: new Map(), hints: new Map() });
    }
    if (m.type === 'lesson-status' && m.lab === lab) {
      setStatus(m.status);
      const { steps } = m.status;
      setProgress((p) => {
        const passedAt = new Map(p.passedAt);
        const hints = new Map(p.hints);
        for (const s of steps) {
          if (s.passed && !passedAt.has(s.id)) passedAt.set(s.id, m.at);
          const shown = s.checks.filter((c) => c.passed === false && c.hint).length;
          if (shown > 0) hints.set(s.id, Math.max(hints.get(s.id) ?? 0, shown));
        }
        return { started: p.started, passedAt, hints };
      });
    }
  }), [lab]);

  // Asked once the socket is open (a lab may be chosen before it is), and again after a reconnect.
  const connected = useConnection((s) => s.status === 'open');
  useEffect(() => {
    if (!lab || !connected) return undefined;
    client.send({ type: 'lesson-watch', lab });
    client.send({ type: 'lesson-list', id: requestId('lessons') });
    return () => { client.send({ type: 'lesson-unwatch', lab }); };
  }, [lab, connected]);

  if (!lab) return null;
  if (!open) return null;
  const langSwitch = (
    <div className="lesson-lang" role="group" aria-label="language">
      <button type="button" aria-pressed={lang === 'en'} onClick={() => setLang('en')}>English</button>
      <button type="button" aria-pressed={lang === 'zh'} onClick={() => setLang('zh')}>简体中文</button>
      <button type="button" className="lesson-close" aria-label="Close lesson" title="Close the lesson column (the lesson goes on in the lab)" onClick={() => setOpen(false)}>×</button>
    </div>
  );
  if (!lesson) {
    return (
      <aside className="lesson-panel" aria-label={t('lesson')}>
        {langSwitch}
        <p>{t('noLesson')}</p>
        <label className="lesson-vary" title={t('varyTitle')}>
          <input type="checkbox" checked={varied} disabled={viewer} onChange={(e) => setVary(e.target.checked)} /> {t('vary')}
        </label>
        <ul>
          {list.map((l) => (
            <li key={l.id}>
              <button type="button" disabled={viewer} onClick={() => client.send({ type: 'lesson-start', id: requestId('lesson'), lesson: l.id, lab, vary: varied })}>{t('start')}</button> {l.title[lang]}
            </li>
          ))}
        </ul>
      </aside>
    );
  }
  const showMe = (i: number): void => {
    const step = lesson.steps[i];
    if (!step) return;
    const commands = (step.solution ?? []).flatMap((item) => ('edit' in item ? [] : [{ node: item.node, command: item.run }]));
    proposeLessonSolution(lab, i, step.title[lang], commands);
  };
  const done = status?.steps.filter((s) => s.passed).length ?? 0;
  const summary = status ? summarize(lesson, status, progress, lang) : null;
  return (
    <aside className="lesson-panel" aria-label={t('lesson')} data-lesson={lesson.id}>
      {langSwitch}
      <fieldset className="read-only-fields" disabled={viewer}>
      <h2>{lesson.title[lang]}</h2>
      <p className="lesson-summary">{lesson.summary[lang]}</p>
      <progress max={lesson.steps.length} value={done} aria-label="progress" /> <span className="lesson-progress">{done}/{lesson.steps.length} {t('progress')}</span>
      <ol className="lesson-steps">
        {lesson.steps.map((step, i) => {
          const s = status?.steps[i];
          return (
            <li key={step.id} className="lesson-step" data-step={step.id} data-passed={s?.passed ? 'true' : 'false'}>
              <h3>{t('step')} {i + 1}: {step.title[lang]}</h3>
              <div className="lesson-text"><Markdown skipHtml>{step.text[lang]}</Markdown></div>
              {step.try && step.try.length > 0 ? (
                <div className="lesson-try">
                  <span>{t('tryThese')}</span>
                  <ul className="lesson-try-list">
                    {step.try.map((c, j) => (
                      <li key={j}>
                        <code title={c.node}>{c.node}# {c.command}</code>
                        <RunButton command={c.command} node={c.node} />
                      </li>
                    ))}
                  </ul>
                </div>
              ) : null}
              <ul className="lesson-checks">
                {step.checks.map((c, j) => {
                  const r = s?.checks[j];
                  const state = r?.passed === true ? 'pass' : r?.passed === false ? 'fail' : 'pending';
                  return (
                    <li key={c.id} className={`lesson-check ${state}`} data-check={c.id} data-state={state}>
                      <span aria-hidden>{state === 'pass' ? '✔' : state === 'fail' ? '✘' : '…'}</span> {c.text[lang]}
                      {state === 'pending' ? <em> {t('pending')}</em> : null}
                      {state === 'fail' && r?.hint ? <div className="lesson-hint">{t('hint')}: {r.hint}</div> : null}
                    </li>
                  );
                })}
              </ul>
              <div className="lesson-actions">
                {step.solution && step.solution.length > 0 ? <button type="button" onClick={() => showMe(i)}>{t('showMe')}</button> : null}
                <button type="button" onClick={() => client.send({ type: 'lesson-reset', id: requestId('lesson'), lab, step: i })}>{t('reset')}</button>
              </div>
            </li>
          );
        })}
      </ol>
      {summary ? (
        <section className="lesson-end">
          <h3>{t('summary')}</h3>
          {status?.passed ? <p>{t('done')}</p> : null}
          <button type="button" onClick={() => download(`${lesson.id}-${lab}.md`, summaryMarkdown(lesson.title[lang], summary), 'text/markdown')}>{t('markdown')}</button>
          <button type="button" onClick={() => download(`${lesson.id}-${lab}.json`, JSON.stringify(summary, null, 2), 'application/json')}>{t('json')}</button>
        </section>
      ) : null}
      </fieldset>
    </aside>
  );
}
