/**
 * A lessons folder with one good and one broken lesson: the broken file is refused
 * with its name and every problem's path (an unknown key, a check kind that does not
 * exist), the good lesson is still listed and can be asked for, and both the command
 * line and the engine say so in one sentence instead of crashing. No kernel needed:
 * nothing here gets as far as a lab.
 */
import { after, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabService } from '../labs/service';
import { EXAMPLES } from '../../test-kit/lab';
import { LabError } from '../labs/service';
import { LessonCatalog } from './catalog';
import { lessonCommand, LESSONS_DIR } from './cli';
import { LessonEngine } from './engine';

const dir = mkdtempSync(join(tmpdir(), 'nslab-lessons-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The good lesson is a bundled one, as is; the broken one is the router lesson with two mistakes.
writeFileSync(join(dir, 'veth-pair.yaml'), readFileSync(join(LESSONS_DIR, 'veth-pair.yaml'), 'utf8'));
const router = readFileSync(join(LESSONS_DIR, 'router.yaml'), 'utf8');
assert.match(router, /^id: router$/m);
assert.match(router, /kind: reach/);
writeFileSync(join(dir, 'router.yaml'), router.replace(/^id: router$/m, 'id: router\ncolour: blue').replace('kind: reach', 'kind: pingable'));

/** Runs `nslab lesson ARGS` on the folder, with what it printed. */
async function cli(t: TestContext, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  t.mock.method(console, 'log', (...a: unknown[]) => { out += `${a.join(' ')}\n`; });
  t.mock.method(console, 'error', (...a: unknown[]) => { err += `${a.join(' ')}\n`; });
  try {
    const code = await lessonCommand(args, dir);
    return { code, out, err };
  } finally {
    t.mock.restoreAll();
  }
}

describe('a lessons folder with a broken lesson', () => {
  const catalog = new LessonCatalog(dir);

  test('the broken file is refused with its name and the path of each problem; the good lesson is listed', async () => {
    assert.deepEqual((await catalog.list()).map((l) => l.id), ['veth-pair']);
    const broken = await catalog.broken();
    assert.equal(broken.length, 1);
    assert.equal(broken[0]?.file, 'router.yaml');
    const problems = broken[0]?.problems ?? [];
    assert.ok(problems.some((p) => p.path === '' && /unknown key "colour"/.test(p.message)), JSON.stringify(problems));
    assert.ok(problems.some((p) => p.path === 'steps[1].checks[1].kind' && /not a known kind/.test(p.message)), JSON.stringify(problems));
  });

  test('nslab lesson list lists the good lesson and says in one line why the broken one is not offered', async (t) => {
    const r = await cli(t, 'list');
    assert.equal(r.code, 0);
    assert.equal(r.out, 'veth-pair\tA veth pair between two namespaces\n');
    const lines = r.err.trim().split('\n');
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0] ?? '', /^nslab: lesson file router\.yaml is not offered: /);
    assert.match(lines[0] ?? '', /\(file\): unknown key "colour"/);
    assert.match(lines[0] ?? '', /steps\[1\]\.checks\[1\]\.kind: not a known kind/);
  });

  test('starting the broken lesson is refused with the same sentence; nothing is applied', async (t) => {
    const engine = new LessonEngine(catalog, new LabService(EXAMPLES));
    await assert.rejects(engine.start('router', 'les-never-made'), (err: unknown) => err instanceof LabError && err.code === 'not-found' && /^lesson file router\.yaml is not offered: /.test(err.message));
    const r = await cli(t, 'start', 'router', '--lab', 'les-never-made');
    assert.equal(r.code, 1);
    assert.match(r.err, /^nslab: lesson file router\.yaml is not offered: .*colour/);
  });
});
