/**
 * Open and copy (issue 13): a bundled example opens into the lab the page shows (not the lab its
 * file names), its lab guide shows at once, and the lab can be copied under another name.
 */
import { expect, openApp, test } from '../fixtures';
import { netns, nslab, sh } from '../server';
import { node, runPlan } from './helpers';

test('an example opens into the current lab with its guide; the lab copies under a new name', async ({ page, server, lab }) => {
  const copy = `${lab}-c`.slice(0, 24);
  try {
    await openApp(page, server, lab);
    await page.getByRole('button', { name: 'Open example bridge' }).click();
    await runPlan(page, new RegExp(netns(lab, 'host').replace(/\./g, '\\.')));
    await expect(page.getByLabel('Lab', { exact: true })).toHaveValue(lab);
    await expect(node(page, 'host')).toBeVisible();
    await expect(page.getByRole('region', { name: 'Lab guide' })).toBeVisible({ timeout: 15_000 });

    await page.getByLabel('Lab', { exact: true }).selectOption({ label: 'Copy this lab as…' });
    await page.getByLabel('Copy lab as').fill(copy);
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await runPlan(page, new RegExp(netns(copy, 'host').replace(/\./g, '\\.')));
    await expect(page.getByLabel('Lab', { exact: true })).toHaveValue(copy);
    await expect(node(page, 'host')).toBeVisible();
    const list = (await sh(['ip', 'netns', 'list'])).stdout;
    expect(list).toContain(netns(copy, 'ns1'));
    expect(list).toContain(netns(lab, 'ns1'));
  } finally {
    await nslab('destroy', copy);
  }
});
