// Flow control under a flood: `yes` to a client that never acknowledges, through a real ws
// server on 127.0.0.1 in this process, until the pty is paused and then for 40 more samples
// of RSS. Needs root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TerminalManager } from './manager';
import { HIGH_WATER_BYTES } from '@nslab/model';
import { TestClient, createTestLab, startTestServer } from '../../test-kit/terminal';

/** RSS samples taken once the pty is paused (every 250 ms): any buffer still growing behind the pause shows. */
const SAMPLES_AFTER_PAUSE = 40;

/** RSS growth allowed over the flood (20 MB: far below what 30 s of unthrottled yes, hundreds of MB, would cost). */
const MAX_RSS_GROWTH_BYTES = 20 * 1024 * 1024;

/** Resolves once `test` holds, checked every 20 ms (the socket's close reaches the server a moment after the client's). */
async function waitUntil(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 20));
}

describe('terminal flow control', () => {
  it('yes to a client that never acks pauses the pty and keeps RSS growth under 20 MB', async () => {
    const lab = createTestLab(['ns1']);
    const manager = new TerminalManager();
    const server = await startTestServer(manager);
    let client: TestClient | undefined;
    try {
      const { id } = await manager.open({ lab: lab.lab, node: 'ns1' });
      client = await TestClient.connect(server.url(id), { autoAck: false });
      await client.expect(/ns1# $/);
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      client.type('yes\r');
      const terminal = manager.get(id);
      // Until the high-water mark pauses the pty (the runner's timeout bounds a pty that never pauses) ...
      while (terminal?.isPaused !== true) {
        await new Promise((r) => setTimeout(r, 50));
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      // ... and then long enough for a buffer that keeps growing behind the pause to show.
      for (let i = 0; i < SAMPLES_AFTER_PAUSE; i += 1) {
        await new Promise((r) => setTimeout(r, 250));
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      const growth = peak - baseline;
      console.log(`rss baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB, growth ${(growth / 2 ** 20).toFixed(1)} MiB; client received ${client.received} bytes; pty paused: ${terminal?.isPaused}`);
      assert.ok(growth < MAX_RSS_GROWTH_BYTES, `RSS grew by ${growth} bytes`);
      assert.equal(terminal?.isPaused, true, 'the pty is paused');
      // What reached the client is bounded by the high-water mark plus the last pty read.
      assert.ok(client.received < HIGH_WATER_BYTES + 128 * 1024, `client received ${client.received} bytes`);

      // The silent client goes; a client that acks attaches, gets the replay, and the flood
      // resumes until Ctrl-C; then the shell answers.
      client.ws.terminate();
      await client.until(() => client?.closeCode !== undefined, 10_000, 'the silent client closed');
      await waitUntil(() => manager.get(id)?.attached === false);
      const acking = await TestClient.connect(server.url(id));
      acking.type('\x03');
      acking.type('echo flood""-over\r');
      await acking.expect(/flood-over\r\n/, 10_000);
      await acking.close();
    } finally {
      client?.ws.terminate();
      await manager.closeAll();
      await server.close();
      lab.remove();
    }
  });
});
