/**
 * The canvas shows the kernel, not what was asked for: a change made with `ip` in a
 * lab namespace (outside nslab) appears without a reload.
 */
import { expect, openApp, test } from '../fixtures';
import { netns, sh } from '../server';
import { node } from './helpers';

const LAB = `name: x
nodes:
  ns1:
    interfaces:
      eth0: { addresses: [10.60.0.1/24] }
  ns2:
    interfaces:
      eth0: { addresses: [10.60.0.2/24] }
links:
  - [ns1:eth0, ns2:eth0]
`;

test('a change made with ip in a lab namespace appears on the canvas', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  const port = node(page, 'ns1').locator('[data-port="eth0"]');
  await expect(port).toContainText('10.60.0.1/24');
  await expect(page.locator('.react-flow__edge')).toHaveCount(1);
  await expect(page.locator('.react-flow__edge-path.is-down')).toHaveCount(0);

  // An address added from a terminal.
  expect((await sh(['ip', '-n', netns(lab, 'ns1'), 'addr', 'add', '10.99.0.1/24', 'dev', 'eth0'])).code).toBe(0);
  await expect(port).toHaveAttribute('aria-label', /10\.99\.0\.1\/24/);
  await expect(port).toContainText('+1');

  // A link brought down: the port and the cable look down.
  expect((await sh(['ip', '-n', netns(lab, 'ns2'), 'link', 'set', 'eth0', 'down'])).code).toBe(0);
  await expect(node(page, 'ns2').locator('[data-port="eth0"]')).toHaveClass(/down/);
  await expect(page.locator('.react-flow__edge-path.is-down')).toHaveCount(1);

  // A namespace's new interface (a bridge made by hand) appears inside it.
  expect((await sh(['ip', '-n', netns(lab, 'ns2'), 'link', 'add', 'br9', 'type', 'bridge'])).code).toBe(0);
  await expect(node(page, 'ns2').locator('[data-bridge="br9"]')).toBeVisible();
  await page.waitForTimeout(300);
  await shot('live-1-kernel-changes');
});
