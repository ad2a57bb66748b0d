/**
 * A user builds a bridged lab by hand: two namespaces and a bridge dragged onto the
 * canvas, both namespaces connected to the bridge, addresses typed in the inspector.
 * Then the kernel is asked (`ip -n`, `ping`) whether all of it really exists.
 */
import { expect, test } from '../fixtures';
import { addressesOf, ipJson, netns, sh } from '../server';
import { dragFromPalette, dragLink, node, runPlan } from './helpers';

test('drag two namespaces and a bridge, connect them, address them: the kernel has it and they ping', async ({ app: page, lab, shot }) => {
  await expect(page.getByText('Build a network, one namespace at a time')).toBeVisible();
  // The empty state offers the bundled examples.
  await expect(page.getByRole('button', { name: 'Open example bridge' })).toBeVisible();
  await shot('build-0-empty');
  // Addresses are typed by hand in this test.
  await page.getByLabel('Assign addresses to new links').uncheck();

  await dragFromPalette(page, 'Namespace', 140, 90);
  await runPlan(page, new RegExp(`ip netns add ${netns(lab, 'ns1').replace(/\./g, '\\.')}`));
  await expect(node(page, 'ns1')).toBeVisible();

  await dragFromPalette(page, 'Namespace', 140, 330);
  await runPlan(page);
  await expect(node(page, 'ns2')).toBeVisible();

  await dragFromPalette(page, 'Bridge', 500, 200);
  await runPlan(page, /type bridge/);
  const bridge = node(page, 'host').locator('[data-bridge="br0"]');
  await expect(bridge).toBeVisible();

  await dragLink(page, 'Connect ns1', bridge);
  await runPlan(page, /type veth peer name veth-ns1/);
  await expect(bridge.locator('[data-port="veth-ns1"]')).toBeVisible();
  await dragLink(page, 'Connect ns2', bridge);
  await runPlan(page, /master br0/);
  await expect(bridge.locator('[data-port="veth-ns2"]')).toBeVisible();
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);

  for (const [n, address] of [['ns1', '192.168.50.1/24'], ['ns2', '192.168.50.2/24']] as const) {
    await node(page, n).locator('.ns-header').click();
    const iface = page.getByRole('group', { name: 'Interface eth0' });
    await iface.getByLabel('Address', { exact: true }).fill(address);
    await iface.getByLabel('Address', { exact: true }).press('Enter');
    await runPlan(page, new RegExp(`addr add ${address.replace(/\./g, '\\.')} dev eth0`));
    await expect(node(page, n).locator('[data-port="eth0"]')).toContainText(address);
  }
  await page.getByRole('button', { name: 'Fit view', exact: true }).click();
  await page.waitForTimeout(400);
  await shot('build-1-bridged-lab');

  // The kernel: veth ends, bridge membership, addresses, and a ping across the bridge.
  expect(await addressesOf(lab, 'ns1', 'eth0')).toEqual(['192.168.50.1/24']);
  expect(await addressesOf(lab, 'ns2', 'eth0')).toEqual(['192.168.50.2/24']);
  const members = await ipJson<{ ifname: string; link_type?: string }[]>(lab, 'host', 'link', 'show', 'master', 'br0');
  expect(members.map((m) => m.ifname).sort()).toEqual(['veth-ns1', 'veth-ns2']);
  const veth = await ipJson<{ ifname: string; linkinfo?: { info_kind?: string } }[]>(lab, 'ns1', '-d', 'link', 'show', 'eth0');
  expect(veth[0]?.linkinfo?.info_kind).toBe('veth');
  const ping = await sh(['ip', 'netns', 'exec', netns(lab, 'ns1'), 'ping', '-c', '2', '-W', '2', '192.168.50.2']);
  expect(ping.code, ping.stdout + ping.stderr).toBe(0);
});
