/**
 * Crash safety on the real kernel: what a run killed mid-apply leaves (an empty /run/netns
 * file, a namespace without a marker) is removed by destroy, list and apply when a journal
 * entry of a dead writer names it, and left alone otherwise.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, closeSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { netnsName, parseTopology } from '@nslab/model';
import { applyTopology, deleteNetns, destroyLab } from './lab';
import { JOURNAL_DIR } from './journal';
import { listLabs } from './observe';
import { cleanup, netnsList, uniqueLab } from '../../test-kit/lab';

const made: string[] = [];
const files: string[] = [];
after(async () => {
  await cleanup(...made);
  for (const f of files) if (existsSync(f)) unlinkSync(f);
  // Leftovers this file made on purpose and a failed test did not clear.
  for (const lab of made) for (const n of netnsList().filter((x) => x.startsWith(`nslab.${lab}.`))) spawnSync('ip', ['netns', 'del', n]);
});

/** A pid that is certainly gone: a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync('true').pid ?? 0;
}

/** What a killed run leaves: a journal entry of a dead writer, an empty netns file, an unmarked namespace. */
function leftovers(lab: string, { writerPid = deadPid(), start = '1' } = {}): { empty: string; unmarked: string; entry: string } {
  const empty = netnsName(lab, 'a');
  const unmarked = netnsName(lab, 'b');
  mkdirSync(JOURNAL_DIR, { recursive: true });
  const entry = join(JOURNAL_DIR, `${lab}.${writerPid}.test.json`);
  files.push(entry);
  writeFileSync(entry, JSON.stringify({ lab, pid: writerPid, start, netns: [empty, unmarked, netnsName(lab, 'c')] }));
  closeSync(openSync(join('/run/netns', empty), 'w')); // as `ip netns add` killed before its bind mount
  files.push(join('/run/netns', empty));
  execFileSync('ip', ['netns', 'add', unmarked]); // as a kill between create and mark
  return { empty, unmarked, entry };
}

const topology = (lab: string) => {
  const r = parseTopology(`name: ${lab}\nnodes:\n  a: {}\n  b: {}\n  c: {}\n`);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.topology;
};

test('destroy removes an empty netns file and an unmarked namespace that a dead run journaled', async () => {
  const lab = uniqueLab('hk-j');
  made.push(lab);
  const { empty, unmarked, entry } = leftovers(lab);
  const removed = await destroyLab(lab);
  assert.deepEqual(removed.sort(), ['a', 'b']);
  assert.ok(!netnsList().includes(empty) && !netnsList().includes(unmarked), 'both are gone');
  assert.ok(!existsSync(entry), 'the journal entry is settled');
});

test('list settles a dead run too, and the next apply completes', async () => {
  const lab = uniqueLab('hk-j');
  made.push(lab);
  const { empty, entry } = leftovers(lab);
  await listLabs();
  assert.ok(!existsSync(join('/run/netns', empty)) && !existsSync(entry));
  const { outcome } = { outcome: await applyTopology(topology(lab)) };
  assert.ok(outcome.ran > 0);
  assert.equal((await applyTopology(topology(lab))).ran, 0, 'converged');
  assert.deepEqual((await listLabs()).find((l) => l.name === lab)?.nodes.sort(), ['a', 'b', 'c']);
});

test('an apply over a dead run\'s leftovers completes (it used to fail with "already exists" forever)', async () => {
  const lab = uniqueLab('hk-j');
  made.push(lab);
  leftovers(lab);
  const outcome = await applyTopology(topology(lab));
  assert.ok(outcome.ran > 0);
  assert.deepEqual((await listLabs()).find((l) => l.name === lab)?.nodes.sort(), ['a', 'b', 'c']);
  assert.deepEqual(readdirSync(JOURNAL_DIR).filter((n) => n.startsWith(`${lab}.`)), [], 'no entry left by the apply itself');
});

test('leftovers of a live writer are not touched: its run may still be creating them', async () => {
  const lab = uniqueLab('hk-j');
  made.push(lab);
  const stat = execFileSync('cat', [`/proc/${process.pid}/stat`], { encoding: 'utf8' });
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  const { empty, unmarked, entry } = leftovers(lab, { writerPid: process.pid, start });
  await destroyLab(lab);
  await listLabs();
  assert.ok(existsSync(join('/run/netns', empty)) && netnsList().includes(unmarked) && existsSync(entry), 'all left in place');
  unlinkSync(entry);
  await destroyLab(lab);
  assert.ok(existsSync(join('/run/netns', empty)) && netnsList().includes(unmarked), 'without a journal entry, a name proves nothing');
  unlinkSync(join('/run/netns', empty));
  execFileSync('ip', ['netns', 'del', unmarked]);
});

test('deleting a batch of namespaces goes on past one that vanished (-force)', async () => {
  const lab = uniqueLab('hk-j');
  made.push(lab);
  await applyTopology(topology(lab));
  await deleteNetns(['a', 'gone', 'b', 'c'].map((n) => `netns del ${netnsName(lab, n)}\n`).join(''));
  assert.deepEqual(netnsList().filter((n) => n.startsWith(`nslab.${lab}.`)), []);
});
