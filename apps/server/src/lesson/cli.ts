/**
 * `nslab lesson ...`: list the lessons, start one in a lab, check it, solve it.
 * The JSON shapes and exit codes are an interface (tests and graders use them):
 *   list --json   [{"id", "title"}]
 *   check --json  {"lesson", "steps": [{"id", "title", "passed", "checks": [{"id", "text", "passed", "hint"}]}]}
 *   check exits 0 when every check passed, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import type { LessonStatus } from '@nslab/model';
import { nameProblem } from '@nslab/model';
import { LabError, LabService } from '../labs/service';
import { brokenSentence, LessonCatalog } from './catalog';
import { LessonEngine } from './engine';
import { REPO_DIR } from '../paths';


/** The folder of bundled lessons. */
export const LESSONS_DIR = join(REPO_DIR, 'lessons');

/** Usage lines of the lesson commands, for the CLI's help. */
export const LESSON_USAGE = `  lesson list [--json]          the lessons
  lesson start ID [--lab NAME] [--param K=V]... [--vary]
                                create a lesson's start lab (named ID unless --lab; --vary picks this lab's own values)
  lesson check LAB [--json]     judge every check of the lesson in LAB once (exit 0 when all pass)
  lesson solve LAB [--step N]   apply the reference solution up to step N (every step without --step)`;

/** A reason to stop, printed as one line by the CLI. */
export class LessonUsageError extends Error {}

/** Arguments a subcommand does not take (exit 2, before anything runs). */
class LessonArgumentError extends Error {}

/** Each subcommand's options, for node:util parseArgs in strict mode, and how many words it takes. */
const SUBCOMMANDS: Record<string, { options: NonNullable<Parameters<typeof parseArgs>[0]>['options']; words: [number, number] }> = {
  list: { options: { json: { type: 'boolean' } }, words: [0, 0] },
  start: { options: { lab: { type: 'string' }, param: { type: 'string', multiple: true }, vary: { type: 'boolean' } }, words: [1, 1] },
  check: { options: { json: { type: 'boolean' } }, words: [1, 1] },
  solve: { options: { step: { type: 'string' } }, words: [1, 1] },
};

/** A subcommand's arguments read strictly: an unknown flag, a missing value or a stray word stops it (exit 2) before anything runs. */
function parseSub(sub: string, args: string[]): { values: Record<string, string | boolean | string[] | undefined>; words: string[] } | undefined {
  const spec = SUBCOMMANDS[sub];
  if (!spec) throw new LessonArgumentError(`usage:\n${LESSON_USAGE}`);
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...spec.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (err) {
    const text = err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
    throw new LessonArgumentError(`${text.replace(/\. To specify a positional argument.*$/, '')} (nslab lesson --help lists what it takes)`);
  }
  if (parsed.values.help) return undefined;
  const [min, max] = spec.words;
  if (parsed.positionals.length > max) throw new LessonArgumentError(`nslab lesson ${sub} does not take "${parsed.positionals[max]}" (nslab lesson --help lists what it takes)`);
  if (parsed.positionals.length < min) throw new LessonArgumentError(`usage:\n${LESSON_USAGE}`);
  return { values: parsed.values, words: parsed.positionals };
}

function labName(lab: string | undefined): string {
  if (!lab) throw new LessonUsageError('name a lab (nslab list shows them)');
  const problem = nameProblem(lab, 'lab');
  if (problem) throw new LessonUsageError(problem);
  return lab;
}

/** The check's JSON, in the documented shape (English text). */
export function statusJson(status: LessonStatus): unknown {
  return {
    lesson: status.lesson,
    steps: status.steps.map((s) => ({
      id: s.id, title: s.title.en, passed: s.passed,
      checks: s.checks.map((c) => ({ id: c.id, text: c.text.en, passed: c.passed === true, hint: c.passed === true ? null : (c.hint ?? null) })),
    })),
  };
}

/** Runs `nslab lesson ARGS`; resolves with the exit status. */
export async function lessonCommand(args: string[], dir: string = LESSONS_DIR): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(`usage:\n${LESSON_USAGE}`);
    return sub === undefined ? 2 : 0;
  }
  let parsed;
  try {
    parsed = parseSub(sub, rest);
  } catch (err) {
    if (!(err instanceof LessonArgumentError)) throw err;
    console.error(`nslab: ${err.message}`);
    return 2;
  }
  if (!parsed) {
    console.log(`usage:\n${LESSON_USAGE}`);
    return 0;
  }
  const { values, words } = parsed;
  const catalog = new LessonCatalog(dir);
  const engine = new LessonEngine(catalog, new LabService(join(REPO_DIR, 'examples')));
  const json = values['json'] === true;
  try {
    switch (sub) {
      case 'list': {
        const lessons = await catalog.list();
        for (const b of await catalog.broken()) console.error(`nslab: ${brokenSentence(b)}`);
        if (json) console.log(JSON.stringify(lessons.map((l) => ({ id: l.id, title: l.title.en }))));
        else for (const l of lessons) console.log(`${l.id}\t${l.title.en}`);
        return 0;
      }
      case 'start': {
        const [id] = words;
        if (!id) throw new LessonUsageError('name a lesson: nslab lesson start ID (nslab lesson list shows them)');
        const lab = labName((values['lab'] as string | undefined) ?? id);
        const params = new Map<string, string>();
        for (const kv of (values['param'] as string[] | undefined) ?? []) {
          const eq = kv.indexOf('=');
          if (eq <= 0) throw new LessonUsageError(`--param takes NAME=VALUE, not "${kv}"`);
          params.set(kv.slice(0, eq), kv.slice(eq + 1));
        }
        const running = await engine.start(id, lab, { params, vary: values['vary'] === true });
        const chosen = Object.entries(running.record.params).map(([k, v]) => `${k}=${v}`).join(' ');
        console.log(`lesson ${id} started in lab ${lab}${chosen ? ` (${chosen})` : ''}: ${running.lesson.steps.length} steps; nslab lesson check ${lab}`);
        return 0;
      }
      case 'check': {
        const lab = labName(words[0]);
        const status = await engine.check(lab);
        if (json) console.log(JSON.stringify(statusJson(status)));
        else {
          status.steps.forEach((s, i) => {
            console.log(`${s.passed ? 'PASS' : 'FAIL'} step ${i + 1} ${s.id}: ${s.title.en}`);
            for (const c of s.checks) {
              console.log(`  ${c.passed ? 'ok  ' : 'FAIL'} ${c.text.en}`);
              if (c.passed !== true && c.hint) console.log(`       hint: ${c.hint}`);
            }
          });
        }
        return status.passed ? 0 : 1;
      }
      case 'solve': {
        const lab = labName(words[0]);
        const stepText = values['step'] as string | undefined;
        const step = stepText === undefined ? undefined : Number(stepText);
        if (step !== undefined && (!Number.isInteger(step) || step < 1)) throw new LessonUsageError('--step takes a step number, 1 for the first');
        const done = await engine.solve(lab, step);
        console.log(`applied the solution of step${done === 1 ? '' : 's'} 1${done > 1 ? `-${done}` : ''} in lab ${lab}`);
        return 0;
      }
      default:
        throw new LessonUsageError(`usage:\n${LESSON_USAGE}`);
    }
  } catch (err) {
    if (err instanceof LessonUsageError) console.error(`nslab: ${err.message}`);
    else if (err instanceof LabError) {
      console.error(`nslab: ${err.message}`);
      for (const p of err.problems ?? []) console.error(`  ${p.path}: ${p.message}`);
    } else throw err;
    return 1;
  }
}
