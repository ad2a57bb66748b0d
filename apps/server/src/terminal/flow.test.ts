// Flow control against a lying client: one that acknowledges 1e12 bytes (and keeps acknowledging
// small amounts) while never reading its socket. The pty must pause anyway, on the socket's own
// queue, and the output held for it must stay under the per-terminal bound. A real shell running
// `yes` in a throwaway namespace, a real ws client whose socket is paused. Needs root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { MAX_SINK_QUEUED_BYTES, OutputBudget } from './budget';
import { TerminalManager } from './manager';
import { TERMINAL_PROTOCOL_VERSION } from '@nslab/model';
import { createTestLab, startTestServer } from '../../test-kit/terminal';

/** Resolves once `test` holds, checked every 20 ms; a failure is bounded at 30 s. */
async function waitUntil(test: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > 30_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('terminal flow control against a lying client', () => {
  it('acknowledging 1e12 bytes it never read does not keep the pty running: it pauses on the socket queue, bounded', { timeout: 90_000 }, async () => {
    const lab = createTestLab(['ns1']);
    const manager = new TerminalManager();
    const server = await startTestServer(manager);
    let ws: WebSocket | undefined;
    let acker: NodeJS.Timeout | undefined;
    try {
      const { id } = await manager.open({ lab: lab.lab, node: 'ns1' });
      ws = new WebSocket(server.url(id));
      const socket = ws;
      let text = '';
      socket.on('message', (data, binary) => { if (binary) text += (data as Buffer).toString(); });
      await new Promise((ok, fail) => { socket.once('open', ok); socket.once('error', fail); });
      socket.send(JSON.stringify({ type: 'hello', v: TERMINAL_PROTOCOL_VERSION }));
      await waitUntil(() => text.includes('ns1# '), 'the prompt');
      socket.send(Buffer.from('yes\r'), { binary: true });
      await waitUntil(() => text.includes('y\r\ny\r\n'), 'yes to run');
      // From now on the client reads nothing, and lies.
      socket.pause();
      let acks = 0;
      acker = setInterval(() => {
        socket.send(JSON.stringify({ type: 'ack', bytes: 1e12 }));
        socket.send(JSON.stringify({ type: 'ack', bytes: 50_000 }));
        acks += 2;
      }, 5);
      const terminal = manager.get(id);
      await waitUntil(() => terminal?.isPaused === true, 'the pty to pause');
      // Thousands of lies later, what is held in the server for the client is still bounded.
      const after = acks + 2000;
      let peak = 0;
      await waitUntil(() => {
        peak = Math.max(peak, manager.budget.queued);
        return acks >= after;
      }, '2000 more acknowledgements');
      assert.ok(peak <= MAX_SINK_QUEUED_BYTES, `${peak} bytes queued for the client`);
      assert.equal(terminal?.attached, true, 'the liar is still attached (paused, not dropped)');
    } finally {
      clearInterval(acker);
      ws?.terminate();
      await manager.closeAll();
      await server.close();
      lab.remove();
    }
  });

  it('the server-wide budget pauses at its limit and wakes its waiters once below the resume mark', () => {
    const budget = new OutputBudget(100, 50);
    let woken = 0;
    budget.add(150);
    assert.equal(budget.exceeded, true);
    budget.whenRelieved(() => { woken += 1; });
    budget.remove(60);
    assert.equal(woken, 0, 'still above the resume mark');
    budget.remove(60);
    assert.equal(woken, 1);
    assert.equal(budget.exceeded, false);
  });
});
