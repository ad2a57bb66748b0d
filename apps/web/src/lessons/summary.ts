/** The end-of-lesson summary (time per step, hints shown), as JSON and as Markdown. Pure. */
import type { Lesson, LessonStatus } from '@nslab/model';

/** What the panel records while a learner works. */
export interface Progress {
  started: number;
  /** When each step first passed, by step id. */
  passedAt: Map<string, number>;
  /** Hints shown, by step id. */
  hints: Map<string, number>;
}

/** One step's line in the summary. */
export interface StepSummary { id: string; title: string; passed: boolean; seconds: number | null; hints: number }

/** The summary of a lesson in a lab. */
export function summarize(lesson: Lesson, status: LessonStatus, progress: Progress, lang: 'en' | 'zh'): { lesson: string; lab: string; steps: StepSummary[] } {
  let previous = progress.started;
  const steps = lesson.steps.map((step) => {
    const at = progress.passedAt.get(step.id);
    const seconds = at === undefined ? null : Math.max(0, Math.round((at - previous) / 1000));
    if (at !== undefined) previous = Math.max(previous, at);
    return { id: step.id, title: step.title[lang], passed: status.steps.find((s) => s.id === step.id)?.passed ?? false, seconds, hints: progress.hints.get(step.id) ?? 0 };
  });
  return { lesson: lesson.id, lab: status.lab, steps };
}

/** The summary as Markdown. */
export function summaryMarkdown(title: string, s: ReturnType<typeof summarize>): string {
  const rows = s.steps.map((x, i) => `| ${i + 1} | ${x.title} | ${x.passed ? 'yes' : 'no'} | ${x.seconds ?? '-'} | ${x.hints} |`);
  return [`# ${title}`, '', `Lab: ${s.lab}`, '', '| step | title | passed | seconds | hints shown |', '| --- | --- | --- | --- | --- |', ...rows, ''].join('\n');
}
