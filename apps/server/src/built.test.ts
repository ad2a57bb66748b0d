// The built CLI: `nslab` runs the bundle while it is current and the sources once one of them
// is newer (bin/built.mjs), and the bundle itself finds nslab's files (lessons, examples, the
// namespace reader) from apps/server/dist as the sources do from apps/server/src.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs module of the bin folder, without types
import { currentBuild } from '../bin/built.mjs';

const current = currentBuild as (repo: string) => string | undefined;
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

test('the bundle runs only while no source it was built from is newer, or missing', () => {
  const repo = mkdtempSync(join(tmpdir(), 'nslab-built-'));
  try {
    assert.equal(current(repo), undefined, 'no build');
    mkdirSync(join(repo, 'apps/server/dist'), { recursive: true });
    mkdirSync(join(repo, 'packages/model/src'), { recursive: true });
    const source = join(repo, 'packages/model/src/a.ts');
    const bundle = join(repo, 'apps/server/dist/nslab.mjs');
    writeFileSync(source, 'export {}\n');
    writeFileSync(bundle, '');
    assert.equal(current(repo), undefined, 'no inputs.json');
    writeFileSync(join(repo, 'apps/server/dist/inputs.json'), JSON.stringify(['packages/model/src/a.ts']));
    const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
    at(source, 1000);
    at(bundle, 2000);
    assert.equal(current(repo), bundle, 'built after its source');
    at(source, 3000);
    assert.equal(current(repo), undefined, 'a source edited since');
    at(source, 1000);
    rmSync(source);
    assert.equal(current(repo), undefined, 'a source removed since');
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('the built bundle finds the lessons and examples, and answers like the sources', () => {
  const built = spawnSync(process.execPath, [join(REPO, 'apps/server/build.mjs')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  assert.equal(current(REPO), join(REPO, 'apps/server/dist/nslab.mjs'), 'just built, so current');
  // Run the bundle directly (not through bin/nslab.mjs, which could fall back to the sources).
  const run = (args: string[]) => spawnSync(process.execPath, ['--input-type=module', '-e',
    `const { main } = await import(${JSON.stringify(join(REPO, 'apps/server/dist/nslab.mjs'))}); process.exitCode = await main(${JSON.stringify(args)});`], { encoding: 'utf8' });
  const lessons = run(['lesson', 'list', '--json']);
  assert.equal(lessons.status, 0, lessons.stderr);
  const ids = (JSON.parse(lessons.stdout) as Array<{ id: string }>).map((l) => l.id);
  assert.ok(ids.includes('veth-pair') && ids.includes('k8s-service'), ids.join(', '));
  const dry = run(['apply', join(REPO, 'examples/bridge.yaml'), '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /ip netns add|nslab-nsread/, 'the plan of the bundled example');
  const help = run(['serve', '--help']);
  assert.match(help.stdout, /^usage: nslab serve/);
});
