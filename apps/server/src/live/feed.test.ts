// Kernel tests of the live feed's failure paths: a lab whose first read fails is not cached as
// failed (the next watch reads it again), and a kernel event in that lab meanwhile does not crash
// the server; a round that fails later still releases the refreshes waiting for it. A real two-namespace lab named hd-feed-<random>, destroyed in `finally`. Needs root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Change } from '@nslab/model';
import { netnsName } from '@nslab/model';
import { applyTopology } from '../kernel/lab';
import { observeLab } from '../kernel/observe';
import { cleanup, loadExample, uniqueLab } from '../../test-kit/lab';
import { LabFeed } from './feed';

/** A listener that keeps every patch and wakes whoever waits for one. */
function recorder() {
  const patches: Array<{ lab: string; changes: Change[] }> = [];
  const waiters = new Set<() => void>();
  return {
    patches,
    listener: {
      patch(lab: string, changes: Change[]) {
        patches.push({ lab, changes });
        for (const w of [...waiters]) w();
      },
      labs() { /* not under test */ },
    },
    /** Resolves once a patch of `lab` passing `test` has arrived (15 s bounds a failure only). */
    next(lab: string, test: (c: Change) => boolean): Promise<void> {
      return new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`no patch of ${lab} came in 15 s`)), 15_000);
        const check = () => {
          if (!patches.some((p) => p.lab === lab && p.changes.some(test))) return;
          clearTimeout(timer);
          waiters.delete(check);
          ok();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

describe('live feed failures', () => {
  it('a lab whose first read fails is read again on the next watch, and a kernel event meanwhile crashes nothing', async () => {
    const lab = uniqueLab('hd-feed');
    const logged: string[] = [];
    let reads = 0;
    const rec = recorder();
    const feed = new LabFeed(rec.listener, {
      observe: (name, options) => {
        reads += 1;
        if (reads === 1) return Promise.reject(new Error('the first read fails (test)'));
        return observeLab(name, options);
      },
      log: (line) => logged.push(line),
    });
    try {
      await applyTopology(loadExample('veth-pair.yaml', lab));
      await feed.start();
      await assert.rejects(feed.watch(lab), /the first read fails/);
      // A kernel event in the lab whose read failed: before the fix, the feed's flush awaited the
      // failed read again and the rejection went unhandled (the process died).
      execFileSync('ip', ['-n', netnsName(lab, 'ns1'), 'addr', 'add', '10.99.0.1/32', 'dev', 'lo']);
      const topology = await feed.watch(lab);
      assert.deepEqual(Object.keys(topology.nodes).sort(), ['ns1', 'ns2']);
      assert.equal(reads, 2);
      // And the lab is live again: the next change arrives as a patch.
      const patched = rec.next(lab, (c) => c.path[0] === 'nodes' && c.path[1] === 'ns2');
      execFileSync('ip', ['-n', netnsName(lab, 'ns2'), 'addr', 'add', '10.99.0.2/32', 'dev', 'lo']);
      await patched;
    } finally {
      feed.stop();
      await cleanup(lab);
    }
  });

  it('a round that fails after it took its nodes (a listener that throws) releases whoever waited for it', async () => {
    const lab = uniqueLab('hd-feed');
    const logged: string[] = [];
    const feed = new LabFeed({
      patch() { throw new Error('the listener fails (test)'); },
      labs() { /* not under test */ },
    }, { log: (line) => logged.push(line) });
    try {
      await applyTopology(loadExample('veth-pair.yaml', lab));
      await feed.start();
      await feed.watch(lab);
      // A shell's `ip netns add` waits like this for the feed to have read the node.
      execFileSync('ip', ['-n', netnsName(lab, 'ns1'), 'addr', 'add', '10.99.0.1/32', 'dev', 'lo']);
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise((_, fail) => { timer = setTimeout(() => fail(new Error('the refresh never returned')), 15_000); });
      await Promise.race([feed.refresh(lab, ['ns1']), hung]).finally(() => clearTimeout(timer));
      assert.ok(logged.some((l) => /updating lab .* failed.*the listener fails/.test(l)), logged.join('\n'));
    } finally {
      feed.stop();
      await cleanup(lab);
    }
  });
});
