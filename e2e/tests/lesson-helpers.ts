/**
 * Lesson specs' steps: a lab of this suite's own (destroyed afterwards, even when the
 * test fails), and the lesson column with one lesson started from its list.
 */
import { randomBytes } from 'node:crypto';
import type { Locator, Page } from '@playwright/test';
import { expect } from '../fixtures';
import { nslab } from '../server';

/** A `lab` fixture for lesson specs: l2-lesson-XXXXXX (`base.extend<{ lab: string }>({ lab: lessonLab })`). */
export async function lessonLab({}, use: (lab: string) => Promise<void>): Promise<void> {
  await useLessonLab(`l2-lesson-${randomBytes(3).toString('hex')}`, use);
}

/** Gives a test the lab `lab` and destroys it afterwards, even when the test fails. */
export async function useLessonLab(lab: string, use: (lab: string) => Promise<void>): Promise<void> {
  try {
    await use(lab);
  } finally {
    // A test that only reads the lesson list makes no lab: nothing to destroy is not a failure.
    const destroyed = await nslab('destroy', lab);
    // A lab left behind fails the test, as in fixtures.ts, even when it replaces the test's own error.
    // eslint-disable-next-line no-unsafe-finally
    if (destroyed.code !== 0 && !/no lab named/.test(destroyed.stderr)) throw new Error(`nslab destroy ${lab} failed: ${destroyed.stderr}`);
  }
}

/** Opens the lesson column and starts the lesson titled `title` (with "My own values" ticked when `vary`); resolves with the column once lesson `id` shows. */
export async function startLesson(page: Page, title: string, id: string, options: { vary?: boolean } = {}): Promise<Locator> {
  const panel = page.getByRole('complementary', { name: 'Lesson' });
  // The column may be open already (the server's word on the lab's lesson opens it): open it only when closed.
  const button = page.getByRole('button', { name: 'Lessons' });
  await expect(async () => {
    if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
    await expect(panel).toBeVisible({ timeout: 2000 });
  }).toPass();
  if (options.vary !== undefined) await panel.getByRole('checkbox', { name: /My own values/ }).setChecked(options.vary);
  await panel.getByRole('listitem').filter({ hasText: title }).getByRole('button', { name: 'Start' }).click();
  await expect(panel).toHaveAttribute('data-lesson', id, { timeout: 30_000 });
  return panel;
}
