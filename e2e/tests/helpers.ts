/**
 * What a user does on the canvas, as Playwright steps: drag from the palette,
 * drag a link from a "+" knob, run the plan that appears, wait for the kernel.
 */
import { expect } from '@playwright/test';
import type { Locator, Page } from '@playwright/test';

/** The canvas node of a namespace. */
export function node(page: Page, name: string): Locator {
  return page.locator(`.react-flow__node[data-id="${name}"]`);
}

/** Drags a palette item onto the canvas at (x, y) relative to the canvas's top-left corner (HTML5 drag and drop). */
export async function dragFromPalette(page: Page, title: string, x: number, y: number): Promise<void> {
  await page.getByRole('button', { name: new RegExp(`^${title} `) }).dragTo(page.locator('.react-flow__pane'), { targetPosition: { x, y } });
}

/** Runs the plan being shown, checking first that it lists `expectCommand` when given, and waits for the run to finish. */
export async function runPlan(page: Page, expectCommand?: RegExp): Promise<void> {
  const plan = page.getByRole('dialog', { name: 'Plan' });
  await expect(plan).toBeVisible();
  if (expectCommand) await expect(plan).toContainText(expectCommand);
  const before = await page.locator('.log-entry.is-ok').count();
  // The button is named by what it shows ("Run 3 commands").
  await plan.getByRole('button', { name: /^Run \d+ commands?$/ }).click();
  await expect(plan).toBeHidden();
  await expect(page.locator('.log-entry.is-ok')).toHaveCount(before + 1, { timeout: 20_000 });
}

/** Drags a link from a "+" knob (by its accessible name) onto `target`, with real mouse moves. */
export async function dragLink(page: Page, knob: string, target: Locator): Promise<void> {
  const from = await page.getByLabel(knob, { exact: true }).boundingBox();
  const to = await target.boundingBox();
  if (!from || !to) throw new Error(`cannot see ${knob} or its target`);
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 30, from.y + from.height / 2 + 10, { steps: 4 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
  await page.mouse.up();
}
