// A server killed by SIGKILL runs no cleanup: whatever files its shells need must not be its own
// folder in /tmp. A terminal is opened and its manager abandoned (never closed), as SIGKILL would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { TerminalManager } from './manager';
import { TestClient, createTestLab, startTestServer } from '../../test-kit/terminal';

const tmpFolders = () => readdirSync('/tmp').filter((n) => n.startsWith('nslab-term-'));

test('a terminal leaves no /tmp/nslab-term-* folder for a killed server to strand; its rc file is shared in /run/nslab/shell', async () => {
  const lab = createTestLab(['ns1']);
  const manager = new TerminalManager();
  const server = await startTestServer(manager);
  const before = new Set(tmpFolders());
  let client: TestClient | undefined;
  try {
    const { id } = await manager.open({ lab: lab.lab, node: 'ns1' });
    client = await TestClient.connect(server.url(id));
    await client.expect(/ns1# $/);
    assert.deepEqual(tmpFolders().filter((n) => !before.has(n)), [], 'a new /tmp/nslab-term-* folder');
    const shared = readdirSync('/run/nslab/shell').filter((n) => /^bashrc-[0-9a-f]{16}$/.test(n));
    assert.ok(shared.length >= 1, 'the rc file is in /run/nslab/shell');
    // The shell really read it: the rc file's content came from there.
    assert.ok(shared.some((n) => readFileSync(`/run/nslab/shell/${n}`, 'utf8').length > 0));
  } finally {
    client?.ws.terminate();
    await manager.closeAll();
    await server.close();
    lab.remove();
  }
});
