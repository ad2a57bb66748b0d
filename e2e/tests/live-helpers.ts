/**
 * Steps for the live parts (terminals, packets, traces, the container view) as a
 * user takes them: open a terminal from the canvas, type into it, read its screen.
 */
import { expect } from '@playwright/test';
import type { Locator, Page } from '@playwright/test';
import { node } from './helpers';

/** The terminal pane of the shown terminal tab for `nodeName`. */
export function terminal(page: Page, nodeName: string): Locator {
  return page.locator(`.term-pane:not(.hidden)[aria-label="Terminal ${nodeName}"]`);
}

/** Opens a terminal on a node by double-clicking it on the canvas, and waits until its shell is attached. */
export async function openTerminalFromCanvas(page: Page, nodeName: string): Promise<Locator> {
  await node(page, nodeName).locator('.ns-header').dblclick();
  const pane = terminal(page, nodeName);
  await expect(pane).toHaveAttribute('data-status', 'live', { timeout: 15_000 });
  await expect(pane.locator('.xterm-rows')).toContainText(/[#$]/, { timeout: 10_000 });
  return pane;
}

/** Types a command line into a terminal (as one input, like a paste of the line), then Enter. */
export async function typeIn(page: Page, pane: Locator, line: string): Promise<void> {
  await pane.locator('.xterm-screen').click();
  await page.keyboard.insertText(line);
  await expect(pane.locator('.xterm-rows')).toContainText(line.slice(-20), { timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** Switches the theme through the top bar until it is `theme`. */
export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  const toggle = page.getByRole('button', { name: 'Toggle theme' });
  if ((await toggle.getAttribute('aria-pressed')) !== String(theme === 'dark')) await toggle.click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

/** Three namespaces on one bridge in a host namespace (the tutorials' bridge lab) at NET.1-3/24; `head` adds lines after `name:`. */
export function bridgeLabYaml(net: string, head = ''): string {
  const ns = [1, 2, 3];
  return [
    'name: x',
    head.trimEnd(),
    'nodes:',
    '  host:',
    '    interfaces:',
    '      br0: { kind: bridge }',
    ...ns.map((i) => `      veth-ns${i}: { master: br0 }`),
    ...ns.flatMap((i) => [`  ns${i}:`, '    interfaces:', `      eth0: { addresses: [${net}.${i}/24] }`]),
    'links:',
    ...ns.map((i) => `  - [ns${i}:eth0, host:veth-ns${i}]`),
  ].filter((l) => l !== '').join('\n') + '\n';
}
