/**
 * Live-view links: the owner makes a read-only link from the page; a second browser (a
 * projector) opens it and sees the lab live (a change made with `ip`, an edit made on the
 * owner's canvas, a shell's output) with no control that would change anything.
 */
import { expect, openApp, test } from '../fixtures';
import { addressesOf, netns, sh } from '../server';
import { node, runPlan } from './helpers';
import { openTerminalFromCanvas, terminal, typeIn } from './live-helpers';

test.use({ labPrefix: 'e2e-view' });

const LAB = `name: x
nodes:
  ns1:
    interfaces:
      eth0: { addresses: [10.63.0.1/24] }
  ns2:
    interfaces:
      eth0: { addresses: [10.63.0.2/24] }
links:
  - [ns1:eth0, ns2:eth0]
`;

test('a live-view link shows the lab live in another browser and offers no way to change it', async ({ page, browser, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(node(page, 'ns1')).toBeVisible();

  // The owner makes a link from the top bar.
  await page.getByRole('button', { name: 'Share live view' }).click();
  const share = page.getByRole('dialog', { name: 'Share live view' });
  await share.getByRole('button', { name: 'Make link' }).click();
  const field = share.getByRole('textbox', { name: 'Live view link' });
  await expect(field).toHaveValue(/\/\?view=[0-9a-f]{64}$/);
  const url = await field.inputValue();
  await shot('live-view-1-share');
  await share.getByRole('button', { name: 'Close' }).click();

  // A second browser context: nothing of the owner's tab (no token in its storage).
  const context = await browser.newContext();
  try {
    const viewer = await context.newPage();
    await viewer.goto(url);
    await expect(viewer.getByRole('status', { name: 'Live view' })).toContainText('Live view · read-only');
    await expect(viewer.getByRole('status', { name: 'Live view' })).toContainText(lab);
    await expect(viewer).not.toHaveURL(/view=/);
    const port = node(viewer, 'ns1').locator('[data-port="eth0"]');
    await expect(port).toContainText('10.63.0.1/24', { timeout: 30_000 });

    // No control that changes the lab.
    await expect(viewer.getByRole('complementary', { name: 'Palette' })).toHaveCount(0);
    for (const name of ['Undo', 'Open topology file', 'Share live view', 'Open terminal']) {
      await expect(viewer.getByRole('button', { name, exact: true })).toHaveCount(0);
    }
    await expect(viewer.getByLabel('Lab', { exact: true })).toHaveCount(0);
    await expect(viewer.locator('.connect-handle:visible')).toHaveCount(0);
    await node(viewer, 'ns1').locator('.ns-header').click();
    const iface = viewer.getByRole('group', { name: 'Interface eth0' });
    await expect(iface.getByLabel('Address', { exact: true })).toBeDisabled();
    // Double-click opens no shell; Delete deletes nothing.
    await node(viewer, 'ns1').locator('.ns-header').dblclick();
    await viewer.keyboard.press('Delete');
    await expect(viewer.getByRole('dialog', { name: 'Plan' })).toHaveCount(0);
    await expect(viewer.locator('.term-pane')).toHaveCount(0);

    // A change made with ip in the kernel reaches the viewer.
    expect((await sh(['ip', '-n', netns(lab, 'ns1'), 'addr', 'add', '10.98.0.1/24', 'dev', 'eth0'])).code).toBe(0);
    await expect(port).toHaveAttribute('aria-label', /10\.98\.0\.1\/24/);

    // An edit made on the owner's canvas reaches the viewer.
    await node(page, 'ns2').locator('.ns-header').click();
    const ownerIface = page.getByRole('group', { name: 'Interface eth0' });
    await ownerIface.getByLabel('Address', { exact: true }).fill('10.63.0.22/24');
    await ownerIface.getByLabel('Address', { exact: true }).press('Enter');
    await runPlan(page, /addr add 10\.63\.0\.22\/24 dev eth0/);
    await expect.poll(() => addressesOf(lab, 'ns2', 'eth0')).toEqual(['10.63.0.2/24', '10.63.0.22/24']);
    await expect(node(viewer, 'ns2').locator('[data-port="eth0"]')).toHaveAttribute('aria-label', /10\.63\.0\.22\/24/);

    // A shell the owner opens is mirrored, read-only, in the viewer's dock.
    const pane = await openTerminalFromCanvas(page, 'ns1');
    await typeIn(page, pane, 'echo mirrored-$((6*7))');
    await expect(pane.locator('.xterm-rows')).toContainText('mirrored-42');
    const mirror = terminal(viewer, 'ns1');
    await expect(mirror.locator('.xterm-rows')).toContainText('mirrored-42', { timeout: 15_000 });
    await shot('live-view-2-viewer', viewer);
  } finally {
    await context.close();
  }
});
