/**
 * Packets (issue 7) and the lab guide (issue 8): the guide's command runs in a
 * terminal on its node; with packets watched, the list fills, a filter narrows it,
 * and a selected packet shows its headers and every place it was seen.
 */
import { PCAPNG_SECTION_HEADER, readPcapng } from '@nslab/model';
import { expect, openApp, test } from '../fixtures';
import { node } from './helpers';
import { bridgeLabYaml, setTheme, terminal, typeIn } from './live-helpers';

const LAB = bridgeLabYaml('10.63.0', `description: Three namespaces on one bridge, like containers on docker0.
try:
  - ip netns exec ns1 ping -c 3 10.63.0.3
  - ip netns exec host bridge link`);

test('the guide runs a ping in ns1; the packets are listed, filtered and traced on the canvas', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(node(page, 'ns3')).toBeVisible();
  const guide = page.getByRole('region', { name: 'Lab guide' });
  await expect(guide).toContainText('like containers on docker0');

  await page.getByRole('tab', { name: 'Packets' }).click();
  await page.getByRole('button', { name: 'Watch packets' }).click();
  await expect(page.getByRole('button', { name: 'Watch packets' })).toHaveAttribute('aria-pressed', 'true');
  // Every namespace's capture is listening before the ping starts.
  await expect(page.getByRole('status', { name: 'Captures' })).toHaveText('capturing in 4/4', { timeout: 15_000 });

  await guide.getByRole('button', { name: 'Run in ns1: ip netns exec ns1 ping -c 3 10.63.0.3' }).click();
  const pane = terminal(page, 'ns1');
  await expect(pane.locator('.xterm-rows')).toContainText('3 received', { timeout: 20_000 });

  await page.getByRole('tab', { name: 'Packets' }).click();
  const rows = page.locator('.pkt-body .pkt-row');
  await expect(rows.first()).toBeVisible();
  await page.getByLabel('Packet filter').fill('icmp node:ns1 out');
  await expect(rows).toHaveCount(3);
  await rows.first().click();
  const detail = page.getByRole('complementary', { name: 'Packet detail' });
  await expect(detail).toContainText('Internet Control Message Protocol');
  await expect(detail).toContainText('Identifier');
  await expect(detail.getByRole('region', { name: 'Seen at' })).toContainText('ns3:eth0');
  // Every place the same echo was seen is marked on the canvas, numbered.
  await expect(page.locator('.port-mark.tone-packet')).toHaveCount(4);
  await expect(page.locator('.react-flow__edge.hl-packet')).toHaveCount(2);
  await page.getByLabel('Packet filter').fill('icmp|arp');
  await shot('packets-1-list-light');
  await setTheme(page, 'dark');
  await shot('packets-2-list-dark');

  // The last seconds again, slowly: packets travel along the veth edges.
  await page.getByRole('button', { name: 'Close packet detail' }).click();
  await page.getByRole('button', { name: 'Replay slowly' }).click();
  await expect(page.locator('.pkt-dot').filter({ visible: true }).first()).toBeVisible({ timeout: 5_000 });
  await page.waitForTimeout(700);
  await shot('packets-4-replay-dark');
  await page.getByRole('button', { name: 'Pause animation' }).click();
  await expect(page.getByRole('button', { name: 'Resume animation' })).toBeVisible();
  await setTheme(page, 'light');

  // A bad filter word says why.
  await page.getByLabel('Packet filter').fill('port:99999');
  await expect(page.getByRole('alert').filter({ hasText: 'port is a number' })).toBeVisible();
});

test('a flood is aggregated: the list stays bounded, the canvas shows counts, the .pcap downloads', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(node(page, 'ns3')).toBeVisible();
  await page.getByRole('tab', { name: 'Packets' }).click();
  await page.getByRole('button', { name: 'Watch packets' }).click();
  await expect(page.getByRole('status', { name: 'Captures' })).toHaveText('capturing in 4/4', { timeout: 15_000 });

  await node(page, 'ns1').locator('.ns-header').dblclick();
  const pane = terminal(page, 'ns1');
  await expect(pane).toHaveAttribute('data-status', 'live', { timeout: 15_000 });
  await typeIn(page, pane, 'ping -f -c 30000 10.63.0.3');

  await page.getByRole('tab', { name: 'Packets' }).click();
  await expect(page.getByRole('status', { name: 'Flood' })).toContainText(/flood: [\d,]+ packets\/s aggregated/, { timeout: 20_000 });
  await expect(page.locator('.flood-label').first()).toBeVisible();
  // The page keeps drawing during the flood: 20 animation frames come (a frozen tab gives none;
  // the test's timeout bounds the wait, no frame rate is assumed of a loaded machine).
  const frames = await page.evaluate(() => new Promise<number>((done) => {
    let n = 0;
    const tick = () => { n += 1; if (n < 20) requestAnimationFrame(tick); else done(n); };
    requestAnimationFrame(tick);
  }));
  expect(frames).toBe(20);
  await expect(page.locator('.pkt-body .pkt-row')).not.toHaveCount(0);
  await shot('packets-3-flood');

  const download = page.waitForEvent('download');
  await page.getByLabel('Capture to download').selectOption('ns1/eth0');
  await page.getByRole('link', { name: 'Download pcapng' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`${lab}-ns1-eth0.pcapng`);
  const stream = await file.createReadStream();
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  // A pcapng section whose packets all name their interface: eth0 of ns1.
  expect(bytes.readUInt32LE(0)).toBe(PCAPNG_SECTION_HEADER);
  const pcapng = readPcapng(bytes);
  expect(pcapng.interfaces.map((i) => i.name)).toEqual(['eth0']);
  // Some packets: how many the buffered capture has handed over at this moment varies (5 were seen).
  expect(pcapng.packets.length).toBeGreaterThan(0);
  expect(pcapng.packets.every((p) => p.interface === 0)).toBe(true);
});
