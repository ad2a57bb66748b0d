/**
 * The one door to a process: argv only, typed failures, and input that may arrive
 * after the process has started.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, pool, run, runSync, start, startShell } from './runner';

describe('run', () => {
  test('an aborted signal kills the command and run rejects, instead of waiting for it to end', async () => {
    const controller = new AbortController();
    const done = run(['sleep', '600'], { signal: controller.signal, allowFailure: true });
    setImmediate(() => controller.abort());
    await assert.rejects(done, (e: unknown) => e instanceof CommandError && /aborted/.test(e.message));
    await assert.rejects(run(['true'], { signal: controller.signal }), /aborted before it started/);
  });

  test('pool starts no more tasks once its signal is aborted', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    await pool([1, 2, 3, 4, 5], 1, (n) => {
      started.push(n);
      if (n === 2) controller.abort();
      return Promise.resolve();
    }, controller.signal);
    assert.deepEqual(started, [1, 2]);
  });

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

describe('start', () => {
  test('refuses an empty argv or a word with a NUL or newline before anything runs', () => {
    assert.throws(() => start([]), /empty argv/);
    assert.throws(() => start(['echo', 'a\nb']), /NUL or newline/);
    assert.throws(() => start(['echo', 'a\0b']), /NUL or newline/);
  });

  test('a failing child ends with a CommandError carrying its argv, exit code and kept stderr, which is also logged', async () => {
    const logged: string[] = [];
    const started = start(['ls', '/nslab-no-such-path'], { log: (line) => logged.push(line) });
    const err = await started.ended;
    assert.ok(err instanceof CommandError);
    assert.deepEqual(err.argv.slice(-2), ['ls', '/nslab-no-such-path']);
    assert.notEqual(err.code, 0);
    assert.match(err.stderr, /nslab-no-such-path/);
    assert.match(started.stderr(), /nslab-no-such-path/);
    assert.ok(logged.some((l) => /nslab-no-such-path/.test(l)));
  });

  test('a child gets exactly the environment given, and writes to a file descriptor given as its stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nslab-runner-'));
    const file = join(dir, 'out');
    const fd = openSync(file, 'a');
    try {
      const started = start(['env'], { stdout: fd, env: { NSLAB_ONLY: 'this' } });
      assert.equal(await started.ended, undefined);
      assert.equal(readFileSync(file, 'utf8'), 'NSLAB_ONLY=this\n');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing program is a CommandError that says so', async () => {
    const err = await start(['nslab-no-such-program'], { dieWithParent: false }).ended;
    assert.ok(err instanceof CommandError);
    assert.match(err.message, /not installed/);
  });

  // The timeout only ends a test whose child outlived its parent (it would wait forever).
  test('the child dies with its parent, even when the parent is killed with SIGKILL', { timeout: 60_000 }, async () => {
    // A parent process that starts `sleep` through start() and prints its pid; then the parent is SIGKILLed.
    const script = `import { start } from ${JSON.stringify(new URL('./runner.ts', import.meta.url).pathname)};
      const s = start(['sleep', '600'], { stdout: 'ignore' });
      console.log(s.child.pid);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      parent.on('exit', () => reject(new Error('the parent exited before starting its child')));
    });
    const alive = () => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
    try {
      // setpriv execs into sleep: wait until the pid runs sleep itself, then kill the parent.
      while (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')) await new Promise((r) => setImmediate(r));
      parent.kill('SIGKILL');
      while (alive()) await new Promise((r) => setTimeout(r, 20));
      assert.equal(alive(), false);
    } finally {
      parent.kill('SIGKILL');
      if (alive()) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('startShell', () => {
  test('refuses an empty argv or a word with a NUL or newline before a shell starts', () => {
    const options = { name: 'xterm-256color', cols: 80, rows: 24, cwd: '/', env: {} };
    assert.throws(() => startShell([], options), /empty argv/);
    assert.throws(() => startShell(['bash', '-c', 'a\nb'], options), /NUL or newline/);
  });
});

describe('runSync', () => {
  test('refuses a word with a newline before anything runs, and a failure is a CommandError with argv, exit code and stderr', () => {
    assert.throws(() => runSync(['echo', 'a\nb']), /NUL or newline/);
    const err = (() => { try { runSync(['ls', '/nslab-no-such-path']); return undefined; } catch (e) { return e; } })();
    assert.ok(err instanceof CommandError, String(err));
    assert.deepEqual(err.argv, ['ls', '/nslab-no-such-path']);
    assert.notEqual(err.code, 0);
    assert.match(err.stderr, /No such file/);
  });
});
