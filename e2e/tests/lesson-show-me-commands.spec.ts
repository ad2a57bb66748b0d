/**
 * "Show me" for a step whose solution is shell commands (k8s-service's chains, made
 * with iptables as kube-proxy makes them): the plan dialog lists every command with
 * the node it runs in before anything runs; Cancel runs nothing; Run N commands runs them
 * and the step's checks turn green.
 */
import { expect, openApp, test as base } from '../fixtures';
import { netns, sh } from '../server';
import { runPlan } from './helpers';
import { lessonLab, startLesson } from './lesson-helpers';

const test = base.extend<{ lab: string }>({ lab: lessonLab });

test('Show me lists a step\'s shell commands in the plan dialog and runs them only when the plan is run', async ({ page, server, lab, shot }) => {
  await openApp(page, server, lab);
  const panel = await startLesson(page, 'Kubernetes: a ClusterIP service the way kube-proxy builds it', 'k8s-service');
  const step = panel.locator('[data-step="chains"]');
  const check = (id: string) => panel.locator(`[data-check="${id}"]`);
  const services = async () => (await sh(['ip', 'netns', 'exec', netns(lab, 'node1'), 'iptables', '-t', 'nat', '-S', 'KUBE-SERVICES'])).code;
  await expect(check('service-match')).toHaveAttribute('data-state', 'fail', { timeout: 30_000 });

  await step.getByRole('button', { name: 'Show me' }).click();
  const plan = page.getByRole('dialog', { name: 'Plan' });
  await expect(plan).toContainText('5 commands');
  await expect(plan).toContainText('iptables -t nat -N KUBE-SERVICES');
  await expect(plan).toContainText('iptables -t nat -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-WEB');
  await expect(plan).toContainText('runs in node1');
  await shot('lesson-show-me-commands');
  await plan.getByRole('button', { name: 'Cancel' }).click();
  await expect(plan).toBeHidden();
  expect(await services()).not.toBe(0); // the chain does not exist: nothing ran

  await step.getByRole('button', { name: 'Show me' }).click();
  await runPlan(page, /KUBE-SVC-WEB/);
  expect(await services()).toBe(0);
  await expect(check('prerouting-jump')).toHaveAttribute('data-state', 'pass', { timeout: 30_000 });
  await expect(check('service-match')).toHaveAttribute('data-state', 'pass', { timeout: 30_000 });
});
