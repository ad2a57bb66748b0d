/**
 * The one door to a process: argv only, typed failures, and input that may arrive
 * after the process has started.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, run } from './runner';

describe('run', () => {
  test('input given as a promise reaches the command once it resolves', async () => {
    let give: (text: string) => void = () => undefined;
    const input = new Promise<string>((ok) => { give = ok; });
    const done = run(['cat'], { input });
    setTimeout(() => give('late line\n'), 50);
    const out = await done;
    assert.equal(out.stdout, 'late line\n');
    assert.deepEqual([...out.raw], [...Buffer.from('late line\n')]);
  });

  test('input that fails leaves the command with nothing to read, and run fails with that error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nslab-runner-'));
    try {
      const file = join(dir, 'stdin');
      const input = Promise.reject(new Error('ownership could not be read'));
      // tee writes what it was given to the file: nothing at all, and it exited.
      await assert.rejects(run(['tee', file], { input }), /ownership could not be read/);
      assert.equal(readFileSync(file, 'utf8'), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failing command is a CommandError with its argv, exit code and stderr', async () => {
    const err = await run(['ls', '/nslab-no-such-path'], {}).catch((e: unknown) => e);
    assert.ok(err instanceof CommandError);
    assert.deepEqual(err.argv, ['ls', '/nslab-no-such-path']);
    assert.notEqual(err.code, 0);
    assert.match(err.stderr, /No such file/);
  });

  test('an argument holding a newline is refused before anything runs', () => {
    assert.throws(() => run(['echo', 'a\nb']), /NUL or newline/);
  });
});
