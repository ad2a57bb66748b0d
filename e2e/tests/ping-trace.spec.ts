/**
 * Ping trace (issue 7): traced from the UI on a bridge lab, the echo's journey is
 * listed hop by hop (there and back) and its path highlighted on the canvas.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, openApp, test } from '../fixtures';
import { ROOT } from '../server';
import { node } from './helpers';
import { bridgeLabYaml, setTheme } from './live-helpers';

const LAB = bridgeLabYaml('10.62.0');

test('a ping traced from ns1 to ns3 is listed hop by hop and drawn on the canvas', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(node(page, 'ns3')).toBeVisible();

  await page.getByRole('tab', { name: 'Ping trace' }).click();
  await page.getByLabel('Trace source').selectOption('ns1');
  await page.getByLabel('Trace destination').fill('10.62.0.3');
  await page.getByRole('button', { name: 'Trace', exact: true }).click();

  const verdict = page.getByRole('status', { name: 'Trace verdict' });
  await expect(verdict).toContainText('ns1 reached 10.62.0.3', { timeout: 20_000 });
  const hops = page.getByRole('list', { name: 'Hops' }).locator('li');
  const text = (await hops.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
  const at = (s: string) => text.findIndex((t) => t.includes(s));
  // There: out of ns1, through the bridge, into ns3; and back.
  const out1 = text.findIndex((t) => /ns1:eth0 out .*request/.test(t));
  const in3 = text.findIndex((t) => /ns3:eth0 in .*request/.test(t));
  const out3 = text.findIndex((t) => /ns3:eth0 out .*reply/.test(t));
  const in1 = text.findIndex((t) => /ns1:eth0 in .*reply/.test(t));
  expect(out1, text.join('\n')).toBe(0);
  expect(at('host:veth-ns1 in')).toBeGreaterThan(out1);
  expect(at('host:veth-ns3 out')).toBeGreaterThan(at('host:veth-ns1 in'));
  expect(in3).toBeGreaterThan(at('host:veth-ns3 out'));
  expect(out3).toBeGreaterThan(in3);
  expect(in1).toBeGreaterThan(out3);
  expect(text.some((t) => t.includes('ns2:'))).toBe(false);

  // The path on the canvas: both veth pairs the echo crossed, not ns2's; the ports it was seen at.
  await expect(page.locator('.react-flow__edge.hl-trace')).toHaveCount(2);
  await expect(page.locator('.react-flow__edge[aria-label*="ns2:eth0"]')).not.toHaveClass(/hl-trace/);
  await expect(page.locator('.port-mark[data-mark="ns1:eth0"]')).toHaveCount(1);
  await expect(page.locator('.port-mark[data-mark="host:veth-ns3"]')).toHaveCount(1);
  await shot('trace-1-bridge-light');
  await setTheme(page, 'dark');
  await shot('trace-2-bridge-dark');
  await setTheme(page, 'light');

  // Another tab in front: the canvas is clean again; back on the trace tab, the path is drawn again.
  await page.getByRole('tab', { name: 'Command log' }).click();
  await expect(page.locator('.react-flow__edge.hl-trace')).toHaveCount(0);
  await expect(page.locator('.port-mark')).toHaveCount(0);
  await page.getByRole('tab', { name: 'Ping trace' }).click();
  await expect(page.locator('.react-flow__edge.hl-trace')).toHaveCount(2);
});

test('a ping that cannot succeed says where it was last seen and why', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(node(page, 'ns1')).toBeVisible();
  await page.getByRole('tab', { name: 'Ping trace' }).click();
  await page.getByLabel('Trace source').selectOption('ns1');
  await page.getByLabel('Trace destination').fill('10.62.0.99');
  await page.getByRole('button', { name: 'Trace', exact: true }).click();
  const verdict = page.getByRole('status', { name: 'Trace verdict' });
  await expect(verdict).toContainText('No reply from 10.62.0.99', { timeout: 20_000 });
  await expect(verdict.locator('.trace-cause')).not.toBeEmpty();
  await shot('trace-3-failure');
});

test('a ping through a MASQUERADE shows the source rewritten on the way out and back', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(readFileSync(join(ROOT, 'examples/masquerade.yaml'), 'utf8'));
  await openApp(page, server, lab);
  await expect(node(page, 'internet')).toBeVisible();
  // From the node's context menu this time.
  await node(page, 'ns1').locator('.ns-header').click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Trace ping from here' }).click();
  await expect(page.getByLabel('Trace source')).toHaveValue('ns1');
  await page.getByLabel('Trace destination').fill('203.0.113.1');
  await page.getByRole('button', { name: 'Trace', exact: true }).click();
  await expect(page.getByRole('status', { name: 'Trace verdict' })).toContainText('ns1 reached 203.0.113.1', { timeout: 20_000 });
  const rewritten = page.getByRole('list', { name: 'Hops' }).locator('li.rewritten');
  await expect(rewritten.first()).toContainText('192.168.1.1');
  await expect(rewritten.first()).toContainText('203.0.113.2');
  await expect(page.locator('.react-flow__edge.hl-trace')).toHaveCount(2);
  await page.getByRole('button', { name: 'Maximise dock' }).click();
  await shot('trace-4-masquerade-maximised');
  await page.getByRole('button', { name: 'Restore dock' }).click();
});
