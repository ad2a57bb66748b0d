/**
 * Lesson files: parse, then resolve. A lesson is read once with its parameters'
 * placeholders ({{name}}) intact, validated (every problem with its path), and then
 * instantiated for one learner by substituting their values everywhere.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { core } from 'zod';
import { canonicalIp, parseIp } from '../address';
import { parseTopologyData } from '../file';
import type { Problem } from '../problem';
import { pathOf } from '../problem';
import { parseRoute } from '../route';
import { parseDnatTarget } from '../nat';
import type { Check, RawLesson } from './schema';
import { rawLesson } from './schema';
import { splitCommand } from './command';

/** A lesson as read from its file (placeholders intact) or instantiated for a learner. */
export type Lesson = RawLesson;

/** The result of reading a lesson file. */
export type LessonParse = { ok: true; lesson: Lesson } | { ok: false; problems: Problem[] };

/** A placeholder in lesson text: {{name}}. */
const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;

/** Reads a lesson file (YAML) and validates it, reporting every problem with its path. */
export function parseLesson(text: string): LessonParse {
  let data: unknown;
  try {
    data = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0];
      return { ok: false, problems: [{ path: '', message: `the lesson is not valid YAML${line ? ` (line ${line.line}, column ${line.col})` : ''}: ${err.message.split('\n')[0]}` }] };
    }
    throw err;
  }
  return parseLessonData(data);
}

/** Validates already-decoded lesson data. */
export function parseLessonData(data: unknown): LessonParse {
  const parsed = rawLesson.safeParse(data);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(schemaProblem) };
  const lesson = parsed.data;
  const problems: Problem[] = [];
  const params = new Set(Object.keys(lesson.params ?? {}));
  // Every placeholder names a parameter.
  walkStrings(lesson, [], (value, path) => {
    for (const m of value.matchAll(PLACEHOLDER)) {
      if (!params.has(m[1] as string)) problems.push({ path: pathOf(...path), message: `{{${m[1]}}} is not a parameter of this lesson: add it under params or fix the spelling` });
    }
  });
  for (const [name, param] of Object.entries(lesson.params ?? {})) {
    if (param.choices && !param.choices.includes(param.default)) problems.push({ path: pathOf('params', name, 'default'), message: `the default "${param.default}" is not one of the choices: add it to choices` });
  }
  if (problems.length > 0) return { ok: false, problems };
  // The rest is judged on the lesson as a learner with the defaults gets it.
  const resolved = instantiate(lesson, defaults(lesson));
  if ('name' in resolved.start) problems.push({ path: 'start.name', message: 'the start topology takes its name from the lab: remove "name"' });
  const start = parseTopologyData({ ...resolved.start, name: 'lesson' });
  if (!start.ok) for (const p of start.problems) problems.push({ path: p.path ? `start.${p.path}` : 'start', message: p.message });
  const stepIds = new Set<string>();
  const checkIds = new Set<string>();
  resolved.steps.forEach((step, i) => {
    if (stepIds.has(step.id)) problems.push({ path: pathOf('steps', i, 'id'), message: `step id "${step.id}" is used twice: every step needs its own` });
    stepIds.add(step.id);
    step.checks.forEach((check, j) => {
      const at = (...rest: (string | number)[]) => pathOf('steps', i, 'checks', j, ...rest);
      if (checkIds.has(check.id)) problems.push({ path: at('id'), message: `check id "${check.id}" is used twice in this lesson: every check needs its own` });
      checkIds.add(check.id);
      problems.push(...checkProblems(check, at));
    });
    (step.solution ?? []).forEach((item, j) => {
      if (!('run' in item)) return;
      const split = splitCommand(item.run);
      if (!split.ok) problems.push({ path: pathOf('steps', i, 'solution', j, 'run'), message: split.message });
    });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, lesson };
}

