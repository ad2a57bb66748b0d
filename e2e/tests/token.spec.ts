/**
 * The page and its token: taken from the printed URL once and removed from the address bar,
 * never put in a cookie, and a refused token said in words instead of reconnecting forever.
 */
import { randomBytes } from 'node:crypto';
import { expect, openApp, test } from '../fixtures';

test('the printed URL works, its token leaves the address bar and never becomes a cookie', async ({ page, server }) => {
  // A lab name that is only followed, never applied: nothing to destroy afterwards.
  const lab = `e2e-token-${randomBytes(3).toString('hex')}`;
  await openApp(page, server, lab);
  expect(page.url()).not.toContain('token=');
  expect(await page.evaluate(() => document.cookie)).toBe('');
  expect((await page.context().cookies()).length).toBe(0);
  // The page's requests carry the token themselves; the same request without it is refused.
  const bare = await page.evaluate(async () => (await fetch('/api/labs', { credentials: 'include' })).status);
  expect(bare).toBe(401);

  // The link is not one-time (README): opened again in another tab, it works there too.
  const second = await page.context().newPage();
  try {
    await second.goto(`${server.base}/?token=${server.token}#lab=${lab}`);
    await expect(second.getByRole('status', { name: 'Connection status' })).toHaveText(/Connected/);
    expect(second.url()).toBe(`${server.base}/#lab=${lab}`);
  } finally {
    await second.close();
  }
});

test('a refused token says so and stops reconnecting', async ({ page, server, shot }) => {
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${server.base}/?token=${'x'.repeat(8)}${server.token.slice(8).split('').reverse().join('')}`);
  const status = page.getByRole('status', { name: 'Connection status' });
  await expect(status).toContainText('Token refused');
  await expect(page.getByRole('alert').filter({ hasText: 'the token was refused: open the URL printed by nslab serve' })).toBeVisible();
  await shot('token-refused');
  // Final: the page asked once, learned that the token is refused, and stopped.
  await expect(status).not.toContainText('Reconnecting');
  expect(sockets.length).toBe(1);
});

test('a page opened without any token says what to open', async ({ page, server }) => {
  await page.goto(`${server.base}/`);
  await expect(page.getByRole('alert').filter({ hasText: 'the token was refused: open the URL printed by nslab serve' })).toBeVisible();
});
