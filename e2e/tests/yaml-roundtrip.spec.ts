/**
 * Files: the lab downloaded as YAML, destroyed, and opened again through the page
 * gives the same lab in the kernel. The script and the pictures download too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, openApp, test } from '../fixtures';
import { nslab, ROOT } from '../server';
import { node, runPlan } from './helpers';

/** The lab as the kernel has it, in file form (what `nslab show --json` prints). */
async function show(lab: string): Promise<unknown> {
  const r = await nslab('show', lab, '--json');
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

test('a downloaded YAML, re-applied, gives the same lab', async ({ page, server, lab, applyLab, shot }, info) => {
  await applyLab(readFileSync(join(ROOT, 'examples/masquerade.yaml'), 'utf8'));
  await openApp(page, server, lab);
  await expect(page.locator('.react-flow__node')).toHaveCount(3);
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  const original = await show(lab);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download YAML' }).click()]);
  expect(download.suggestedFilename()).toBe(`${lab}.yaml`);
  const file = info.outputPath(`${lab}.yaml`);
  await download.saveAs(file);
  const yaml = readFileSync(file, 'utf8');
  expect(yaml).toContain(`name: ${lab}`);
  expect(yaml).toContain('type: masquerade');

  const [script] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download script' }).click()]);
  expect(script.suggestedFilename()).toBe(`${lab}.sh`);
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PNG' }).click()]);
  expect(png.suggestedFilename()).toBe(`${lab}.png`);
  await png.saveAs(join(ROOT, 'e2e/artifacts/yaml-export-canvas.png'));
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download SVG' }).click()]);
  expect(svg.suggestedFilename()).toBe(`${lab}.svg`);

  // Destroy, then open the downloaded file in the page: plan, run, same lab.
  expect((await nslab('destroy', lab)).code).toBe(0);
  await expect(page.locator('.react-flow__node')).toHaveCount(0);
  await page.getByLabel('Topology file', { exact: true }).setInputFiles(file);
  await runPlan(page, /ip netns add/);
  await expect(node(page, 'host').locator('[data-bridge="br0"]')).toBeVisible();
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  expect(await show(lab)).toEqual(original);
  await shot('yaml-1-reapplied');
});
