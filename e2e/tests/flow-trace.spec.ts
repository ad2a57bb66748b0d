/**
 * Flow traces (issue 15) from the page: TCP to a port published with DNAT shows the
 * rewrite in the hop list and on the canvas; with a FORWARD DROP rule added, the
 * dropping hop is marked, and clicking it shows the rule the kernel named.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, openApp, test } from '../fixtures';
import { ROOT } from '../server';
import { node } from './helpers';

const DNAT = readFileSync(join(ROOT, 'examples', 'dnat.yaml'), 'utf8');

test('TCP to a published port: the DNAT rewrite in the hops and on the canvas; a dropping hop shows its rule', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(DNAT);
  await openApp(page, server, lab);
  await expect(node(page, 'web')).toBeVisible();

  await page.getByRole('tab', { name: 'Ping trace' }).click();
  await page.getByLabel('Trace source').selectOption('internet');
  await page.getByLabel('Trace protocol').selectOption('tcp');
  await page.getByLabel('Trace port').fill('8080');
  await page.getByLabel('Trace destination').fill('203.0.113.2');
  await page.getByRole('button', { name: 'Trace ping' }).click();

  const verdict = page.getByRole('status', { name: 'Trace verdict' });
  // Nobody listens in web: the SYN still crosses the DNAT, and web answers with a reset.
  await expect(verdict).toContainText('nothing listens on tcp 192.168.1.1 port 80', { timeout: 20_000 });
  const hops = page.getByRole('list', { name: 'Hops' }).locator('li.hop');
  await expect(hops.filter({ hasText: 'DNAT' }).first()).toContainText('192.168.1.1');
  // On the canvas: the DNAT where the SYN was rewritten, and its reverse where the answer was.
  await expect(page.locator('.port-mark[data-mark^="host:"]', { hasText: /^\d+(,\d+)* DNAT/ })).toHaveCount(1);
  await expect(page.locator('.port-mark[data-mark="host:uplink"]', { hasText: 'reverse DNAT' })).toHaveCount(1);
  await shot('flow-trace-1-dnat');

  const added = spawnSync('ip', ['netns', 'exec', `nslab.${lab}.host`, 'iptables', '-A', 'FORWARD', '-p', 'tcp', '--dport', '80', '-j', 'DROP']);
  expect(added.status).toBe(0);
  await page.getByRole('button', { name: 'Trace ping' }).click();
  await expect(verdict).toContainText('dropped in host by the rule "-A FORWARD -p tcp -m tcp --dport 80 -j DROP"', { timeout: 20_000 });
  const dropping = hops.filter({ hasText: 'dropped' });
  await expect(dropping).toHaveCount(1);
  await dropping.click();
  const rules = page.getByLabel(/^Rules at host:/);
  await expect(rules).toContainText('ip filter FORWARD');
  await expect(rules).toContainText('-A FORWARD -p tcp -m tcp --dport 80 -j DROP');
  await shot('flow-trace-2-drop');
});
