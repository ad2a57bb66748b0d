/**
 * Flow traces from the page: TCP to a port published with DNAT shows the rewrite in
 * the hop list and on the canvas; with a FORWARD DROP rule added, the dropping hop is
 * marked (in the list and on the canvas), and clicking it shows the rule the kernel
 * named. With a web server behind the published port, a curl's connection appears in the host's live conntrack table
 * with its DNAT, the packet list links the SYN before and after the rewrite, a
 * kernel knob changed in the inspector reaches the kernel through the plan, another
 * sysctl changed outside the page is listed, and a trace of the connection shows the
 * conntrack entry that links its DNAT and the reverse.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, openApp, test } from '../fixtures';
import { ROOT } from '../server';
import { node, runPlan } from './helpers';

const DNAT = readFileSync(join(ROOT, 'examples', 'dnat.yaml'), 'utf8');

/** In the trace tab: TCP from internet to the host's published port 8080. */
async function traceToPublishedPort(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Ping trace' }).click();
  await page.getByLabel('Trace source').selectOption('internet');
  await page.getByLabel('Trace protocol').selectOption('tcp');
  await page.getByLabel('Trace port').fill('8080');
  await page.getByLabel('Trace destination').fill('203.0.113.2');
  await page.getByRole('button', { name: 'Trace', exact: true }).click();
}

test('TCP to a published port: the DNAT rewrite in the hops and on the canvas; a dropping hop shows its rule', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(DNAT);
  await openApp(page, server, lab);
  await expect(node(page, 'web')).toBeVisible();

  await traceToPublishedPort(page);

  const verdict = page.getByRole('status', { name: 'Trace verdict' });
  // Nobody listens in web: the SYN still crosses the DNAT, and web answers with a reset.
  await expect(verdict).toContainText('nothing listens on tcp 192.168.1.1 port 80', { timeout: 20_000 });
  const hops = page.getByRole('list', { name: 'Hops' }).locator('li.hop');
  await expect(hops.filter({ hasText: 'DNAT' }).first()).toContainText('192.168.1.1');
  // On the canvas: the DNAT where the SYN was rewritten, and its reverse where the answer was.
  await expect(page.locator('.port-mark[data-mark^="host:"]', { hasText: /^\d+(,\d+)* DNAT/ })).toHaveCount(1);
  await expect(page.locator('.port-mark[data-mark="host:uplink"]', { hasText: 'reverse DNAT' })).toHaveCount(1);
  await shot('flow-trace-1-dnat');

  const added = spawnSync('ip', ['netns', 'exec', `nslab.${lab}.host`, 'iptables', '-A', 'FORWARD', '-p', 'tcp', '--dport', '80', '-j', 'DROP']);
  expect(added.status).toBe(0);
  await page.getByRole('button', { name: 'Trace', exact: true }).click();
  await expect(verdict).toContainText('dropped in host by the rule "-A FORWARD -p tcp -m tcp --dport 80 -j DROP"', { timeout: 20_000 });
  const dropping = hops.filter({ hasText: 'dropped' });
  await expect(dropping).toHaveCount(1);
  // The verdict on the canvas: the port where the kernel dropped it is marked DROP, in the failing tone.
  await expect(page.locator('.port-mark.tone-trace-fail[data-mark^="host:"]', { hasText: /\bDROP$/ })).toHaveCount(1);
  await dropping.click();
  const rules = page.getByLabel(/^Rules at host:/);
  await expect(rules).toContainText('ip filter FORWARD');
  await expect(rules).toContainText('-A FORWARD -p tcp -m tcp --dport 80 -j DROP');
  await shot('flow-trace-2-drop');
});

