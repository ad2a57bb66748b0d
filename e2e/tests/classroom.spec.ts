/**
 * The classroom, from the instructor's page: the instructor adds two trainees and hands out their
 * join links; each trainee builds a lab named "web" in their own browser; neither sees the other's;
 * the instructor's class view shows both labs live; Watch opens a live view that follows edits and
 * refuses them; Take control opens a trainee's lab on the instructor's canvas; one lesson is
 * started for the whole class; removing a trainee ends their page and destroys their labs.
 * This spec starts its own server in classroom mode (the fixture's server is not one).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import type { Browser, Page } from '@playwright/test';
import { expect, test } from '../fixtures';
import type { ServerHandle } from '../server';
import { nslab, sh, startServer, stopServer } from '../server';
import { node, runPlan } from './helpers';

const WEB = `name: web
nodes:
  ns1:
    interfaces:
      eth0: { addresses: [10.71.0.1/24] }
  ns2:
    interfaces:
      eth0: { addresses: [10.71.0.2/24] }
links:
  - [ns1:eth0, ns2:eth0]
`;

/** The same lab with a third namespace, for an edit the instructor and a viewer must see arrive. */
const WEB3 = `${WEB.replace('links:', `  ns3:
    interfaces: {}
links:`)}`;

/** The kernel's lab names of this run's trainees (every one destroyed at the end, whatever happened). */
async function trainLabs(prefixes: string[]): Promise<string[]> {
  const r = await sh(['ip', 'netns', 'list']);
  const labs = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^nslab\.([a-z0-9-]+)\.[^ ]+/.exec(line);
    if (m?.[1] && prefixes.some((p) => m[1]!.startsWith(`${p}--`))) labs.add(m[1]);
  }
  return [...labs];
}

/** Unbinds a trainee's user namespace (/run/nslab/users/NAME, apps/server/src/classroom/contain.ts) if it is still there. */
function releaseUserns(name: string): void {
  const userns = `/run/nslab/users/${name}`;
  if (existsSync(userns)) spawnSync('umount', [userns]);
  rmSync(userns, { force: true });
  rmSync(`${userns}.id`, { force: true });
}

/** A trainee's browser: their join link, then their lab "web" built by opening a topology file. */
async function traineeBuilds(browser: Browser, server: ServerHandle, url: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.goto(`${server.base}/#lab=web`);
  await expect(page.getByRole('status', { name: 'Connection status' })).toHaveText(/Connected/);
  await expect(page.getByLabel('Lab', { exact: true })).toHaveValue('web');
  await page.getByLabel('Topology file', { exact: true }).setInputFiles({ name: 'web.yaml', mimeType: 'application/yaml', buffer: Buffer.from(WEB) });
  await runPlan(page, /ip netns add/);
  await expect(node(page, 'ns1')).toBeVisible({ timeout: 30_000 });
  await expect(node(page, 'ns2')).toBeVisible();
  return page;
}

