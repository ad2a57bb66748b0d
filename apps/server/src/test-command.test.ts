// The one test command (scripts/test.mjs) is honest about what it ran: a stage name it does not
// know runs nothing and fails with a sentence naming the stages, rather than "0 passed, 0 failed".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../scripts/test.mjs', import.meta.url));

test('a mistyped stage name runs nothing and exits 2 naming the stages', () => {
  const r = spawnSync(process.execPath, [SCRIPT, 'unti'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /unknown stage "unti": the stages are typecheck, .*unit, reliability, e2e/);
  assert.doesNotMatch(r.stdout, /passed/, 'no summary line: nothing ran');
});
