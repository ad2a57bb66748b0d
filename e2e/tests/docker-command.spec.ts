/**
 * The docker command in a Docker lab's host terminal: `docker network create`, `docker run
 * -d --name web --network NET nginx` and `docker ps` typed in the page put a container on
 * the canvas and in the container view, on its network; a container started with
 * `--net=container:web` joins web's sandbox there; `docker rm -f` takes them away from both
 * (and from the kernel).
 */
import { expect, openApp, test } from '../fixtures';
import { netns, sh } from '../server';
import { node } from './helpers';
import { terminal, typeIn } from './live-helpers';

test.use({ labPrefix: 'e2e-docker' });

/** A Docker host with a machine beyond it, and one container on the default bridge. */
const LAB = `name: x
nodes:
  host:
    interfaces:
      uplink: { addresses: [203.0.113.2/24] }
  internet:
    interfaces:
      eth0: { addresses: [203.0.113.1/24] }
links:
  - [internet:eth0, host:uplink]
networks:
  bridge: { subnet: 172.17.0.0/16 }
containers:
  client: {}
`;

test('docker network create, run and ps typed in the host terminal show the container on the canvas and in the container view; --net=container: joins its sandbox; rm -f removes them', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(LAB);
  await openApp(page, server, lab);
  await expect(node(page, 'client')).toBeVisible();

  await page.getByRole('tab', { name: 'Terminals' }).click();
  await expect(page.getByLabel('Terminal node')).toHaveValue('host');
  await page.getByRole('button', { name: 'Open terminal' }).click();
  const pane = terminal(page, 'host');
  await expect(pane).toHaveAttribute('data-status', 'live', { timeout: 15_000 });
  const screen = pane.locator('.xterm-rows');

  await typeIn(page, pane, 'docker network create --subnet 10.50.0.0/24 front');
  await expect(screen).toContainText(/[0-9a-f]{64}/, { timeout: 20_000 });
  await typeIn(page, pane, 'docker run -d --name web --network front nginx');
  await expect(node(page, 'web')).toBeVisible({ timeout: 20_000 });
  await typeIn(page, pane, 'docker ps');
  await expect(screen).toContainText(/[0-9a-f]{12}\s+nginx\s+.*Up\s+web/, { timeout: 20_000 });
  // The kernel has it: its own namespace, with the network's first address.
  expect((await sh(['ip', 'netns', 'list'])).stdout).toContain(netns(lab, 'web'));
  await shot('docker-command-1-canvas');

  await page.getByRole('radio', { name: 'Containers' }).click();
  const view = page.getByRole('region', { name: 'Container view' });
  await expect(view.getByRole('article', { name: 'Container web' })).toBeVisible();
  await expect(view.getByRole('button', { name: 'Network front' })).toContainText('10.50.0.0/24');
  const endpoint = view.getByRole('button', { name: 'Endpoint web eth0' });
  await expect(endpoint).toContainText('10.50.0.2/24');
  await expect(endpoint).toHaveAttribute('data-network', 'net:front');
  await shot('docker-command-2-container-view');

  // Container mode: side joins web's sandbox instead of having one of its own.
  await typeIn(page, pane, 'docker run -d --name side --net=container:web busybox');
  await expect(view.getByRole('article', { name: 'Container web' })).toContainText('shared with side (container mode)', { timeout: 20_000 });
  await expect(view.getByRole('article', { name: 'Container side' })).toHaveCount(0);
  await shot('docker-command-3-container-mode');

  await page.getByRole('radio', { name: 'Kernel' }).click();
  await typeIn(page, pane, 'docker rm -f side web');
  await expect(node(page, 'web')).toHaveCount(0, { timeout: 20_000 });
  await expect(node(page, 'client')).toBeVisible();
  expect((await sh(['ip', 'netns', 'list'])).stdout).not.toContain(netns(lab, 'web'));
  await page.getByRole('radio', { name: 'Containers' }).click();
  await expect(view.getByRole('article', { name: 'Container client' })).toBeVisible();
  await expect(view.getByRole('article', { name: 'Container web' })).toHaveCount(0);
});