test('a connection to a published port: the live conntrack table, the packet list across DNAT, a kernel knob', async ({ page, server, lab, applyLab, shot }) => {
  await applyLab(DNAT);
  const web = spawn('ip', ['netns', 'exec', `nslab.${lab}.web`, 'python3', '-m', 'http.server', '80'], { stdio: 'ignore' });
  try {
    await openApp(page, server, lab);
    await expect(node(page, 'web')).toBeVisible();

    // The host's inspector follows its conntrack table from now on.
    await node(page, 'host').locator('.ns-header').click();
    const inspector = page.getByRole('complementary', { name: 'Inspector' });
    await expect(inspector.getByRole('heading', { name: 'host' })).toBeVisible();
    const table = inspector.getByRole('region', { name: 'Connection tracking' });
    await expect(table).not.toContainText('Reading', { timeout: 20_000 });

    await page.getByRole('tab', { name: 'Packets' }).click();
    await page.getByRole('button', { name: 'Watch packets' }).click();
    await expect(page.getByRole('button', { name: 'Watch packets' })).toHaveAttribute('aria-pressed', 'true');

    // Only what reaches the host from outside: a few rows per connection, so the list (drawn around its tail) holds them all.
    await page.getByLabel('Packet filter').fill('node:host iface:uplink in');
    // curl from "internet" to the published port, again until the server in web answers (it may still be
    // starting) and the captures, which start in every namespace after the switch, have seen a SYN cross the DNAT.
    const curl = () => spawnSync('ip', ['netns', 'exec', `nslab.${lab}.internet`, 'curl', '-s', '--max-time', '2', 'http://203.0.113.2:8080/'], { encoding: 'utf8' }).stdout;
    const linked = page.locator('.pkt-body .pkt-row', { hasText: 'same packet after DNAT at host' });
    await expect.poll(async () => curl().includes('Directory listing') && (await linked.count()) > 0, { timeout: 60_000 }).toBe(true);

    // What NAT remembers: the connection to 203.0.113.2:8080 expects its reply from 192.168.1.1:80.
    await expect(table.getByRole('table', { name: 'Conntrack entries of host' })).toContainText('DNAT 203.0.113.2:8080 → 192.168.1.1:80', { timeout: 20_000 });
    await shot('flow-trace-3-conntrack');

    // A packet that came in on the uplink before DNAT is linked to its copy after DNAT on veth-web;
    // selecting that copy highlights the one before.
    const before = linked.first();
    const seq = await before.getAttribute('data-seq');
    await before.click();
    const across = page.getByRole('complementary', { name: 'Packet detail' }).getByRole('region', { name: 'Across NAT' });
    await expect(across).toContainText('192.168.1.1');
    await across.getByRole('button', { name: 'host:veth-web' }).click();
    await expect(page.getByRole('complementary', { name: 'Packet detail' }).getByRole('region', { name: 'Across NAT' })).toContainText('same packet before DNAT at host');
    await expect(page.locator(`.pkt-body .pkt-row[data-seq="${seq}"]`)).toHaveClass(/\bseen\b/);
    await shot('flow-trace-4-nat-link');

    // A knob by its sysctl name, changed through the plan, reaches the kernel.
    const knobs = inspector.getByRole('region', { name: 'Kernel knobs' });
    const rpFilter = knobs.getByLabel('net.ipv4.conf.all.rp_filter', { exact: true });
    await expect(rpFilter).toHaveValue('0', { timeout: 20_000 });
    await rpFilter.selectOption('2');
    await runPlan(page, /net\.ipv4\.conf\.all\.rp_filter=2/);
    const kernel = () => spawnSync('ip', ['netns', 'exec', `nslab.${lab}.host`, 'sysctl', '-n', 'net.ipv4.conf.all.rp_filter'], { encoding: 'utf8' }).stdout.trim();
    await expect.poll(kernel).toBe('2');
    await expect(rpFilter).toHaveValue('2');

    // A sysctl nslab offers no knob for, changed outside the page, is listed once read again.
    const other = knobs.getByRole('list', { name: 'Other sysctls changed' });
    await expect(other).toHaveCount(0);
    expect(spawnSync('ip', ['netns', 'exec', `nslab.${lab}.host`, 'sysctl', '-qw', 'net.ipv4.tcp_syncookies=0']).status).toBe(0);
    await knobs.getByRole('button', { name: 'read again' }).click();
    await expect(other).toContainText('net.ipv4.tcp_syncookies = 0');

    // A traced connection that web answers: the trace panel shows the conntrack entry that links the DNAT and its reverse.
    await traceToPublishedPort(page);
    await expect(page.getByRole('status', { name: 'Trace verdict' })).toContainText('internet reached 203.0.113.2', { timeout: 20_000 });
    await expect(page.getByRole('list', { name: 'Conntrack entries' })).toContainText(/host: tcp .*203\.0\.113\.2:8080.*reply 192\.168\.1\.1:80/);
  } finally {
    if (web.exitCode === null) {
      const gone = new Promise((ok) => web.once('exit', ok));
      web.kill('SIGKILL');
      await gone;
    }
  }
});
