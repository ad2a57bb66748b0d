import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseLesson } from '@nslab/model';
import type { LessonStatus } from '@nslab/model';
import { summarize, summaryMarkdown } from './summary';

const parsed = parseLesson(readFileSync(new URL('../../../../lessons/veth-pair.yaml', import.meta.url), 'utf8'));
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const lesson = parsed.lesson;

/** The lesson's status with the first `done` steps passed. */
function status(done: number): LessonStatus {
  const steps = lesson.steps.map((s, i) => ({ id: s.id, title: s.title, passed: i < done, checks: [] }));
  return { lesson: lesson.id, lab: 'class-7', steps, passed: done === lesson.steps.length };
}

test('the summary gives each step the seconds since the step before it passed, and the hints shown', () => {
  const [a, b, c] = lesson.steps.map((s) => s.id);
  const progress = { started: 1_000, passedAt: new Map([[a!, 31_000], [b!, 91_400]]), hints: new Map([[b!, 2]]) };
  const s = summarize(lesson, status(2), progress, 'en');
  assert.equal(s.lesson, 'veth-pair');
  assert.equal(s.lab, 'class-7');
  assert.deepEqual(s.steps.slice(0, 3).map((x) => [x.id, x.passed, x.seconds, x.hints]), [[a, true, 30, 0], [b, true, 60, 2], [c, false, null, 0]]);
  assert.equal(s.steps.length, lesson.steps.length);
});

test('the summary speaks the chosen language, and its Markdown is a table with a row per step', () => {
  const progress = { started: 0, passedAt: new Map<string, number>(), hints: new Map<string, number>() };
  const zh = summarize(lesson, status(0), progress, 'zh');
  assert.equal(zh.steps[0]?.title, lesson.steps[0]?.title.zh);
  const md = summaryMarkdown('A veth pair', summarize(lesson, status(1), { ...progress, passedAt: new Map([[lesson.steps[0]!.id, 12_000]]) }, 'en'));
  const lines = md.split('\n');
  assert.equal(lines[0], '# A veth pair');
  assert.ok(lines.includes('Lab: class-7'));
  assert.ok(lines.includes('| step | title | passed | seconds | hints shown |'));
  assert.ok(lines.includes(`| 1 | ${lesson.steps[0]!.title.en} | yes | 12 | 0 |`), md);
  assert.ok(lines.includes(`| 2 | ${lesson.steps[1]!.title.en} | no | - | 0 |`), md);
  assert.equal(lines.filter((l) => /^\| \d+ \|/.test(l)).length, lesson.steps.length);
});
