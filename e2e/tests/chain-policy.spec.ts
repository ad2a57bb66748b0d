/**
 * What the kernel holds beyond the model is shown: a chain policy set with iptables in a
 * lab namespace (outside nslab) appears in the inspector as "FORWARD policy DROP", and a
 * native nftables table as state nslab keeps, without a reload.
 */
import { expect, openApp, test } from '../fixtures';
import { netns, sh } from '../server';
import { node } from './helpers';

test.use({ labPrefix: 'pol-e2e' });

const LAB = `name: x
nodes:
  router:
    forwarding: true
    interfaces:
      eth1: { addresses: [10.61.1.1/24] }
  ns1:
    interfaces:
      eth0: { addresses: [10.61.1.2/24] }
links:
  - [ns1:eth0, router:eth1]
`;

test('a policy and an nftables table made in a shell appear in the inspector', async ({ page, server, lab, applyLab }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await node(page, 'router').locator('.ns-header').click();
  const inspector = page.getByRole('complementary', { name: 'Inspector' });
  await expect(inspector.getByRole('heading', { name: 'router' })).toBeVisible();
  await expect(inspector.getByRole('list', { name: 'Chain policies of router' })).toHaveCount(0);

  expect((await sh(['ip', 'netns', 'exec', netns(lab, 'router'), 'iptables', '-w', '-P', 'FORWARD', 'DROP'])).code).toBe(0);
  await expect(inspector.getByRole('list', { name: 'Chain policies of router' })).toHaveText(/FORWARD policy DROP/);

  expect((await sh(['ip', 'netns', 'exec', netns(lab, 'router'), 'nft', 'add', 'table', 'inet', 't1'])).code).toBe(0);
  await expect(inspector.getByRole('list', { name: 'Firewall state of router that nslab keeps' })).toHaveText(/nftables table inet t1/);

  // Set back from a shell: the line goes, as the kernel's default is not shown.
  expect((await sh(['ip', 'netns', 'exec', netns(lab, 'router'), 'iptables', '-w', '-P', 'FORWARD', 'ACCEPT'])).code).toBe(0);
  await expect(inspector.getByRole('list', { name: 'Chain policies of router' })).toHaveCount(0);
});
