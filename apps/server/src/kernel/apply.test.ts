/**
 * Which op a failed `ip -batch` is blamed on, on the real kernel: a parse error makes ip
 * exit naming no line, and the op reported must still be the one that failed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '@nslab/model';
import { netnsName, parseTopology } from '@nslab/model';
import { ApplyError, applyOps } from './apply';
import { applyTopology } from './lab';
import { cleanup, inNode, uniqueLab } from '../../test-kit/lab';

const lab = uniqueLab('hk-batch');
after(() => cleanup(lab));

test('a parse error on the third line of a namespace batch is reported on the third op, after the first two ran', async () => {
  const parsed = parseTopology(`name: ${lab}\nnodes:\n  n1:\n    interfaces:\n      br0: { kind: bridge, up: false }\n`);
  assert.ok(parsed.ok);
  await applyTopology(parsed.topology);
  const where = { node: 'n1', netns: netnsName(lab, 'n1'), reason: 'test' };
  // Ops built by hand, past validation: a prefix length of 33 is refused by ip's parser.
  const ops: Op[] = [
    { kind: 'link.up', interface: 'br0', ...where },
    { kind: 'addr.add', interface: 'br0', address: '10.9.0.1/24', ...where },
    { kind: 'addr.add', interface: 'br0', address: '10.9.0.2/33', ...where },
    { kind: 'addr.add', interface: 'br0', address: '10.9.0.3/24', ...where },
  ];
  const events: { index: number; status: string }[] = [];
  const err = await applyOps(ops, (e) => events.push({ index: e.index, status: e.status })).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ApplyError, String(err));
  assert.equal(err.index, 2, err.message);
  assert.match(err.argv.join(' '), /10\.9\.0\.2\/33/);
  assert.deepEqual(events, [{ index: 0, status: 'done' }, { index: 1, status: 'done' }, { index: 2, status: 'failed' }]);
  const addrs = inNode(lab, 'n1', ['ip', '-br', 'addr', 'show', 'br0']).out;
  assert.match(addrs, /10\.9\.0\.1\/24/);
  assert.doesNotMatch(addrs, /10\.9\.0\.3/);
});
