// The packet service across a lab's destroy and re-apply: a page that watches a lab keeps watching
// it, so when the lab's namespaces come back (the hub calls sync on node changes) captures start
// again for that page. The captures here aim at namespaces that do not exist: only whether the
// service starts them is checked, and every one is stopped at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerMessage } from '@nslab/model';
import { PacketService } from './service';
import { uniqueLab } from '../../test-kit/lab';

test('captures start again for a watching page when a destroyed lab is applied again', async () => {
  const service = new PacketService();
  const lab = uniqueLab('ls');
  const seen: ServerMessage[] = [];
  try {
    const stop = service.watch(lab, [], (m) => seen.push(m));
    service.sync(lab, ['a']);
    assert.equal(service.captureCount(), 1);
    await service.stop(lab); // the lab is destroyed
    assert.equal(service.captureCount(), 0);
    service.sync(lab, ['a', 'b']); // ... and applied again while the page still watches
    assert.equal(service.captureCount(), 2, 'the watcher survived the destroy and gets captures of the new namespaces');
    stop();
    assert.equal(service.captureCount(), 0);
  } finally {
    await service.stop();
  }
});
