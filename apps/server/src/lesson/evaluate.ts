/**
 * A lesson's checks judged in one lab: model checks at once from the lab's state,
 * active checks by probes (a few at a time: each is a short process in the lab).
 */
import type { Check, CheckResult, Lesson, LessonStatus, Topology } from '@nslab/model';
import { evaluateModelCheck, isModelCheck } from '@nslab/model';
import { pool } from '../kernel/runner';
import { probe, traceHint } from './probe';

/** Failing reach/tcp checks traced per round: each trace captures in every namespace of the lab, so the learner's current step gets them, a few at most. */
const MAX_TRACED = 2;

/** Labs with a hint's trace in flight: a round ended by a change does not wait for its trace, and no second one starts beside it. */
const tracing = new Set<string>();

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
export async function evaluateLesson(lesson: Lesson, lab: string, topology: Topology, signal?: AbortSignal, options: { explain?: boolean } = {}): Promise<LessonStatus> {
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
  if (options.explain !== false) await explainFailures(lesson, lab, topology, status, signal);
  return status;
}

/** The checks whose failure a trace of one packet explains: a ping, one TCP connection (not a service's balance over many, which one connection cannot show). */
function explainedByTrace(check: Check): boolean {
  return check.kind === 'reach' || (check.kind === 'tcp' && (check.requests ?? 1) === 1);
}

/**
 * Replaces the hints of the failing reach and tcp checks of the first step not passed
 * (the learner's) with a trace's account of why the packet is lost, in the
 * kernel's words (forwarding off, no route back, an unanswered ARP, rp_filter, a rule
 * that dropped it). A tcp check keeps the probe's reading of the lab's NAT after it (a
 * service's missing DNAT is said there); the probe's hint stays whole when the trace
 * cannot tell. True when a hint changed. With `settleMs`, the lab must first stay
 * unchanged that long. An aborted `signal` returns at once (a trace under way finishes
 * on its own).
 */
export async function explainFailures(lesson: Lesson, lab: string, topology: Topology, status: LessonStatus, signal?: AbortSignal, options: { settleMs?: number } = {}): Promise<boolean> {
  if (tracing.has(lab)) return false;
  // The learner's step only: a later step's packets fail because of this one, and tracing them would only load the machine.
  const at = status.steps.findIndex((s) => !s.passed);
  const failing = (lesson.steps[at]?.checks ?? [])
    .map((check, j) => ({ check, result: status.steps[at]?.checks[j] }))
    .filter((c): c is { check: Extract<Check, { kind: 'reach' | 'tcp' }>; result: CheckResult } => explainedByTrace(c.check) && c.result?.passed === false)
    .slice(0, MAX_TRACED);
  if (failing.length === 0) return false;
  if (options.settleMs) {
    // A lab still changing (a learner typing the fix) is not traced: a change ends the wait, and no trace's processes compete with the fix.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.settleMs);
      signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
    if (signal?.aborted || tracing.has(lab)) return false;
  }
  tracing.add(lab);
  const traced = (async () => {
    const hints: (string | undefined)[] = [];
    try {
      for (const { check } of failing) hints.push(await traceHint(check, lab, topology).catch(() => undefined));
    } finally {
      tracing.delete(lab);
    }
    return hints;
  })();
  const aborted = new Promise<undefined>((resolve) => {
    if (signal?.aborted) resolve(undefined);
    signal?.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  const hints = await Promise.race([traced, aborted]);
  if (!hints || signal?.aborted) return false;
  let changed = false;
  failing.forEach(({ check, result }, i) => {
    const cause = hints[i];
    const hint = cause === undefined || check.kind === 'reach' || result.hint === undefined || cause.includes(result.hint) ? cause : `${cause}; ${result.hint}`;
    if (hint !== undefined && hint !== result.hint) {
      result.hint = hint;
      changed = true;
    }
  });
  return changed;
}
