/**
 * The canvas as a demo surface: a window resized (or the dock opened) re-fits the lab so
 * every node stays in view and clear of the zoom buttons; the SVG picture is vector shapes
 * for every node with every firewall rule written out; every button's accessible name
 * says what its visible label says; presentation mode hides the chrome and sets the guide
 * in large type beside the canvas.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, openApp, test } from '../fixtures';
import { ROOT } from '../server';

/** True when every node's box lies inside the canvas and clear of the zoom buttons. */
async function everyNodeInView(page: Page): Promise<{ ok: boolean; detail: string }> {
  return page.evaluate(() => {
    const canvas = document.querySelector('.canvas')?.getBoundingClientRect();
    const controls = document.querySelector('.react-flow__controls')?.getBoundingClientRect();
    if (!canvas) return { ok: false, detail: 'no canvas' };
    const bad: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('.react-flow__node'))) {
      const r = el.getBoundingClientRect();
      const inside = r.left >= canvas.left - 1 && r.top >= canvas.top - 1 && r.right <= canvas.right + 1 && r.bottom <= canvas.bottom + 1;
      const underControls = controls !== undefined && r.left < controls.right && r.right > controls.left && r.top < controls.bottom && r.bottom > controls.top;
      if (!inside || underControls) bad.push(`${el.dataset.id} ${inside ? 'under the zoom buttons' : 'outside the canvas'}`);
    }
    return { ok: bad.length === 0, detail: bad.join(', ') };
  });
}

test('a resized window and an opened dock re-fit the lab: every node stays in view, clear of the zoom buttons', async ({ page, server, lab, applyLab }) => {
  await applyLab(readFileSync(join(ROOT, 'examples/bridge.yaml'), 'utf8'));
  await openApp(page, server, lab);
  await expect(page.locator('.react-flow__node')).toHaveCount(4);
  await expect.poll(() => everyNodeInView(page)).toEqual({ ok: true, detail: '' });

  await page.setViewportSize({ width: 900, height: 560 });
  await expect.poll(() => everyNodeInView(page)).toEqual({ ok: true, detail: '' });

  // The dock takes the lower part of the canvas away.
  await page.getByRole('tab', { name: 'Command log' }).click();
  await expect.poll(() => everyNodeInView(page)).toEqual({ ok: true, detail: '' });

  await page.setViewportSize({ width: 1600, height: 900 });
  await expect.poll(() => everyNodeInView(page)).toEqual({ ok: true, detail: '' });
  // The page is exactly the window: nothing to scroll, with the dock open or closed.
  const overflow = () => page.evaluate(() => ({ x: document.documentElement.scrollWidth - window.innerWidth, y: document.documentElement.scrollHeight - window.innerHeight }));
  expect(await overflow()).toEqual({ x: 0, y: 0 });
  await page.getByRole('button', { name: 'Close dock' }).click();
  expect(await overflow()).toEqual({ x: 0, y: 0 });
});

