/**
 * Lessons in labs: start one (its start lab, recorded with the learner's values),
 * judge it, apply a step's reference solution, or reset the lab to a step's start.
 * Changes go through the lab service (validate, plan, apply), like any canvas edit;
 * a solution's commands run in their node through the runner.
 */
import type { Edit, Lesson, LessonStatus, PlannedOp, Topology } from '@nslab/model';
import { chooseParams, instantiate, isModelCheck, netnsName, splitCommand, startTopology } from '@nslab/model';
import type { ChangeHooks, LabService } from '../labs/service';
import { LabError } from '../labs/service';
import { observeLab } from '../kernel/observe';
import { run } from '../kernel/runner';
import type { LessonCatalog } from './catalog';
import { brokenSentence } from './catalog';
import { evaluateLesson, modelStatus } from './evaluate';
import type { LessonRecord } from './record';
import { readLessonRecord, writeLessonRecord } from './record';

/** A lesson as it runs in one lab: the lesson instantiated with the learner's values. */
export interface RunningLesson { record: LessonRecord; lesson: Lesson }

/** The engine behind the CLI and the page. */
export class LessonEngine {
  constructor(readonly catalog: LessonCatalog, private readonly labs: LabService) {}

  /** Creates a lesson's start lab and records the lesson in it. */
  async start(id: string, lab: string, options: { params?: Map<string, string>; vary?: boolean } & ChangeHooks = {}): Promise<RunningLesson> {
    const lesson = await this.catalog.get(id);
    if (!lesson) {
      const broken = await this.catalog.brokenFile(id);
      throw new LabError('not-found', broken ? brokenSentence(broken) : `no lesson "${id}" (nslab lesson list shows them)`);
    }
    const chosen = chooseParams(lesson, { ...(options.vary ? { seed: lab } : {}), ...(options.params ? { overrides: options.params } : {}) });
    if (!chosen.ok) throw new LabError('invalid', chosen.problems.map((p) => p.message).join('; '), chosen.problems);
    const record: LessonRecord = { lesson: id, params: Object.fromEntries(chosen.values), started: Date.now() };
    const running = { record, lesson: instantiate(lesson, chosen.values) };
    await this.labs.apply(startTopology(running.lesson, lab), options);
    await writeLessonRecord(lab, record);
    return running;
  }

  /** The lesson running in a lab, or undefined when none was started there. */
  async running(lab: string): Promise<RunningLesson | undefined> {
    const record = await readLessonRecord(lab);
    if (!record) return undefined;
    const lesson = await this.catalog.get(record.lesson);
    if (!lesson) return undefined;
    return { record, lesson: instantiate(lesson, new Map(Object.entries(record.params))) };
  }

  /** The lesson running in a lab, or a not-found error that says how to start one. */
  async require(lab: string): Promise<RunningLesson> {
    const r = await this.running(lab);
    if (!r) throw new LabError('not-found', `no lesson runs in lab ${lab} (nslab lesson start ID --lab ${lab})`);
    return r;
  }

  /** Every check judged once against the kernel. */
  async check(lab: string, topology?: Topology): Promise<LessonStatus> {
    const { lesson } = await this.require(lab);
    return evaluateLesson(lesson, lab, topology ?? (await observeLab(lab)).topology);
  }

  /**
   * Applies the reference solution of step `index` (0-based): its edits through the lab
   * service (one plan), then its commands. A dry run returns the plan and runs nothing.
   */
  async solveStep(lab: string, index: number, options: { dryRun?: boolean } & ChangeHooks = {}): Promise<{ ops: PlannedOp[]; commands: { node: string; argv: string[] }[] }> {
    const { lesson } = await this.require(lab);
    const step = lesson.steps[index];
    if (!step) throw new LabError('invalid', `lesson ${lesson.id} has steps 1 to ${lesson.steps.length}; there is no step ${index + 1}`);
    const edits: Edit[] = [];
    const commands: { node: string; argv: string[] }[] = [];
    for (const item of step.solution ?? []) {
      if ('edit' in item) edits.push(item.edit);
      else {
        const split = splitCommand(item.run);
        if (split.ok) commands.push({ node: item.node, argv: split.argv });
      }
    }
    let ops: PlannedOp[] = [];
    if (edits.length > 0) {
      try {
        ops = (await this.labs.edit(lab, edits, options)).ops;
      } catch (err) {
        // Part of the step was done by hand: apply the edits one by one, skipping what is already there.
        if (!(err instanceof LabError) || err.code !== 'invalid' || options.dryRun) throw err;
        for (const edit of edits) {
          try {
            ops.push(...(await this.labs.edit(lab, [edit], options)).ops);
          } catch (e) {
            if (!(e instanceof LabError) || e.code !== 'invalid' || !/already|exists/.test(e.message)) throw e;
          }
        }
      }
    }
    if (!options.dryRun) {
      for (const c of commands) {
        const r = await run(['ip', 'netns', 'exec', netnsName(lab, c.node), ...c.argv], { timeoutMs: 10_000, allowFailure: true });
        // Creating what is already there (a chain made by hand) is not a failure of the solution.
        if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new LabError('kernel', `${c.argv.join(' ')} in ${c.node} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
      }
    }
    return { ops, commands };
  }

  /** Applies the solutions of steps 0..upTo-1 (every step when upTo is undefined). */
  async solve(lab: string, upTo?: number, hooks: ChangeHooks = {}): Promise<number> {
    const { lesson } = await this.require(lab);
    const last = Math.min(upTo ?? lesson.steps.length, lesson.steps.length);
    for (let i = 0; i < last; i += 1) {
      // A step whose model checks already pass (and that has some) is left alone: its edits would fail as "already exists".
      const step = lesson.steps[i];
      const status = modelStatus(lesson, lab, (await observeLab(lab)).topology).steps[i];
      const judged = step?.checks.map((c, j) => ({ model: isModelCheck(c), passed: status?.checks[j]?.passed === true })).filter((c) => c.model) ?? [];
      if (judged.length > 0 && judged.every((c) => c.passed)) continue;
      await this.solveStep(lab, i, hooks);
    }
    return last;
  }

  /** Restores the lab to where step `index` starts: the start lab, then the solutions of the steps before it. */
  async reset(lab: string, index: number, hooks: ChangeHooks = {}): Promise<void> {
    const { lesson } = await this.require(lab);
    if (index < 0 || index >= lesson.steps.length) throw new LabError('invalid', `lesson ${lesson.id} has steps 1 to ${lesson.steps.length}; there is no step ${index + 1}`);
    await this.labs.apply(startTopology(lesson, lab), hooks);
    await this.solve(lab, index, hooks);
  }
}
