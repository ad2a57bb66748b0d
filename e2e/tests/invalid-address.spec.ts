/**
 * An invalid address typed in the inspector: the learner sees why, at the field,
 * and the kernel is not touched.
 */
import { expect, openApp, test } from '../fixtures';
import { addressesOf } from '../server';
import { node } from './helpers';

const LAB = `name: x
nodes:
  ns1:
    interfaces:
      eth0: { addresses: [10.61.0.1/24] }
  ns2:
    interfaces:
      eth0: { addresses: [10.61.0.2/24] }
links:
  - [ns1:eth0, ns2:eth0]
`;

test('an invalid address shows the error at the field and changes nothing in the kernel', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  const before = await addressesOf(lab, 'ns1', 'eth0');
  expect(before).toEqual(['10.61.0.1/24']);

  await node(page, 'ns1').locator('.ns-header').click();
  const iface = page.getByRole('group', { name: 'Interface eth0' });
  const input = iface.getByLabel('Address', { exact: true });
  await input.fill('10.61.0.300/24');
  await iface.getByRole('button', { name: 'Add address' }).click();

  const alert = iface.getByRole('alert');
  await expect(alert).toContainText('"10.61.0.300/24" is not an address');
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('dialog', { name: 'Plan' })).toHaveCount(0);
  // The node on the canvas says so too.
  await expect(node(page, 'ns1').locator('.ns-problem')).toContainText('not an address');
  await shot('invalid-1-address-error');

  // Nothing reached the kernel.
  expect(await addressesOf(lab, 'ns1', 'eth0')).toEqual(before);
  await expect(page.locator('.log-entry')).toHaveCount(0);

  // A duplicate is refused too, in words (the same address twice in one namespace).
  await input.fill('10.61.0.1/24');
  await input.press('Enter');
  await expect(iface.getByRole('alert')).toContainText('already on eth0');
  expect(await addressesOf(lab, 'ns1', 'eth0')).toEqual(before);
});