test('the SVG picture is vector shapes for every node, with every firewall rule written out', async ({ page, server, lab, applyLab }, info) => {
  await applyLab(readFileSync(join(ROOT, 'examples/dnat.yaml'), 'utf8'));
  await openApp(page, server, lab);
  const names = ['web', 'host', 'internet'];
  await expect(page.locator('.react-flow__node')).toHaveCount(names.length);
  // On the canvas the host's two rules are summed up in one line.
  await expect(page.locator('.react-flow__node[data-id="host"] .ns-facts')).toContainText('2 firewall rules');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download SVG' }).click()]);
  const file = info.outputPath(`${lab}.svg`);
  await download.saveAs(file);
  const svg = readFileSync(file, 'utf8');
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg).not.toContain('foreignObject');
  for (const name of names) {
    const group = new RegExp(`<g data-node="${name}">(.*?)</g>`, 's').exec(svg)?.[1] ?? '';
    expect(group, `node ${name}`).toMatch(/<rect /);
    expect(group, `node ${name}`).toContain(`>${name}</text>`);
  }
  const host = /<g data-node="host">(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
  expect(host).toContain('DNAT tcp/8080 -&gt; 192.168.1.1:80');
  expect(host).toMatch(/MASQUERADE from 192\.168\.1\.0\/24/);
  expect(host).not.toContain('firewall rules');
  // Both links, drawn as paths under the nodes (the icons inside the nodes have paths of their own).
  expect(svg.slice(0, svg.indexOf('<g data-node')).match(/<path d="M/g)?.length).toBe(2);
  // The summary is back on the canvas afterwards.
  await expect(page.locator('.react-flow__node[data-id="host"] .ns-facts')).toContainText('2 firewall rules');
});

test('every button names itself by what it shows: the accessible name contains the visible label', async ({ page, server, lab, applyLab }) => {
  await applyLab(readFileSync(join(ROOT, 'examples/masquerade.yaml'), 'utf8'));
  await openApp(page, server, lab);
  await expect(page.locator('.react-flow__node')).toHaveCount(3);
  const mismatches = async () => page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('button, a.btn, [role="tab"]'))) {
      if (el.offsetParent === null) continue; // not shown
      const visible = el.innerText.replace(/\s+/g, ' ').trim();
      const label = el.getAttribute('aria-label');
      if (!visible || label === null) continue;
      if (!label.toLowerCase().includes(visible.toLowerCase())) out.push(`"${visible}" is named "${label}"`);
    }
    return out;
  });
  expect(await mismatches()).toEqual([]);
  // The panels that open from the page have buttons too.
  for (const tab of ['Terminals', 'Packets', 'Ping trace', 'Command log']) {
    await page.getByRole('tab', { name: tab }).click();
    expect(await mismatches(), `in ${tab}`).toEqual([]);
  }
  await page.locator('.react-flow__node[data-id="host"] .ns-header').click();
  expect(await mismatches(), 'in the inspector').toEqual([]);
  // The plan dialog's buttons (Destroy lab shows one; Cancel runs nothing).
  await page.keyboard.press('Escape');
  await page.getByRole('complementary', { name: 'Inspector' }).getByRole('button', { name: 'Destroy lab' }).click();
  const plan = page.getByRole('dialog', { name: 'Plan' });
  await expect(plan).toBeVisible();
  expect(await mismatches(), 'in the plan dialog').toEqual([]);
  await expect(plan.getByRole('button', { name: 'Run 3 commands', exact: true })).toBeVisible();
  await plan.getByRole('button', { name: 'Cancel' }).click();
  await expect(plan).toBeHidden();
});

test('presentation mode hides the chrome, sets the lab guide in large type beside a larger canvas, and Escape or P leaves it', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(readFileSync(join(ROOT, 'examples/bridge.yaml'), 'utf8'));
  await openApp(page, server, lab);
  await expect(page.locator('.react-flow__node')).toHaveCount(4);
  const before = await page.locator('.stage').boundingBox();

  await page.getByRole('button', { name: 'Present', exact: true }).click();
  await expect(page.locator('.topbar')).toBeHidden();
  await expect(page.getByRole('complementary', { name: 'Inspector' })).toBeHidden();
  await expect(page.getByRole('button', { name: /^Namespace / })).toBeHidden();
  const guide = page.getByRole('complementary', { name: 'Guide' });
  await expect(guide.getByRole('region', { name: 'Lab guide' })).toBeVisible();
  expect(Number.parseFloat(await guide.evaluate((el) => getComputedStyle(el).fontSize))).toBeGreaterThanOrEqual(20);
  const during = await page.locator('.stage').boundingBox();
  expect((during?.width ?? 0) * (during?.height ?? 0)).toBeGreaterThan((before?.width ?? 0) * (before?.height ?? 0));
  await expect.poll(() => everyNodeInView(page)).toEqual({ ok: true, detail: '' });
  await shot('present-1-guide');

  await page.keyboard.press('Escape');
  await expect(page.locator('.topbar')).toBeVisible();
  await expect(guide).toHaveCount(0);
  await page.keyboard.press('p');
  await expect(page.locator('.topbar')).toBeHidden();
  await page.getByRole('button', { name: 'Leave presentation' }).click();
  await expect(page.getByRole('complementary', { name: 'Inspector' })).toBeVisible();
});
