/**
 * "My own values" in the lesson column: unticked for a page that is not a classroom
 * trainee's, and when ticked the lesson starts with the values picked from the lab's
 * name (so two learners' labs differ): the kernel has them, and the step text, the
 * checks and Show me's plan show them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chooseParams, defaults, parseLesson } from '@nslab/model';
import { expect, openApp, test as base } from '../fixtures';
import { startLesson, useLessonLab } from './lesson-helpers';
import { netns, sh } from '../server';

const parsed = parseLesson(readFileSync(fileURLToPath(new URL('../../lessons/router.yaml', import.meta.url)), 'utf8'));
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const router = parsed.lesson;

/** The values "My own values" picks for a lab (its name is the seed). */
function varied(lab: string): Map<string, string> {
  const chosen = chooseParams(router, { seed: lab });
  if (!chosen.ok) throw new Error(JSON.stringify(chosen.problems));
  return chosen.values;
}

// A lab of this suite whose own values differ from the defaults (a name is drawn again until they do), so the test tells them apart.
const test = base.extend<{ lab: string }>({
  lab: async ({}, use) => {
    let name = `les-vary-${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < 100 && varied(name).get('left') === defaults(router).get('left'); i += 1) name = `les-vary-${randomBytes(3).toString('hex')}`;
    await useLessonLab(name, use);
  },
});

test('router started with My own values: the kernel, the step text, the checks and the plan show the lab\'s own subnets', async ({ page, server, lab, shot }) => {
  await openApp(page, server, lab);
  const values = varied(lab);
  const left = values.get('left') as string;
  const right = values.get('right') as string;
  expect(left).not.toBe(defaults(router).get('left'));

  const panel = page.getByRole('complementary', { name: 'Lesson' });
  await page.getByRole('button', { name: 'Lessons' }).click();
  // Not a classroom trainee's page: the box starts unticked.
  await expect(panel.getByRole('checkbox', { name: /My own values/ })).not.toBeChecked();
  await startLesson(page, 'A router between two subnets', 'router', { vary: true });

  const ns1 = (await sh(['ip', '-n', netns(lab, 'ns1'), '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
  expect(ns1).toContain(`inet ${left}.2/24`);
  await expect(panel.locator('[data-step="routes"] .lesson-text')).toContainText(`${left}.0/24`);
  await expect(panel.locator('[data-check="ns1-reaches-ns2"]')).toContainText(`ns1 pings ${right}.2 through the router`);
  await expect(panel.locator('[data-check="ns1-route"]')).toHaveAttribute('data-state', 'fail', { timeout: 15_000 });
  await shot('lesson-vary');

  await panel.locator('[data-step="routes"]').getByRole('button', { name: 'Show me' }).click();
  const plan = page.getByRole('dialog', { name: 'Plan' });
  await expect(plan).toContainText(`route add default via ${left}.1`);
  await expect(plan).toContainText(`route add default via ${right}.1`);
});
