/**
 * Shells and canvas share one lab (issue 13): the tutorial's first sequence typed verbatim in
 * the host terminal of an empty lab ends as a veth pair drawn between ns1 and ns2. The host
 * terminal makes the lab its `host` node; `ip netns add` there makes nodes of the lab.
 */
import { expect, openApp, test } from '../fixtures';
import { netns, sh } from '../server';
import { node } from './helpers';
import { terminal, typeIn } from './live-helpers';

const TUTORIAL = [
  'ip netns add ns1',
  'ip netns add ns2',
  'ip link add veth-ns1 type veth peer name veth-ns2',
  'ip link set veth-ns1 netns ns1',
  'ip link set veth-ns2 netns ns2',
  'ip netns exec ns1 ip addr add 192.168.1.1/24 dev veth-ns1',
  'ip netns exec ns2 ip addr add 192.168.1.2/24 dev veth-ns2',
  'ip netns exec ns1 ip link set veth-ns1 up',
  'ip netns exec ns2 ip link set veth-ns2 up',
  'ip netns exec ns1 ping -c 1 192.168.1.2',
];

test('the tutorial typed in the host terminal of an empty lab is drawn as a veth pair between ns1 and ns2', async ({ page, server, lab, shot }) => {
  await openApp(page, server, lab);
  await page.getByRole('tab', { name: 'Terminals' }).click();
  await expect(page.getByLabel('Terminal node')).toHaveValue('host');
  await page.getByRole('button', { name: 'Open terminal' }).click();
  const pane = terminal(page, 'host');
  await expect(pane).toHaveAttribute('data-status', 'live', { timeout: 15_000 });
  await expect(node(page, 'host')).toBeVisible({ timeout: 15_000 });

  await typeIn(page, pane, TUTORIAL.join('; '));
  await expect(pane.locator('.xterm-rows')).toContainText('1 received', { timeout: 20_000 });
  await expect(node(page, 'ns1')).toBeVisible();
  await expect(node(page, 'ns2')).toBeVisible();
  await expect(page.locator('.react-flow__edge')).toHaveCount(1, { timeout: 15_000 });
  await shot('lab-shells-tutorial');
  const list = (await sh(['ip', 'netns', 'list'])).stdout;
  expect(list).toContain(netns(lab, 'ns1'));
  expect(list.split('\n').map((l) => l.split(' ')[0])).not.toContain('ns1');
});
