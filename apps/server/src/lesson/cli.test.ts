// `nslab lesson` as a grader or a learner's script runs it, through the real command on the real
// kernel: list (--json), start (the lab named after the lesson unless --lab; --vary chooses the
// lab's own values), check --json (the documented shape; exit 1 until every check passes),
// solve --step N and solve. Labs named le-cli-*, destroyed afterwards. Needs root.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanup, uniqueLab } from '../../test-kit/lab';

const NSLAB = fileURLToPath(new URL('../../bin/nslab.mjs', import.meta.url));
const made: string[] = [];
after(() => cleanup(...made));

function nslab(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [NSLAB, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface CheckJson { lesson: string; steps: { id: string; title: string; passed: boolean; checks: { id: string; text: string; passed: boolean; hint: string | null }[] }[] }

describe('nslab lesson', () => {
  test('list --json names every lesson with its English title', () => {
    const r = nslab('lesson', 'list', '--json');
    assert.equal(r.code, 0, r.err);
    const lessons = JSON.parse(r.out) as { id: string; title: string }[];
    assert.ok(lessons.some((l) => l.id === 'veth-pair' && l.title === 'A veth pair between two namespaces'), r.out);
    assert.equal(lessons.length, 10);
  });

  test('start --lab, check --json (failing, then passing), solve --step N, solve', () => {
    const lab = uniqueLab('le-cli');
    made.push(lab);
    const started = nslab('lesson', 'start', 'router', '--lab', lab);
    assert.equal(started.code, 0, started.err);
    assert.match(started.out, new RegExp(`^lesson router started in lab ${lab}`));

    const before = nslab('lesson', 'check', lab, '--json');
    assert.equal(before.code, 1, 'exit 1 while a check fails');
    const status = JSON.parse(before.out) as CheckJson;
    assert.equal(status.lesson, 'router');
    const failing = status.steps.flatMap((s) => s.checks).filter((c) => !c.passed);
    assert.ok(failing.length > 0);
    for (const c of failing) assert.equal(typeof c.hint === 'string' || c.hint === null, true);
    for (const s of status.steps) for (const c of s.checks) assert.deepEqual(Object.keys(c).sort(), ['hint', 'id', 'passed', 'text']);

    const one = nslab('lesson', 'solve', lab, '--step', '1');
    assert.equal(one.code, 0, one.err);
    assert.equal(one.out.trim(), `applied the solution of step 1 in lab ${lab}`);
    const afterOne = JSON.parse(nslab('lesson', 'check', lab, '--json').out) as CheckJson;
    assert.equal(afterOne.steps[0]?.passed, true, JSON.stringify(afterOne.steps[0]));

    const all = nslab('lesson', 'solve', lab);
    assert.equal(all.code, 0, all.err);
    const done = nslab('lesson', 'check', lab, '--json');
    assert.equal(done.code, 0, done.out);
    assert.ok((JSON.parse(done.out) as CheckJson).steps.every((s) => s.passed));
  });

  test('start without --lab names the lab after the lesson; --vary chooses values the solution still passes with', () => {
    // A lesson's own name as the lab: only when no such lab is on this machine (nothing of anyone else's is touched).
    const named = nslab('list');
    if (!/^veth-pair\t/m.test(named.out)) {
      made.push('veth-pair');
      const r = nslab('lesson', 'start', 'veth-pair');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^lesson veth-pair started in lab veth-pair/);
    }
    const lab = uniqueLab('le-cli');
    made.push(lab);
    const varied = nslab('lesson', 'start', 'veth-pair', '--lab', lab, '--vary');
    assert.equal(varied.code, 0, varied.err);
    const net = /\(net=(172\.18\.\d)\)/.exec(varied.out)?.[1];
    assert.ok(net, varied.out);
    assert.equal(nslab('lesson', 'solve', lab).code, 0);
    const done = nslab('lesson', 'check', lab, '--json');
    assert.equal(done.code, 0, done.out);
    assert.ok(done.out.includes(`${net}.2/24`), 'the checks speak the chosen subnet');
  });
});
