/**
 * The command log and undo history of a lab are kept by the server (issue 13): after a reload the
 * log still lists the run, and undo still knows the edit and reverts it.
 */
import type { Page } from '@playwright/test';
import { expect, openApp, test } from '../fixtures';
import { addressesOf } from '../server';
import { node, runPlan } from './helpers';

/** Opens the dock on the command log (its tab toggles the dock, so only when it is not shown). */
async function showLog(page: Page): Promise<void> {
  const tab = page.getByRole('tab', { name: /Command log/ });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
}

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

test('the command log and undo history survive a reload', async ({ page, server, lab, applyLab }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await node(page, 'ns1').locator('.ns-header').click();
  const iface = page.getByRole('group', { name: 'Interface eth0' });
  await iface.getByLabel('Address', { exact: true }).fill('10.63.0.9/24');
  await iface.getByLabel('Address', { exact: true }).press('Enter');
  await runPlan(page, /addr add 10\.63\.0\.9\/24 dev eth0/);
  await expect.poll(() => addressesOf(lab, 'ns1', 'eth0')).toEqual(['10.63.0.1/24', '10.63.0.9/24']);
  const log = page.getByRole('log', { name: 'Command log' });
  await showLog(page);
  await expect(log.getByRole('article')).toHaveCount(1);
  const label = await log.getByRole('article').first().getAttribute('aria-label');
  // The history is sent to the server shortly after the change (debounced): wait until it holds the run.
  const history = async () => ((await (await fetch(`${server.base}/api/labs/${lab}/history`, { headers: { authorization: `Bearer ${server.token}` } })).json()) as { log?: unknown[] }).log?.length;
  await expect.poll(history).toBe(1);

  await page.reload();
  await expect(page.getByRole('status', { name: 'Connection status' })).toHaveText(/Connected/);
  await showLog(page);
  await expect(page.getByRole('log', { name: 'Command log' }).getByRole('article')).toHaveAttribute('aria-label', label ?? '');
  await expect(page.getByRole('button', { name: 'Undo', exact: true })).toBeEnabled();
  await page.getByRole('button', { name: 'Undo', exact: true }).click();
  await runPlan(page, /addr del 10\.63\.0\.9\/24 dev eth0/);
  await expect.poll(() => addressesOf(lab, 'ns1', 'eth0')).toEqual(['10.63.0.1/24']);
});
