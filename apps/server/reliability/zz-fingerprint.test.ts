/**
 * The root namespace after the whole reliability stage is what it was before: scripts/test.mjs
 * saves the fingerprint before the stage (NSLAB_FINGERPRINT_BEFORE) and this file, named to sort
 * last, compares. Run alone, it takes its own before around one apply and destroy of a lab.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applyTopology, destroyLab } from '../src/kernel/lab';
import { cleanup, loadExample, uniqueLab } from '../test-kit/lab';
import { figure } from './figures';
import { fingerprint } from './fingerprint';

test('the root namespace fingerprint (links, addresses, routes, sysctls, iptables, nft) is unchanged', async () => {
  const file = process.env['NSLAB_FINGERPRINT_BEFORE'];
  let before: string;
  if (file) before = readFileSync(file, 'utf8');
  else {
    before = fingerprint();
    const lab = uniqueLab('hk-fp');
    try {
      await applyTopology(loadExample('masquerade.yaml', lab));
      await destroyLab(lab);
    } finally {
      await cleanup(lab);
    }
  }
  const after = fingerprint();
  const a = before.split('\n');
  const b = after.split('\n');
  const changed = a.filter((l) => !b.includes(l)).length + b.filter((l) => !a.includes(l)).length;
  figure('root namespace fingerprint: lines compared', a.length, 'lines');
  figure('root namespace fingerprint: lines changed', changed, 'lines');
  assert.ok(a.length > 10, 'the fingerprint was taken');
  assert.equal(after, before);
});
