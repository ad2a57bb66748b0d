/**
 * Terminals (issue 6): a shell in a namespace, opened from the canvas; its output
 * survives a reload (the page re-attaches to the same shell and gets its replay);
 * a shell whose namespace is deleted says so, and can be restarted elsewhere.
 */
import { expect, openApp, test } from '../fixtures';
import { netns, sh } from '../server';
import { node, runPlan } from './helpers';
import { openTerminalFromCanvas, setTheme, terminal, typeIn } from './live-helpers';

const LAB = `name: x
nodes:
  ns1:
    interfaces:
      eth0: { addresses: [10.61.0.1/24] }
  ns2:
    interfaces:
      eth0: { addresses: [10.61.0.2/24] }
  lonely: {}
links:
  - [ns1:eth0, ns2:eth0]
`;

test('a terminal on ns1 pings ns2, and its output is still there after a reload', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(node(page, 'ns1')).toBeVisible();

  const pane = await openTerminalFromCanvas(page, 'ns1');
  // The terminal's node is highlighted on the canvas while the terminal has the keyboard.
  await expect(page.locator('.react-flow__node[data-id="ns1"]')).toHaveClass(/hl-terminal/);
  await typeIn(page, pane, 'ip netns list; ping -c 1 10.61.0.2');
  await expect(pane.locator('.xterm-rows')).toContainText('1 received', { timeout: 15_000 });
  await expect(pane.locator('.xterm-rows')).toContainText('ns2');
  await shot('terminal-1-ping');

  await page.reload();
  await expect(page.getByRole('status', { name: 'Connection status' })).toHaveText(/Connected/);
  const again = terminal(page, 'ns1');
  await expect(again).toHaveAttribute('data-status', 'live', { timeout: 15_000 });
  await expect(again.locator('.xterm-rows')).toContainText('1 received');
  await expect(page.getByRole('tab', { name: 'ns1' })).toBeVisible();
  await setTheme(page, 'dark');
  await shot('terminal-2-after-reload-dark');
  await setTheme(page, 'light');
});

test('a terminal whose namespace is deleted says the namespace is gone', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(node(page, 'lonely')).toBeVisible();

  // Open it from the namespace's inspector this time.
  await node(page, 'lonely').locator('.ns-header').click();
  await page.getByRole('button', { name: 'Open terminal in lonely' }).click();
  const pane = terminal(page, 'lonely');
  await expect(pane).toHaveAttribute('data-status', 'live', { timeout: 15_000 });

  // Delete it through the UI (its plan runs `ip netns del` on this test's lab only).
  await page.getByRole('button', { name: 'Delete namespace lonely' }).click();
  await runPlan(page, new RegExp(netns(lab, 'lonely').replace(/\./g, '\\.')));
  expect((await sh(['ip', 'netns', 'list'])).stdout).not.toContain(netns(lab, 'lonely'));

  await page.getByRole('tab', { name: 'Terminals' }).click();
  const status = page.getByRole('status', { name: 'Terminal status lonely' });
  await expect(status).toContainText(/namespace lonely of lab .* no longer exists/, { timeout: 15_000 });
  await expect(page.getByRole('button', { name: 'Restart terminal lonely' })).toBeVisible();
  await shot('terminal-3-namespace-gone');
  await page.getByRole('button', { name: 'Close terminal lonely' }).click();

  // A terminal on a namespace deleted from outside (ip netns del) says so too.
  await node(page, 'ns2').locator('.ns-header').dblclick();
  await expect(terminal(page, 'ns2')).toHaveAttribute('data-status', 'live', { timeout: 15_000 });
  expect((await sh(['ip', 'netns', 'del', netns(lab, 'ns2')])).code).toBe(0);
  await expect(page.getByRole('status', { name: 'Terminal status ns2' })).toContainText(/namespace ns2 of lab .* no longer exists/, { timeout: 15_000 });
});

test('paste with Ctrl+Shift+V; `yes` cannot stall the tab; a shell that exits says so and restarts', async ({ page, server, lab, applyLab }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const pane = await openTerminalFromCanvas(page, 'ns1');
  await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((6*7))'));
  await pane.locator('.xterm-screen').click();
  await page.keyboard.press('Control+Shift+V');
  await expect(pane.locator('.xterm-rows')).toContainText('echo pasted-$((6*7))');
  await page.keyboard.press('Enter');
  await expect(pane.locator('.xterm-rows')).toContainText('pasted-42');

  // A runaway program: the server pauses it while the page has not acknowledged what it drew,
  // and the page acknowledges as xterm writes, so output keeps flowing and the shell comes back.
  await typeIn(page, pane, 'timeout 2 yes flowcontrol; echo done-$((1+1))');
  await expect(pane.locator('.xterm-rows')).toContainText('done-2', { timeout: 20_000 });

  await typeIn(page, pane, 'exit 3');
  const status = page.getByRole('status', { name: 'Terminal status ns1' });
  await expect(status).toContainText('the shell exited with status 3');
  await page.getByRole('button', { name: 'Restart terminal ns1' }).click();
  await expect(terminal(page, 'ns1')).toHaveAttribute('data-status', 'live', { timeout: 15_000 });
  await expect(page.getByRole('tab', { name: 'ns1' })).toHaveCount(1);
});
