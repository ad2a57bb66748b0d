// The classroom's quota and idle flags: parsed, checked in one sentence, refused without --classroom,
// and taken by the CLI; durations read and written back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeArgs } from '../main';
import { parseCommand } from '../cli';
import { DEFAULT_QUOTAS } from './classroom';
import { DEFAULT_LIFETIMES, formatDuration, parseClassFlags, parseDuration } from './lifetime';

describe('classroom quota and lifetime flags', () => {
  it('reads durations with ms, s, m, h and d, and nothing else', () => {
    assert.equal(parseDuration('2s'), 2_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    for (const bad of ['30', 'm', '-1m', '1 hour', '1e3s', '']) assert.equal(parseDuration(bad), undefined, bad);
    assert.equal(formatDuration(4 * 3_600_000), '4h');
    assert.equal(formatDuration(90_000), '90s');
  });

  it('defaults: 5 labs, 40 namespaces, 8 terminals, 2 captures; shells idle 30m, labs 4h', () => {
    const config = parseServeArgs(['--classroom'], {});
    assert.deepEqual(config.quotas, { labs: 5, namespaces: 40, terminals: 8, captures: 2 });
    assert.deepEqual(config.quotas, DEFAULT_QUOTAS);
    assert.deepEqual(config.lifetimes, { idleShellsMs: 30 * 60_000, idleLabsMs: 4 * 3_600_000 });
    assert.deepEqual(config.lifetimes, DEFAULT_LIFETIMES);
  });

  it('takes every flag from the command line', () => {
    const args = ['--classroom', '--quota-labs', '3', '--quota-namespaces', '20', '--quota-terminals', '4', '--quota-captures', '1', '--idle-shells', '10m', '--idle-labs', '2h'];
    const config = parseServeArgs(args, {});
    assert.deepEqual(config.quotas, { labs: 3, namespaces: 20, terminals: 4, captures: 1 });
    assert.deepEqual(config.lifetimes, { idleShellsMs: 600_000, idleLabsMs: 7_200_000 });
    assert.ok(parseCommand('serve', args), 'the CLI takes the flags');
  });

  it('says every wrong value in one sentence, and refuses the flags without --classroom', () => {
    const { problems } = parseClassFlags({ quotaLabs: '0', quotaCaptures: 'two', idleShells: '30' });
    assert.deepEqual(problems, [
      '--quota-labs "0" is not a quota nslab takes: write a whole number from 1 to 100, like 5',
      '--quota-captures "two" is not a quota nslab takes: write a whole number from 1 to 32, like 2',
      '--idle-shells "30" is not an idle time nslab takes: write a number with s, m or h, from 1s to 7d, like 30m',
    ]);
    assert.throws(() => parseServeArgs(['--classroom', '--quota-labs', '0', '--idle-labs', 'x'], {}), /--quota-labs "0" is not a quota .*; --idle-labs "x" is not an idle time/);
    assert.throws(() => parseServeArgs(['--classroom', '--idle-shells', '2h', '--idle-labs', '1h'], {}), /--idle-labs \(1h\) must be longer than --idle-shells \(2h\)/);
    assert.throws(() => parseServeArgs(['--quota-labs', '3', '--idle-shells', '5m'], {}), /^Error: --quota-labs, --idle-shells set limits of classroom trainees: add --classroom, or leave them out$/);
  });
});