test('the instructor runs a class: trainees apart, both labs live in the class view, watch read-only, take control, one lesson for all, remove', async ({ browser, page, shot }) => {
  test.setTimeout(240_000);
  const id = randomBytes(3).toString('hex');
  const [ana, bo] = [`ins${id}a`, `ins${id}b`];
  const server = await startServer(undefined, ['--classroom']);
  try {
    // The instructor opens the class and adds two trainees; each join link is shown as it is made.
    await page.goto(`${server.base}/?token=${server.token}`);
    await expect(page.getByRole('status', { name: 'Connection status' })).toHaveText(/Connected/);
    await page.getByRole('button', { name: 'Class', exact: true }).click();
    const klass = page.getByRole('region', { name: 'Class' });
    const urls: string[] = [];
    for (const name of [ana, bo]) {
      await klass.getByLabel('Trainee name').fill(name);
      await klass.getByRole('button', { name: 'Add trainee' }).click();
      const link = klass.getByRole('status', { name: 'New trainee' }).getByRole('textbox', { name: `Join link for ${name}` });
      await expect(link).toHaveValue(new RegExp(`^${server.base}/\\?token=[A-Za-z0-9_-]{16,}$`));
      urls.push(await link.inputValue());
    }
    // A wrong name is refused with the server's sentence, and nothing is added.
    await klass.getByLabel('Trainee name').fill('Bad Name');
    await klass.getByRole('button', { name: 'Add trainee' }).click();
    await expect(klass.getByRole('alert')).toContainText('is not allowed');
    const list = klass.getByRole('list', { name: 'Trainees' });
    await expect(list.getByRole('listitem').filter({ has: page.getByRole('textbox', { name: /^Join link for / }) })).toHaveCount(2);
    await expect(list.getByRole('textbox', { name: `Join link for ${bo}` })).toHaveValue(urls[1]!);

    // Each trainee builds "web" in their own browser; neither sees the other's.
    const pageA = await traineeBuilds(browser, server, urls[0]!);
    const pageB = await traineeBuilds(browser, server, urls[1]!);
    for (const [p, other] of [[pageA, bo], [pageB, ana]] as const) {
      const options = await p.getByLabel('Lab', { exact: true }).locator('option').allTextContents();
      expect(options.filter((o) => !/New lab|Copy this lab/.test(o))).toEqual(['web (2 nodes)']);
      const labs = await p.evaluate(async () => {
        const res = await fetch('/api/labs', { headers: { authorization: `Bearer ${sessionStorage.getItem('nslab.token') ?? ''}` } });
        return (await res.json()) as { labs: { name: string }[] };
      });
      expect(labs.labs.map((l) => l.name)).toEqual(['web']);
      expect(JSON.stringify(labs)).not.toContain(other);
    }

    // The instructor sees both labs, each as a small graph of its namespaces.
    const graphOf = (trainee: string) => list.getByRole('listitem', { name: `Trainee ${trainee}` }).getByRole('article', { name: `Lab web of ${trainee}` }).getByRole('img');
    await expect(graphOf(ana)).toHaveAttribute('data-nodes', 'ns1 ns2', { timeout: 30_000 });
    await expect(graphOf(bo)).toHaveAttribute('data-nodes', 'ns1 ns2');
    await shot('classroom-1-class', page);

    // Watch: a read-only live view of ana's lab in a new tab.
    const [viewer] = await Promise.all([
      page.context().waitForEvent('page'),
      list.getByRole('article', { name: `Lab web of ${ana}` }).getByRole('button', { name: 'Watch' }).click(),
    ]);
    await expect(viewer.getByRole('status', { name: 'Live view' })).toContainText('Live view · read-only', { timeout: 30_000 });
    await expect(node(viewer, 'ns1')).toBeVisible({ timeout: 30_000 });
    await expect(viewer.getByRole('complementary', { name: 'Palette' })).toHaveCount(0);

    // Ana edits her lab: the instructor's graph and the live view both follow, bo's does not change.
    await pageA.getByLabel('Topology file', { exact: true }).setInputFiles({ name: 'web3.yaml', mimeType: 'application/yaml', buffer: Buffer.from(WEB3) });
    await runPlan(pageA, /ip netns add/);
    await expect(graphOf(ana)).toHaveAttribute('data-nodes', 'ns1 ns2 ns3', { timeout: 30_000 });
    await expect(node(viewer, 'ns3')).toBeVisible({ timeout: 30_000 });
    await expect(graphOf(bo)).toHaveAttribute('data-nodes', 'ns1 ns2');
    // The live view refuses to change the lab, over HTTP too.
    const refused = await viewer.evaluate(async () => {
      const res = await fetch('/api/labs/web', {
        method: 'PUT', body: 'name: web\nnodes: {}\n',
        headers: { 'content-type': 'application/yaml', authorization: `Bearer ${sessionStorage.getItem('nslab.token') ?? ''}` },
      });
      return { status: res.status, body: (await res.json()) as { error: string } };
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('read-only live view');
    await viewer.close();

    // One lesson for the class: each trainee gets it in their own lab "veth-pair".
    await klass.getByLabel('Lesson for the class', { exact: true }).selectOption('veth-pair');
    await klass.getByRole('button', { name: 'Start lesson for the class' }).click();
    await expect(klass.getByRole('status', { name: 'Class lesson' })).toHaveText('veth-pair started for 2 of 2 trainees.', { timeout: 60_000 });
    for (const t of [ana, bo]) {
      const lab = list.getByRole('article', { name: `Lab veth-pair of ${t}` });
      await expect(lab.getByRole('img')).toHaveAttribute('data-nodes', 'host', { timeout: 30_000 });
      await expect(lab.getByLabel('Lesson veth-pair progress')).toContainText('0 of', { timeout: 30_000 });
    }
    await expect(pageA.getByLabel('Lab', { exact: true }).locator('option', { hasText: 'veth-pair' })).toHaveCount(1);

    // Take control: bo's lab opens on the instructor's canvas, editable.
    await list.getByRole('article', { name: `Lab web of ${bo}` }).getByRole('button', { name: 'Take control' }).click();
    await expect(klass).toBeHidden();
    await expect(page.getByLabel('Lab', { exact: true })).toHaveValue(`${bo}--web`);
    await expect(node(page, 'ns2')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByRole('complementary', { name: 'Palette' })).toBeVisible();

    // Removing ana: her page is shut out and her labs are gone from the kernel; bo's stay.
    await page.getByRole('button', { name: 'Class', exact: true }).click();
    page.once('dialog', (d) => { void d.accept(); });
    await list.getByRole('button', { name: `Remove ${ana}` }).click();
    await expect(list.getByRole('listitem', { name: `Trainee ${ana}` })).toHaveCount(0);
    expect(await trainLabs([ana])).toEqual([]);
    expect((await trainLabs([bo])).sort()).toEqual([`${bo}--veth-pair`, `${bo}--web`]);
    await expect(pageA.getByRole('status', { name: 'Connection status' })).not.toHaveText(/Connected/);
    await pageA.reload();
    await expect(pageA.getByRole('status', { name: 'Connection status' })).toContainText(/refused/i, { timeout: 30_000 });
    await pageA.context().close();
    await pageB.context().close();
  } finally {
    await stopServer(server);
    for (const lab of await trainLabs([ana, bo])) await nslab('destroy', lab);
    // Each trainee's user namespace outlives the server on purpose (a restart keeps their labs usable): release them.
    for (const name of [ana, bo]) releaseUserns(name);
  }
});
