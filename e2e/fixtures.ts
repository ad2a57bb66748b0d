/**
 * Test fixtures: one real server per worker, a fresh lab name per test (destroyed
 * afterwards even when the test fails), a page already past the token exchange,
 * and a screenshot helper that saves under e2e/artifacts/.
 */
import { test as base, expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerHandle } from './server';
import { nslab, ROOT, startServer, stopServer } from './server';

/** Where screenshots go. */
export const ARTIFACTS = join(ROOT, 'e2e/artifacts');

interface TestFixtures {
  /** The first part of `lab`'s name (`test.use({ labPrefix })` gives a spec its own). */
  labPrefix: string;
  /** This test's lab name: LABPREFIX-XXXXXX, e2e-canvas-XXXXXX unless a spec says (destroyed after the test). */
  lab: string;
  /** The app, opened on `lab`, connected. */
  app: Page;
  /** Saves a screenshot of the page as e2e/artifacts/NAME.png. */
  shot: (name: string, page?: Page) => Promise<string>;
  /** Applies a topology (YAML text) for this test's lab through the CLI. */
  applyLab: (yaml: string) => Promise<void>;
}

interface WorkerFixtures {
  server: ServerHandle;
}

/** Opens the app on a lab: the token link first (the page keeps the token in sessionStorage), then the lab. */
export async function openApp(page: Page, server: ServerHandle, lab: string): Promise<void> {
  await page.goto(`${server.base}/?token=${server.token}`);
  await page.goto(`${server.base}/#lab=${lab}`);
  await expect(page.getByRole('status', { name: 'Connection status' })).toHaveText(/Connected/);
  await expect(page.getByLabel('Lab', { exact: true })).toHaveValue(lab);
  // The lab's snapshot: the server reads every namespace of a lab it was not watching (slow on a busy machine).
  await expect(page.getByText(/^Loading lab /)).toHaveCount(0, { timeout: 30_000 });
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  server: [async ({}, use) => {
    const server = await startServer();
    try {
      await use(server);
    } finally {
      await stopServer(server);
    }
  }, { scope: 'worker' }],

  // NSLAB_E2E_PREFIX: on a machine shared by several people, each keeps to a prefix of lab names;
  // a spec may still name its own prefix (test.use({ labPrefix })).
  labPrefix: [process.env['NSLAB_E2E_PREFIX'] ?? 'e2e-canvas', { option: true }],

  lab: async ({ labPrefix }, use) => {
    const lab = `${labPrefix}-${randomBytes(3).toString('hex')}`;
    try {
      await use(lab);
    } finally {
      // A lab left behind is a failure of this test, not something to notice later (one the test destroyed
      // itself is not): thrown even when it replaces the test's own error (the lab must not outlive the run).
      const destroyed = await nslab('destroy', lab);
      // eslint-disable-next-line no-unsafe-finally
      if (destroyed.code !== 0 && !/no lab named/.test(destroyed.stderr)) throw new Error(`nslab destroy ${lab} failed: ${destroyed.stderr}`);
    }
  },

  app: async ({ page, server, lab }, use) => {
    await openApp(page, server, lab);
    await use(page);
  },

  shot: async ({ page }, use, info) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await use(async (name, p = page) => {
      const path = join(ARTIFACTS, `${name}.png`);
      await p.screenshot({ path });
      await info.attach(name, { path, contentType: 'image/png' });
      return path;
    });
  },

  applyLab: async ({ lab }, use) => {
    await use(async (yaml) => {
      const file = join(ARTIFACTS, `${lab}.input.yaml`);
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(file, yaml.replace(/^name: .*$/m, `name: ${lab}`));
      const r = await nslab('apply', file);
      if (r.code !== 0) throw new Error(`nslab apply failed: ${r.stderr}${r.stdout}`);
    });
  },
});

export { expect };
