/**
 * The everyday things: undo (the inverse plan), delete, connecting from the inspector
 * with allocated addresses, search, and the keyboard shortcuts.
 */
import { expect, openApp, test } from '../fixtures';
import { addressesOf, ipJson, netns, sh } from '../server';
import { node, runPlan } from './helpers';

const LAB = `name: x
nodes:
  ns1:
    interfaces:
      eth0: { addresses: [10.62.0.1/24] }
  ns2:
    interfaces:
      eth0: { addresses: [10.62.0.2/24] }
links:
  - [ns1:eth0, ns2:eth0]
`;

test('undo reverts an edit with its inverse plan; Delete removes a link; the inspector connects with fresh addresses', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(page.locator('.react-flow__edge')).toHaveCount(1);

  // An edit, then undo (Ctrl+Z): the plan of the undo removes what the edit added.
  await node(page, 'ns1').locator('.ns-header').click();
  const iface = page.getByRole('group', { name: 'Interface eth0' });
  await iface.getByLabel('Address', { exact: true }).fill('10.62.0.9/24');
  await iface.getByLabel('Address', { exact: true }).press('Enter');
  await runPlan(page, /addr add 10\.62\.0\.9\/24 dev eth0/);
  await expect.poll(() => addressesOf(lab, 'ns1', 'eth0')).toEqual(['10.62.0.1/24', '10.62.0.9/24']);
  // A click on empty canvas (bottom middle: overlays sit in the corners) clears the selection.
  const pane = await page.locator('.react-flow__pane').boundingBox();
  await page.locator('.react-flow__pane').click({ position: { x: (pane?.width ?? 400) / 2, y: (pane?.height ?? 300) - 30 } });
  await page.keyboard.press('Control+z');
  await runPlan(page, /addr del 10\.62\.0\.9\/24 dev eth0/);
  await expect.poll(() => addressesOf(lab, 'ns1', 'eth0')).toEqual(['10.62.0.1/24']);
  await expect(page.getByRole('button', { name: 'Undo', exact: true })).toBeDisabled();

  // Select the link and press Delete: both veth ends go.
  await page.locator('.react-flow__edge').first().click({ force: true });
  await expect(page.getByRole('complementary', { name: 'Inspector' })).toContainText('veth pair');
  await page.keyboard.press('Delete');
  await runPlan(page, /link del/);
  await expect(page.locator('.react-flow__edge')).toHaveCount(0);
  expect((await sh(['ip', '-n', netns(lab, 'ns1'), 'link', 'show', 'eth0'])).code).not.toBe(0);

  // Undo brings the link back, addresses and all.
  await page.getByRole('button', { name: 'Undo', exact: true }).click();
  await runPlan(page, /type veth/);
  await expect(page.locator('.react-flow__edge')).toHaveCount(1);
  expect(await addressesOf(lab, 'ns2', 'eth0')).toEqual(['10.62.0.2/24']);

  // Search (/) selects a node; the inspector connects it to another with allocated addresses.
  await page.keyboard.press('/');
  await page.getByLabel('Node name or address').fill('ns2');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('complementary', { name: 'Inspector' }).getByRole('heading', { name: 'ns2' })).toBeVisible();
  await page.getByLabel('Connect to', { exact: true }).selectOption('ns1');
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await runPlan(page, /addr add 10\.0\.1\.2\/24 dev eth1/);
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  expect(await addressesOf(lab, 'ns2', 'eth1')).toEqual(['10.0.1.1/24']);
  expect(await addressesOf(lab, 'ns1', 'eth1')).toEqual(['10.0.1.2/24']);
  const ping = await sh(['ip', 'netns', 'exec', netns(lab, 'ns2'), 'ping', '-c', '1', '-W', '2', '10.0.1.2']);
  expect(ping.code, ping.stdout).toBe(0);
  const links = await ipJson<{ ifname: string }[]>(lab, 'ns1', 'link', 'show', 'type', 'veth');
  expect(links.map((l) => l.ifname).sort()).toEqual(['eth0', 'eth1']);
  await shot('undo-1-after');
});
