// The CLI's argument parsing, through the real `nslab` command: unknown flags are refused with a
// sentence and exit 2 before anything runs (a typo in `apply --dry-run` must not touch the
// kernel), every command has --help, and `nslab list` into a closed pipe ends quietly. Needs root
// for the kernel check (the lab named in the file must not appear in /run/netns).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netnsName } from '@nslab/model';
import { cleanup, uniqueLab } from '../test-kit/lab';

const NSLAB = fileURLToPath(new URL('../bin/nslab.mjs', import.meta.url));

function nslab(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [NSLAB, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('nslab command line', () => {
  it('refuses an unknown flag with a sentence and exit 2, before touching the kernel', async () => {
    const lab = uniqueLab('hd-cli');
    const dir = mkdtempSync(join(tmpdir(), 'hd-cli-'));
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, `name: ${lab}\nnodes:\n  a: {}\n`);
    try {
      const r = nslab(['apply', file, '--dryrun']);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^nslab: Unknown option '--dryrun'.*nslab apply --help/);
      assert.equal(r.err.trim().split('\n').length, 1, 'one line');
      assert.ok(!existsSync(`/run/netns/${netnsName(lab, 'a')}`), 'nothing was created');
      for (const args of [
        ['list', '--all'], ['destroy', lab, '--force'], ['show'], ['apply', file, 'extra'], ['serve', '--prot', '1'], ['exec', lab, 'a', 'ip', 'a'],
        ['trace', lab, 'a', '10.0.0.1', '--tpc', '80'], ['trace', lab, 'a'], ['trace', lab, 'a', '10.0.0.1', 'extra'], ['trace', lab, 'a', '10.0.0.1', '--tcp'],
        ['lesson', 'list', '--bogus'], ['lesson', 'start', 'veth-pair', '--lab'], ['lesson', 'check', lab, 'extra'], ['lesson', 'solve', lab, '--stpe', '1'], ['lesson', 'nonsense'],
      ]) {
        const refused = nslab(args);
        assert.equal(refused.code, 2, `${args.join(' ')}: ${refused.err}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cleanup(lab);
    }
  });

  it('every command has --help, which runs nothing', () => {
    for (const command of ['apply', 'show', 'export', 'exec', 'trace', 'destroy', 'list', 'serve']) {
      const r = nslab([command, '--help']);
      assert.equal(r.code, 0, `${command}: ${r.err}`);
      assert.match(r.out, new RegExp(`^usage: nslab ${command}`), command);
    }
    for (const args of [['lesson', '--help'], ['lesson', 'list', '--help'], ['lesson', 'start', '--help'], ['lesson', 'check', '-h']]) {
      const r = nslab(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.match(r.out, /lesson start ID/, args.join(' '));
    }
  });

  it('nslab list into a pipe closed early ends without a stack trace', async () => {
    const child = spawn(process.execPath, [NSLAB, 'list'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // like `| head -0`: the reader is gone before the first line
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    assert.doesNotMatch(err, /EPIPE|at .*\(/, err);
    assert.equal(code, 0);
  });

  it('a server that cannot start (its port taken, its default lab broken) exits 1 with one sentence', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = String((blocker.address() as AddressInfo).port);
    const dir = mkdtempSync(join(tmpdir(), 'hd-cli-'));
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'name: hd-broken\nnodes:\n  a: { interfaces: { eth0: { addresses: [10.0.0.300/24] } } }\n');
    try {
      const busy = nslab(['serve', '--port', port, '--no-default-lab', '--token', 'a-long-random-test-token-0123456789']);
      assert.equal(busy.code, 1, busy.err);
      assert.match(busy.err, new RegExp(`port ${port}`), busy.err);
      const lab = nslab(['serve', '--port', '0', '--default-lab', broken, '--token', 'a-long-random-test-token-0123456789']);
      assert.equal(lab.code, 1, lab.err);
      // Refused whether or not other labs run (tests beside this one have theirs): it is checked before that is asked.
      assert.match(lab.err, /default lab .*broken\.yaml is not a valid lab .*10\.0\.0\.300/, lab.err);
      const missing = nslab(['serve', '--port', '0', '--default-lab', join(dir, 'absent.yaml'), '--token', 'a-long-random-test-token-0123456789']);
      assert.equal(missing.code, 1, missing.err);
      assert.match(missing.err, /absent\.yaml cannot be read \(ENOENT\)/, missing.err);
      const unknown = nslab(['serve', '--port', '0', '--default-lab', 'no-such-example.yaml', '--token', 'a-long-random-test-token-0123456789']);
      assert.equal(unknown.code, 1, unknown.err);
      assert.match(unknown.err, /there is no example "no-such-example\.yaml"/, unknown.err);
      assert.ok(!existsSync(`/run/netns/${netnsName('hd-broken', 'a')}`), 'nothing was created');
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
