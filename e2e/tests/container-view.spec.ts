/**
 * Two views (issue 8): a Docker lab in the container view (sandboxes, endpoints,
 * networks); selecting an endpoint there selects, in the kernel view, the veth pair
 * and bridge port that implement it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostVethName } from '@nslab/model';
import { expect, openApp, test } from '../fixtures';
import { ROOT } from '../server';
import { node } from './helpers';
import { setTheme } from './live-helpers';

test('an endpoint selected in the container view is its veth pair in the kernel view', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(readFileSync(join(ROOT, 'examples/docker-modes.yaml'), 'utf8'));
  await openApp(page, server, lab);
  await expect(node(page, 'web')).toBeVisible();

  await page.getByRole('radio', { name: 'Containers' }).click();
  const view = page.getByRole('region', { name: 'Container view' });
  await expect(view.getByRole('article', { name: 'Container web' })).toBeVisible();
  await expect(view.getByRole('button', { name: 'Network bridge' })).toContainText('172.17.0.0/16');
  await expect(view.getByRole('button', { name: 'Network backend' })).toContainText('internal');
  await expect(view.getByRole('article', { name: 'Container tool' })).toContainText("shares host's network namespace");

  await view.getByRole('button', { name: 'Endpoint web eth0' }).click();
  await expect(view.getByRole('button', { name: 'Endpoint web eth0' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('complementary', { name: 'Inspector' })).toContainText('web');
  await shot('containers-1-endpoint-light');
  await setTheme(page, 'dark');
  await shot('containers-2-endpoint-dark');
  await setTheme(page, 'light');

  await page.getByRole('radio', { name: 'Kernel' }).click();
  const veth = hostVethName('web', 'bridge');
  const edge = page.locator('.react-flow__edge.hl-select');
  await expect(edge).toHaveCount(1);
  await expect(edge).toHaveAttribute('aria-label', new RegExp(`web:eth0.*host:${veth}|host:${veth}.*web:eth0`));
  await expect(page.locator(`.port-mark[data-mark="host:${veth}"]`)).toHaveCount(1);
  await expect(page.locator('.port-mark[data-mark="web:eth0"]')).toHaveCount(1);
  await shot('containers-3-kernel-highlight');
});

test('a plain lab has a container view too, derived from the kernel', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(readFileSync(join(ROOT, 'examples/masquerade.yaml'), 'utf8'));
  await openApp(page, server, lab);
  await expect(node(page, 'ns1')).toBeVisible();
  await page.getByRole('radio', { name: 'Containers' }).click();
  const view = page.getByRole('region', { name: 'Container view' });
  await expect(view).toContainText('derived from the kernel');
  await expect(view.getByRole('article', { name: 'Namespace ns1' })).toBeVisible();
  await expect(view.getByRole('button', { name: 'Network br0 (host)' })).toContainText('192.168.1.254');
  await view.getByRole('button', { name: 'Network br0 (host)' }).click();
  await expect(view.getByRole('button', { name: 'Endpoint ns1 eth0' })).toHaveAttribute('aria-pressed', 'false');
  await view.getByRole('button', { name: 'Endpoint ns1 eth0' }).click();
  await shot('containers-4-generic');
  await page.getByRole('radio', { name: 'Kernel' }).click();
  await expect(page.locator('.react-flow__edge.hl-select')).toHaveAttribute('aria-label', /ns1:eth0/);
});