/** What is wrong with one check's values (addresses, routes, patterns), each with its path. */
function checkProblems(check: Check, at: (...rest: (string | number)[]) => string): Problem[] {
  const out: Problem[] = [];
  const ip = (key: string, value: string) => {
    if (!parseIp(value)) out.push({ path: at(key), message: `"${value}" is not an IP address` });
  };
  switch (check.kind) {
    case 'route':
      if (check.route === undefined && check.to === undefined) out.push({ path: at('route'), message: 'a route check needs "route" (in ip route syntax) or "to" (an address it must reach)' });
      if (check.route !== undefined) {
        const r = parseRoute(check.route);
        if (!r.ok) out.push({ path: at('route'), message: r.message });
      }
      if (check.to !== undefined) ip('to', check.to);
      break;
    case 'reach':
    case 'no-reach':
      ip('to', check.to);
      break;
    case 'packet':
      ip('ping.to', check.ping.to);
      break;
    case 'tcp': {
      const target = parseDnatTarget(check.to);
      if (!target || target.port === undefined) out.push({ path: at('to'), message: `"${check.to}" is not ADDRESS:PORT, e.g. 203.0.113.2:80` });
      break;
    }
    case 'output': {
      const split = splitCommand(check.command);
      if (!split.ok) out.push({ path: at('command'), message: split.message });
      try {
        new RegExp(check.pattern);
      } catch (err) {
        out.push({ path: at('pattern'), message: `the pattern is not a regular expression: ${err instanceof Error ? err.message : String(err)}` });
      }
      break;
    }
    case 'address':
      if (!check.address.includes('/') || canonicalIp(check.address.split('/')[0] ?? '') === undefined) out.push({ path: at('address'), message: `"${check.address}" is not an address in CIDR form, e.g. 172.18.0.2/24` });
      break;
    default:
      break;
  }
  return out;
}

/** The default value of every parameter. */
export function defaults(lesson: Lesson): Map<string, string> {
  return new Map(Object.entries(lesson.params ?? {}).map(([k, p]) => [k, p.default]));
}

/**
 * A learner's values: the defaults, each replaced by a choice picked from a seed (a
 * learner's or lab's name) when `vary` is set, then by explicit overrides. A value
 * given for a parameter must be one of its choices, when it has choices.
 */
export function chooseParams(lesson: Lesson, options: { seed?: string; overrides?: Map<string, string> } = {}): { ok: true; values: Map<string, string> } | { ok: false; problems: Problem[] } {
  const values = defaults(lesson);
  const problems: Problem[] = [];
  const params = new Map(Object.entries(lesson.params ?? {}));
  if (options.seed !== undefined) {
    for (const [name, p] of params) {
      const choices = p.choices ?? [p.default];
      values.set(name, choices[hash(`${options.seed}/${name}`) % choices.length] as string);
    }
  }
  for (const [name, value] of options.overrides ?? new Map<string, string>()) {
    const p = params.get(name);
    if (!p) problems.push({ path: `params.${name}`, message: `lesson ${lesson.id} has no parameter "${name}"${params.size > 0 ? ` (it has ${[...params.keys()].join(', ')})` : ''}` });
    else if (p.choices && !p.choices.includes(value)) problems.push({ path: `params.${name}`, message: `"${value}" is not a value of ${name}: choose one of ${p.choices.join(', ')}` });
    else values.set(name, value);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values };
}

/** FNV-1a: a stable small hash, so a learner gets the same values every time. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The lesson with every placeholder replaced by the learner's value. */
export function instantiate(lesson: Lesson, values: ReadonlyMap<string, string>): Lesson {
  const sub = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(PLACEHOLDER, (whole, name: string) => values.get(name) ?? whole);
    if (Array.isArray(v)) return v.map(sub);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const [k, x] of Object.entries(v)) out[k] = sub(x);
      return { ...out };
    }
    return v;
  };
  return sub(lesson) as Lesson;
}

/** The start topology of an instantiated lesson, as a topology file's data named for the lab. */
export function startTopology(lesson: Lesson, lab: string): Record<string, unknown> {
  return { ...lesson.start, name: lab, description: lesson.summary.en };
}

function walkStrings(v: unknown, path: (string | number)[], visit: (value: string, path: (string | number)[]) => void): void {
  if (typeof v === 'string') visit(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => walkStrings(x, [...path, i], visit));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walkStrings(x, [...path, k], visit);
}

function schemaProblem(issue: core.$ZodIssue): Problem {
  const path = pathOf(...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
  switch (issue.code) {
    case 'unrecognized_keys':
      return { path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling` };
    case 'invalid_type':
      return { path, message: issue.input === undefined ? `${path || 'the lesson'} is missing` : `${path || 'the lesson'} should be ${issue.expected === 'object' || issue.expected === 'record' ? 'a mapping' : issue.expected === 'array' ? 'a list' : issue.expected}` };
    case 'invalid_union':
      return { path, message: path.includes('solution') ? 'a solution item is either {edit: {...}} or {node: NODE, run: COMMAND}' : `not a known kind here: check "kind"` };
    default:
      return { path, message: issue.message };
  }
}
