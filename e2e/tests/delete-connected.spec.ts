/**
 * Deleting a namespace that is joined to a bridge, with the Delete key: the plan shows the
 * peer's end (the bridge port) going with it, and afterwards neither the node nor its port
 * is left, on the canvas or in the kernel. Destroying the whole lab goes through the same
 * plan dialog: Cancel keeps it, running it deletes every namespace.
 */
import { expect, openApp, test } from '../fixtures';
import { ipJson, netns, sh } from '../server';
import { node, runPlan } from './helpers';

const LAB = (lab: string) => `name: ${lab}
nodes:
  host:
    interfaces:
      br0: { kind: bridge, addresses: [10.63.0.254/24] }
      veth-ns1: { master: br0 }
      veth-ns2: { master: br0 }
  ns1:
    interfaces:
      eth0: { addresses: [10.63.0.1/24] }
  ns2:
    interfaces:
      eth0: { addresses: [10.63.0.2/24] }
links:
  - [ns1:eth0, host:veth-ns1]
  - [ns2:eth0, host:veth-ns2]
`;

test('Delete removes a connected namespace and its peer port on the bridge', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB(lab));
  await openApp(page, server, lab);
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);

  await node(page, 'ns1').locator('.ns-header').click();
  await expect(page.getByRole('complementary', { name: 'Inspector' }).getByRole('heading', { name: 'ns1' })).toBeVisible();
  await page.keyboard.press('Delete');
  const plan = page.getByRole('dialog', { name: 'Plan' });
  await expect(plan).toContainText(new RegExp(`ip -n ${netns(lab, 'host').replace(/\./g, '\\.')} link del dev veth-ns1`));
  await shot('delete-connected-plan');
  await runPlan(page, new RegExp(`ip netns del ${netns(lab, 'ns1').replace(/\./g, '\\.')}`));

  await expect(node(page, 'ns1')).toHaveCount(0);
  await expect(page.locator('.react-flow__edge')).toHaveCount(1);
  expect((await sh(['ip', '-n', netns(lab, 'host'), 'link', 'show', 'veth-ns1'])).code).not.toBe(0);
  const ports = await ipJson<{ ifname: string }[]>(lab, 'host', 'link', 'show', 'master', 'br0');
  expect(ports.map((p) => p.ifname)).toEqual(['veth-ns2']);
  expect((await sh(['ip', 'netns', 'list'])).stdout).not.toContain(netns(lab, 'ns1'));
});

test('Destroy lab shows its plan first: Cancel keeps the lab, running it deletes every namespace', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB(lab));
  await openApp(page, server, lab);
  await expect(node(page, 'ns2')).toBeVisible();
  const inspector = page.getByRole('complementary', { name: 'Inspector' });
  await inspector.getByRole('button', { name: 'Destroy lab' }).click();
  const plan = page.getByRole('dialog', { name: 'Plan' });
  for (const n of ['host', 'ns1', 'ns2']) await expect(plan).toContainText(`ip netns del ${netns(lab, n)}`);
  await expect(plan.getByRole('button', { name: 'Run 3 commands', exact: true })).toBeVisible();
  await shot('destroy-lab-plan');
  await plan.getByRole('button', { name: 'Cancel' }).click();
  await expect(plan).toBeHidden();
  expect((await sh(['ip', 'netns', 'list'])).stdout).toContain(netns(lab, 'ns1'));

  await inspector.getByRole('button', { name: 'Destroy lab' }).click();
  await runPlan(page, new RegExp(`ip netns del ${netns(lab, 'host').replace(/\./g, '\\.')}`));
  await expect(node(page, 'ns1')).toHaveCount(0);
  const left = (await sh(['ip', 'netns', 'list'])).stdout;
  for (const n of ['host', 'ns1', 'ns2']) expect(left).not.toContain(netns(lab, n));
});
