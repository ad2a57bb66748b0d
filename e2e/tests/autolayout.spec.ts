/**
 * The automatic layout's "Laying out N namespaces…" note goes away when the lab it
 * was for is left before its layout started. It used to stay for good (and hide
 * every node of the next lab) when a page first opened another lab that needed a
 * layout and then switched to the lab in its address, as a page opened at "/" does.
 */
import { expect, test } from '../fixtures';
import { nslab } from '../server';
import { dragFromPalette, node, runPlan } from './helpers';

test('leaving a lab while its layout is pending clears the note; the next lab draws its nodes', async ({ page, server, lab, applyLab }) => {
  await applyLab('name: x\nnodes:\n  ns1: {}\n');
  const other = `${lab}-b`;
  // The moment the note appears for `lab` (its layout waits for more patches first),
  // switch to another lab: the layout of `lab` never starts.
  await page.addInitScript(([from, to]) => {
    const observer = new MutationObserver(() => {
      const note = Array.from(document.querySelectorAll('[role="status"]')).some((e) => e.textContent?.startsWith('Laying out'));
      if (!note || location.hash !== `#lab=${from}`) return;
      observer.disconnect();
      location.hash = `#lab=${to}`;
    });
    observer.observe(document, { childList: true, subtree: true, characterData: true });
  }, [lab, other] as const);
  // The token link's redirect keeps the fragment, so the page starts on `lab`.
  await page.goto(`${server.base}/?token=${server.token}#lab=${lab}`);
  await expect(page.getByLabel('Lab', { exact: true })).toHaveValue(other);
  await expect(page.getByText('Build a network, one namespace at a time')).toBeVisible();
  await expect(page.getByText(/^Laying out/)).toHaveCount(0);

  // The other lab is built by hand, and its first node is drawn.
  await page.getByLabel('Assign addresses to new links').uncheck();
  try {
    await dragFromPalette(page, 'Add namespace', 140, 90);
    await runPlan(page, /ip netns add/);
    await expect(node(page, 'ns1')).toBeVisible();
  } finally {
    await nslab('destroy', other);
  }
});
