/**
 * How it looks: the dark theme, a large screen with an example lab, the
 * shortcuts, and every control having an accessible name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, openApp, test } from '../fixtures';
import { ROOT } from '../server';
import { node, runPlan } from './helpers';

test('dark theme on a large screen, with an example lab; every control is named', async ({ page, server, lab, applyLab, shot }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await applyLab(readFileSync(join(ROOT, 'examples/dnat.yaml'), 'utf8'));
  await openApp(page, server, lab);
  await expect(page.locator('.react-flow__node')).toHaveCount(3);
  await page.getByRole('button', { name: 'Toggle theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', /dark|light/);
  const theme = await page.locator('html').getAttribute('data-theme');
  if (theme !== 'dark') await page.getByRole('button', { name: 'Toggle theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await node(page, 'host').locator('.ns-header').click();
  await page.waitForTimeout(300);
  await shot('look-1-dark-large');

  // Every button, input and select has a name a test (or a screen reader) can use.
  const unnamed = await page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('button, input, select, [role="button"]'))) {
      if (el.closest('[hidden]') || (el as HTMLInputElement).type === 'hidden') continue;
      const name = el.getAttribute('aria-label') || el.getAttribute('title') || (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent) || el.closest('label')?.textContent || el.textContent;
      if (!name || !name.trim()) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
  expect(unnamed).toEqual([]);

  // A click on a palette item adds it in the middle of the view: a router has forwarding on.
  await page.getByRole('button', { name: /^Router / }).click();
  await runPlan(page, /net\.ipv4\.ip_forward=1/);
  await expect(node(page, 'router').locator('.badge.fwd')).toBeVisible();

  // The shortcuts dialog, and the light theme at 1280x720.
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Toggle theme' }).click();
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.getByRole('button', { name: 'Fit view', exact: true }).click();
  await page.waitForTimeout(400);
  await shot('look-2-light-1280');
});
