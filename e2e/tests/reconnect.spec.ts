/**
 * The connection and the user's layout survive a server restart: the status says
 * the server is gone, the page reconnects by itself when it is back, and the
 * positions the user dragged are still there, also after a reload.
 */
import { expect, openApp, test } from '../fixtures';
import { startServer, stopServer } from '../server';
import { node } from './helpers';

const LAB = `name: x
nodes:
  ns1: { interfaces: { eth0: { addresses: [10.63.0.1/24] } } }
  ns2: { interfaces: { eth0: { addresses: [10.63.0.2/24] } } }
links:
  - [ns1:eth0, ns2:eth0]
`;

/** The node's position on the canvas (its transform), which is what the user arranged. */
async function positionOf(page: import('@playwright/test').Page, name: string): Promise<string> {
  return (await node(page, name).evaluate((el) => (el as HTMLElement).style.transform)) ?? '';
}

test('reconnects after a server restart, and keeps the positions the user dragged', async ({ page, lab, applyLab, shot }) => {
  await applyLab(LAB);
  let server = await startServer();
  try {
    await openApp(page, server, lab);
    const status = page.getByRole('status', { name: 'Connection status' });

    // Drag ns2 somewhere else.
    const header = node(page, 'ns2').locator('.ns-header');
    const box = await header.boundingBox();
    if (!box) throw new Error('ns2 is not on screen');
    await page.mouse.move(box.x + 40, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 40, box.y + 160, { steps: 10 });
    await page.mouse.up();
    const dragged = await positionOf(page, 'ns2');

    const port = Number(new URL(server.base).port);
    await stopServer(server);
    await expect(status).toHaveText(/Reconnecting/);
    await shot('reconnect-1-server-gone');
    server = await startServer({ port, token: server.token });
    await expect(status).toHaveText(/Connected/, { timeout: 20_000 });
    await expect(node(page, 'ns1')).toBeVisible();
    expect(await positionOf(page, 'ns2')).toBe(dragged);

    await page.reload();
    await expect(status).toHaveText(/Connected/);
    await expect(node(page, 'ns2')).toBeVisible();
    expect(await positionOf(page, 'ns2')).toBe(dragged);
  } finally {
    await stopServer(server);
  }
});
