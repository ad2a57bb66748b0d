/**
 * The veth-pair lesson, as a learner takes it in the page: started from the lesson
 * column, the tutorial's commands typed verbatim in the host terminal, and every
 * check turning green as the kernel changes. The last command runs from its Run
 * button, which types it into the host terminal where the learner sees it.
 */
import { expect, openApp, test as base } from '../fixtures';
import { lessonLab, startLesson } from './lesson-helpers';
import { terminal, typeIn } from './live-helpers';

const test = base.extend<{ lab: string }>({ lab: lessonLab });


/** The lesson's commands to try in the host terminal, step by step (its default subnet, 172.18.0.0/24). */
const TUTORIAL = [
  'ip netns add ns1; ip netns list; ip netns add ns2',
  'ip link add veth0 type veth peer name veth1; ip link set veth0 netns ns1; ip link set veth1 netns ns2',
  'ip netns exec ns1 ifconfig veth0 172.18.0.2/24 up; ip netns exec ns2 ifconfig veth1 172.18.0.3/24 up',
  'ip netns exec ns1 route add default dev veth0; ip netns exec ns2 route add default dev veth1',
];

test('veth-pair started from the page turns every check green as the tutorial is typed in the host terminal', async ({ page, server, lab, shot }) => {
  await openApp(page, server, lab);
  const panel = await startLesson(page, 'A veth pair between two namespaces', 'veth-pair');

  // A fresh start lab: the host alone; the namespaces are the learner's to make.
  const check = (id: string) => panel.locator(`[data-check="${id}"]`);
  await expect(check('ns1-exists')).toHaveAttribute('data-state', 'fail', { timeout: 15_000 });
  await expect(check('veth0-in-ns1')).toHaveAttribute('data-state', 'fail');
  await expect(check('veth0-in-ns1').locator('.lesson-hint')).toBeVisible();
  // Step text is Markdown: `veth0` is code, not backquotes.
  await expect(panel.locator('[data-step="veth"] .lesson-text code').first()).toHaveText('veth0');

  await page.getByRole('tab', { name: 'Terminals' }).click();
  await expect(page.getByLabel('Terminal node')).toHaveValue('host');
  await page.getByRole('button', { name: 'Open terminal' }).click();
  const pane = terminal(page, 'host');
  await expect(pane).toHaveAttribute('data-status', 'live', { timeout: 15_000 });

  await typeIn(page, pane, TUTORIAL[0] ?? '');
  // `ip netns add` in the lab's host terminal makes lab nodes: drawn, and the first step's checks green.
  await expect(check('ns1-exists')).toHaveAttribute('data-state', 'pass', { timeout: 15_000 });
  await expect(check('ns2-exists')).toHaveAttribute('data-state', 'pass');
  await expect(page.locator('.react-flow__node[data-id="ns2"]')).toBeVisible();
  await typeIn(page, pane, TUTORIAL[1] ?? '');
  await expect(check('veth0-in-ns1')).toHaveAttribute('data-state', 'pass', { timeout: 15_000 });
  await expect(check('veth1-in-ns2')).toHaveAttribute('data-state', 'pass');
  await expect(panel.locator('[data-step="veth"]')).toHaveAttribute('data-passed', 'true');

  await typeIn(page, pane, TUTORIAL[2] ?? '');
  await typeIn(page, pane, TUTORIAL[3] ?? '');
  for (const id of ['ns1-address', 'ns2-address', 'veth0-up', 'veth1-up', 'ns1-default', 'ns2-default']) {
    await expect(check(id)).toHaveAttribute('data-state', 'pass', { timeout: 15_000 });
  }

  // The last step's command from its Run button: typed into the host terminal, where its answer shows.
  await panel.getByRole('button', { name: 'Run in host: ip netns exec ns1 ping -c 1 172.18.0.3' }).click();
  await expect(pane.locator('.xterm-rows')).toContainText('1 received', { timeout: 20_000 });

  await expect(panel.locator('.lesson-check')).toHaveCount(12);
  await expect(panel.locator('.lesson-check[data-state="pass"]')).toHaveCount(12, { timeout: 20_000 });
  await expect(panel.locator('.lesson-progress')).toHaveText('4/4 steps done');
  await expect(panel.getByText('Every check passes. Well done!')).toBeVisible();
  await shot('lesson-veth-pair-done');
});

test.describe('in a browser that prefers Chinese', () => {
  test.use({ locale: 'zh-CN' });

  test('the lesson column speaks Simplified Chinese, and the switch turns it to English', async ({ page, server, lab }) => {
    await openApp(page, server, lab);
    await page.getByRole('button', { name: 'Lessons' }).click();
    const panel = page.getByRole('complementary', { name: '课程' });
    await expect(panel).toContainText('本实验中没有课程。开始一个课程：');
    await expect(panel.getByRole('listitem').filter({ hasText: '用 veth 连接两个 namespace' }).getByRole('button', { name: '开始' })).toBeVisible();
    await panel.getByRole('button', { name: 'English' }).click();
    const english = page.getByRole('complementary', { name: 'Lesson' });
    await expect(english).toContainText('No lesson runs in this lab. Start one:');
    await expect(english.getByRole('listitem').filter({ hasText: 'A veth pair between two namespaces' }).getByRole('button', { name: 'Start' })).toBeVisible();
    await expect(english.getByRole('button', { name: 'English' })).toHaveAttribute('aria-pressed', 'true');
  });
});
