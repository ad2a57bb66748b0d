/**
 * The router lesson's "Show me" and "Reset step" in the page: Show me proposes the
 * step's reference solution as a plan (the learner sees the commands; nothing runs
 * until "Run N commands"), and Reset step restores the lab to where the step starts, both
 * checked on the page and in the kernel.
 */
import { expect, openApp, test as base } from '../fixtures';
import { lessonLab, startLesson } from './lesson-helpers';
import { netns, sh } from '../server';
import { runPlan } from './helpers';

const test = base.extend<{ lab: string }>({ lab: lessonLab });


test('router: Show me runs a step\'s solution through the plan dialog, Reset step takes the lab back to the step\'s start', async ({ page, server, lab, shot }) => {
  await openApp(page, server, lab);
  const panel = await startLesson(page, 'A router between two subnets', 'router');
  const check = (id: string) => panel.locator(`[data-check="${id}"]`);
  const step = (id: string) => panel.locator(`[data-step="${id}"]`);
  const forwarding = async () => (await sh(['ip', 'netns', 'exec', netns(lab, 'router'), 'sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim();
  const ns1Routes = async () => (await sh(['ip', '-n', netns(lab, 'ns1'), 'route', 'show', 'default'])).stdout;

  await expect(check('ns1-route')).toHaveAttribute('data-state', 'fail', { timeout: 15_000 });
  await expect(check('ns2-route-back')).toHaveAttribute('data-state', 'fail');

  // Show me: the plan first, with the routes it adds; nothing has run yet.
  await step('routes').getByRole('button', { name: 'Show me' }).click();
  const plan = page.getByRole('dialog', { name: 'Plan' });
  await expect(plan).toContainText('route add default via 10.0.1.1');
  await expect(plan).toContainText('route add default via 10.0.2.1');
  expect(await ns1Routes()).toBe('');
  await expect(check('ns1-route')).toHaveAttribute('data-state', 'fail');
  await shot('lesson-router-show-me');
  await runPlan(page);
  await expect(check('ns1-route')).toHaveAttribute('data-state', 'pass', { timeout: 15_000 });
  await expect(check('ns2-route-back')).toHaveAttribute('data-state', 'pass');
  expect(await ns1Routes()).toContain('default via 10.0.1.1');

  // Forwarding is still off: its check fails with the kernel's words.
  await expect(check('router-forwards')).toHaveAttribute('data-state', 'fail');
  await expect(check('router-forwards').locator('.lesson-hint')).toContainText('ip_forward');
  await step('forwarding').getByRole('button', { name: 'Show me' }).click();
  await runPlan(page, /ip_forward/);
  await expect(check('router-forwards')).toHaveAttribute('data-state', 'pass', { timeout: 15_000 });
  await expect(check('ns1-reaches-ns2')).toHaveAttribute('data-state', 'pass', { timeout: 20_000 });
  expect(await forwarding()).toBe('1');

  // Reset the forwarding step: the routes of the step before stay, forwarding is off again.
  await step('forwarding').getByRole('button', { name: 'Reset step' }).click();
  await expect(check('router-forwards')).toHaveAttribute('data-state', 'fail', { timeout: 20_000 });
  await expect(check('ns1-reaches-ns2')).toHaveAttribute('data-state', 'fail', { timeout: 20_000 });
  await expect(check('ns1-route')).toHaveAttribute('data-state', 'pass');
  expect(await forwarding()).toBe('0');
  expect(await ns1Routes()).toContain('default via 10.0.1.1');

  // Reset the first step: back to the start lab, no routes.
  await step('routes').getByRole('button', { name: 'Reset step' }).click();
  await expect(check('ns1-route')).toHaveAttribute('data-state', 'fail', { timeout: 20_000 });
  await expect(check('ns2-route-back')).toHaveAttribute('data-state', 'fail');
  expect(await ns1Routes()).toBe('');
  await expect(panel.locator('.lesson-progress')).toHaveText(/^0\//);
});
