/**
 * A lesson's checks judged in one lab: model checks at once from the lab's state,
 * active checks by probes (a few at a time: each is a short process in the lab).
 */
import type { Check, CheckResult, Lesson, LessonStatus, Topology } from '@nslab/model';
import { evaluateModelCheck, isModelCheck } from '@nslab/model';
import { pool } from '../kernel/runner';
import { probe } from './probe';

/** Probes of one lesson that run at once: enough for a step's pings to overlap, few enough for a 2-core machine with a class on it. */
const PROBE_CONCURRENCY = 4;

/** The status with model checks judged now and active ones taken from `previous` (or pending). */
export function modelStatus(lesson: Lesson, lab: string, topology: Topology, previous?: ReadonlyMap<string, CheckResult>): LessonStatus {
  const steps = lesson.steps.map((step) => {
    const checks: CheckResult[] = step.checks.map((check) => {
      if (!isModelCheck(check)) {
        const before = previous?.get(check.id);
        return before ? { ...before, text: check.text } : { id: check.id, text: check.text, passed: null };
      }
      const v = evaluateModelCheck(check, topology);
      return { id: check.id, text: check.text, passed: v.passed, ...(v.passed || v.hint === undefined ? {} : { hint: v.hint }) };
    });
    return { id: step.id, title: step.title, passed: checks.every((c) => c.passed === true), checks };
  });
  return { lesson: lesson.id, lab, steps, passed: steps.every((s) => s.passed) };
}

/**
 * Every check judged: model checks from `topology`, active checks by probes in the lab.
 * An aborted `signal` kills the probes in flight and starts no more; the status is then
 * unfinished and only good for throwing away.
 */
export async function evaluateLesson(lesson: Lesson, lab: string, topology: Topology, signal?: AbortSignal): Promise<LessonStatus> {
  const status = modelStatus(lesson, lab, topology);
  const active: { check: Check; result: CheckResult }[] = [];
  lesson.steps.forEach((step, i) => step.checks.forEach((check, j) => {
    if (!isModelCheck(check)) active.push({ check, result: status.steps[i]?.checks[j] as CheckResult });
  }));
  await pool(active, PROBE_CONCURRENCY, async ({ check, result }) => {
    const v = await probe(check as Parameters<typeof probe>[0], lab, topology, signal).catch((e: Error) => ({ passed: false, hint: `the probe failed: ${e.message}` }));
    result.passed = v.passed;
    if (!v.passed && v.hint !== undefined) result.hint = v.hint;
    else delete result.hint;
  }, signal);
  for (const step of status.steps) step.passed = step.checks.every((c) => c.passed === true);
  status.passed = status.steps.every((s) => s.passed);
  return status;
}
