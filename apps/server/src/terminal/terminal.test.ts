// Flow control under a flood: `yes` for 30 s to a client that never acknowledges, through a real
// ws server on 127.0.0.1 in this process. Slow by design (about 35 s). Needs root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TerminalManager } from './manager';
import { HIGH_WATER_BYTES } from '@nslab/model';
import { TestClient, createTestLab, startTestServer } from './testkit';

/** How long the flood runs: 30 s, long enough for any unbounded buffer on the way to show. */
const FLOOD_MS = 30_000;

/** RSS growth allowed over the flood (20 MB: far below what 30 s of unthrottled yes, hundreds of MB, would cost). */
const MAX_RSS_GROWTH_BYTES = 20 * 1024 * 1024;

describe('terminal flow control', () => {
  it('30 s of yes to a client that never acks keeps RSS growth under 20 MB', { timeout: FLOOD_MS + 30_000 }, async () => {
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
      const started = Date.now();
      while (Date.now() - started < FLOOD_MS) {
        await new Promise((r) => setTimeout(r, 250));
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      const terminal = manager.get(id);
      const growth = peak - baseline;
      console.log(`rss baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB, growth ${(growth / 2 ** 20).toFixed(1)} MiB; client received ${client.received} bytes; pty paused: ${terminal?.isPaused}`);
      assert.ok(growth < MAX_RSS_GROWTH_BYTES, `RSS grew by ${growth} bytes`);
      assert.equal(terminal?.isPaused, true, 'the pty is paused');
      // What reached the client is bounded by the high-water mark plus the last pty read.
      assert.ok(client.received < HIGH_WATER_BYTES + 128 * 1024, `client received ${client.received} bytes`);

      // A client that acks takes over (4409 for the silent one), gets the replay, and the flood
      // resumes until Ctrl-C; then the shell answers.
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
