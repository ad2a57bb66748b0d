// A lab's nodes are the namespaces that carry its ownership marker, for terminals as for the
// kernel code: a namespace merely named like a node (nslab.<lab>.<node>) is not one. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { labNodes } from '../kernel/observe';
import { TerminalManager } from './manager';
import { TerminalError } from './errors';
import { createTestLab } from '../../test-kit/terminal';

test('a namespace named like a node of a lab but without its marker is no node of it: no terminal opens there', async () => {
  const lab = createTestLab(['ns1']);
  const stray = lab.netns('hs-stray');
  const manager = new TerminalManager();
  try {
    execFileSync('ip', ['netns', 'add', stray]);
    assert.deepEqual(await labNodes(lab.lab), ['ns1']);
    await assert.rejects(manager.open({ lab: lab.lab, node: 'hs-stray' }), (e: unknown) => e instanceof TerminalError && e.code === 'no-namespace');
    // The marked node opens as before.
    const { node } = await manager.open({ lab: lab.lab, node: 'ns1' });
    assert.equal(node, 'ns1');
  } finally {
    await manager.closeAll();
    if (existsSync(`/run/netns/${stray}`)) execFileSync('ip', ['netns', 'del', stray]);
    lab.remove();
  }
});
