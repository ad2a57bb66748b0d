/**
 * bench/canvas: the canvas with a 300-namespace lab, in Debian's headless Chromium,
 * against a real `nslab serve` (DESIGN.md section 8).
 *  (a) time to first full render: from navigation to the frame where all 300 nodes
 *      are drawn and measured, and from the lab's snapshot arriving to that frame;
 *      cold (no saved positions: the automatic layout runs) and warm (a reload: the
 *      positions saved by the first visit are used);
 *  (b) frames per second while panning and zooming for 5 s (requestAnimationFrame
 *      callbacks counted in the page while real mouse drags and wheel turns arrive).
 * The anchor of (b) is the same page's idle frame rate in the same run (what this
 * headless Chromium can draw at all). Goals: first render under 1.5 s, 50 fps or more.
 * Run: node apps/server/bin/run-ts.mjs bench/canvas.ts
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { Topology } from '@nslab/model';
import { applyTopology, destroyLab } from '../apps/server/src/kernel/lab';
import type { BenchRow } from './terminal';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The lab: 1 core router, 9 hosts with a bridge each, 290 namespaces plugged into them (300 in all). */
const HOSTS = 9;
const LEAVES = 290;
/** How long the pan-and-zoom run lasts, and the idle anchor (ms): the brief's 5 s, and 2 s of nothing. */
const PAN_MS = 5000;
const IDLE_MS = 2000;
/** Runs of the render measurement per state (cold, warm); the median is reported. */
const RENDER_RUNS = 3;
/** The browser, as the e2e tests run it: never a downloaded one. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The generated lab. */
export function canvasLab(name: string): Topology {
  const nodes: Topology['nodes'] = {};
  const links: Topology['links'] = [];
  const ns = () => ({ forwarding: false, interfaces: {} as Topology['nodes'][string]['interfaces'], routes: [], nat: [] });
  const core = { ...ns(), forwarding: true };
  nodes.core = core;
  for (let h = 0; h < HOSTS; h += 1) {
    const host = { ...ns(), forwarding: true };
    host.interfaces.br0 = { kind: 'bridge', up: true, addresses: [`10.${100 + h}.0.254/16`] };
    host.interfaces.uplink = { kind: 'veth', up: true, addresses: [`172.16.${h}.2/24`] };
    core.interfaces[`e${h}`] = { kind: 'veth', up: true, addresses: [`172.16.${h}.1/24`] };
    links.push({ a: { node: `h${h}`, interface: 'uplink' }, b: { node: 'core', interface: `e${h}` } });
    nodes[`h${h}`] = host;
  }
  for (let i = 0; i < LEAVES; i += 1) {
    const h = i % HOSTS;
    const leaf = ns();
    leaf.interfaces.eth0 = { kind: 'veth', up: true, addresses: [`10.${100 + h}.${(i + 1) >> 8}.${(i + 1) & 255}/16`] };
    nodes[`n${i}`] = leaf;
    (nodes[`h${h}`] as Topology['nodes'][string]).interfaces[`v${i}`] = { kind: 'veth', up: true, addresses: [], master: 'br0' };
    links.push({ a: { node: `n${i}`, interface: 'eth0' }, b: { node: `h${h}`, interface: `v${i}` } });
  }
  return { name, nodes, links };
}

function startServer(token: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [join(repo, 'apps/server/bin/nslab.mjs'), 'serve', '--port', '0', '--token', token, '--no-default-lab'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${out}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/\?token=/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok({ child, base: m[1] });
      }
    });
    child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => fail(new Error(`server exited (${code}):\n${out}`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((ok) => {
    child.once('exit', () => ok());
    process.kill(child.pid as number, 'SIGTERM');
  });
}

/**
 * Installed before the app runs: notes when the snapshot arrives and the first frame
 * where all nodes are drawn. Plain JavaScript text, not a function: tsx's name helpers
 * would not exist in the page.
 */
function probe(target: number): string {
  return `(() => {
  const b = window.__bench = {};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (e) => {
        if (b.snapshotAt === undefined && typeof e.data === 'string' && e.data.startsWith('{"type":"snapshot"')) b.snapshotAt = performance.now();
      });
    }
  };
  const check = () => {
    const nodes = document.querySelectorAll('.react-flow__node');
    if (nodes.length >= ${target} && Array.from(nodes).every((n) => n.style.visibility !== 'hidden')) { b.renderedAt = performance.now(); return; }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;
}

/** One render: from navigation and from the snapshot to the full frame, and the layout's own time if one ran. */
interface Render { total: number; fromSnapshot: number; layout?: number }

async function timeRender(page: Page, url: string, target: number): Promise<Render> {
  await page.goto(url);
  try {
    await page.waitForFunction('window.__bench.renderedAt !== undefined', null, { timeout: 60_000, polling: 50 });
  } catch (err) {
    const state = await page.evaluate(`({ bench: window.__bench, nodes: document.querySelectorAll('.react-flow__node').length })`);
    throw new Error(`the canvas did not render all ${target} nodes: ${JSON.stringify(state)}`, { cause: err });
  }
  // In page code as text: this file compiles without the DOM's types.
  const b = await page.evaluate<{ snapshotAt: number; renderedAt: number; layout?: number }>(`({ ...window.__bench, layout: performance.getEntriesByName('nslab:layout').at(-1)?.duration })`);
  return { total: b.renderedAt, fromSnapshot: b.renderedAt - b.snapshotAt, ...(b.layout !== undefined ? { layout: b.layout } : {}) };
}

/** Counts animation frames for `ms` while `drive` runs; returns frames per second and the 95th percentile frame time. */
async function countFrames(page: Page, ms: number, drive: (until: number) => Promise<void>): Promise<{ fps: number; p95: number }> {
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__counting = true;
    const tick = (t) => { window.__frames.push(t); if (window.__counting) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  })()`);
  await drive(Date.now() + ms);
  const frames = await page.evaluate<number[]>('(window.__counting = false, window.__frames)');
  const gaps = frames.slice(1).map((t, i) => t - (frames[i] as number)).sort((a, b) => a - b);
  const span = (frames[frames.length - 1] ?? 0) - (frames[0] ?? 0);
  return { fps: ((frames.length - 1) * 1000) / span, p95: gaps[Math.floor(gaps.length * 0.95)] ?? NaN };
}

/** A point of the empty canvas (so a drag pans instead of moving a node). */
async function panePoint(page: Page): Promise<{ x: number; y: number }> {
  return page.evaluate<{ x: number; y: number }>(`(() => {
    const r = document.querySelector('.react-flow__pane')?.getBoundingClientRect();
    if (!r) return { x: 400, y: 300 };
    for (let fy = 0.5; fy < 0.95; fy += 0.07) {
      for (let fx = 0.5; fx < 0.95; fx += 0.05) {
        for (const [x, y] of [[r.left + r.width * fx, r.top + r.height * fy], [r.left + r.width * (1 - fx), r.top + r.height * (1 - fy)]]) {
          if (document.elementFromPoint(x, y)?.classList.contains('react-flow__pane')) return { x, y };
        }
      }
    }
    return { x: r.left + 5, y: r.top + 5 };
  })()`);
}

/** Pans with mouse drags (round trips, so the view stays put overall) and zooms with the wheel, until `until`. */
async function panAndZoom(page: Page, until: number): Promise<void> {
  let round = 0;
  while (Date.now() < until) {
    const p = await panePoint(page);
    if (round % 3 === 2) {
      await page.mouse.move(p.x, p.y);
      for (let i = 0; i < 6 && Date.now() < until; i += 1) await page.mouse.wheel(0, i < 3 ? -120 : 120);
    } else {
      await page.mouse.move(p.x, p.y);
      await page.mouse.down();
      const dx = round % 2 === 0 ? 160 : -160;
      for (let i = 1; i <= 20 && Date.now() < until; i += 1) await page.mouse.move(p.x + (dx * i) / 20, p.y + (i * 4) % 40);
      for (let i = 19; i >= 0 && Date.now() < until; i -= 1) await page.mouse.move(p.x + (dx * i) / 20, p.y);
      await page.mouse.up();
    }
    round += 1;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Runs the canvas benchmark; returns its rows. */
export async function runCanvasBench(): Promise<BenchRow[]> {
  if (!existsSync(join(repo, 'apps/web/dist/index.html'))) throw new Error('build the web app first: npm run build');
  const lab = `bench-canvas-${randomBytes(2).toString('hex')}`;
  const topology = canvasLab(lab);
  const target = Object.keys(topology.nodes).length;
  const token = randomBytes(24).toString('hex');
  let server: { child: ChildProcess; base: string } | undefined;
  let browser: Browser | undefined;
  try {
    const applyStart = performance.now();
    await applyTopology(topology);
    const applyMs = performance.now() - applyStart;
    server = await startServer(token);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    // The page takes the token from the address once and keeps it in this tab's sessionStorage.
    const url = `${server.base}/?token=${token}#lab=${lab}`;

    // A page that stays subscribed: the server keeps the lab watched between runs, so the
    // figures measure the canvas, not the server's first read of 300 namespaces.
    const keeper = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await keeper.addInitScript({ content: probe(target) });
    const keeperPage = await keeper.newPage();
    const firstRead = await timeRender(keeperPage, url, target);

    const cold: Render[] = [];
    const warm: Render[] = [];
    let pan = { fps: NaN, p95: NaN };
    let idle = { fps: NaN, p95: NaN };
    for (let run = 0; run < RENDER_RUNS; run += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
      await context.addInitScript({ content: probe(target) });
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error(`page ${m.type()}: ${m.text()}`); });
      cold.push(await timeRender(page, url, target));
      await page.waitForTimeout(500); // the layout's positions are saved; the view settles
      await page.goto('about:blank');
      warm.push(await timeRender(page, url, target));
      if (run === RENDER_RUNS - 1) {
        await page.waitForTimeout(800);
        idle = await countFrames(page, IDLE_MS, (until) => new Promise((ok) => setTimeout(ok, Math.max(0, until - Date.now()))));
        pan = await countFrames(page, PAN_MS, (until) => panAndZoom(page, until));
      }
      await context.close();
    }
    await keeper.close();
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    return [
      { figure: `canvas: apply the ${target}-namespace lab (setup, not a goal)`, value: ms(applyMs), anchor: '', ratio: '' },
      { figure: 'canvas: first page on an unwatched lab, navigation to frame (includes the server\'s first read)', value: ms(firstRead.total), anchor: '', ratio: '' },
      { figure: 'canvas: first full render, cold (layout runs), navigation to frame', value: ms(median(cold.map((c) => c.total))), anchor: '', ratio: 'goal < 1500 ms' },
      { figure: 'canvas: first full render, cold, snapshot to frame', value: ms(median(cold.map((c) => c.fromSnapshot))), anchor: '', ratio: '' },
      { figure: 'canvas: of which the automatic layout (ELK, in a worker)', value: ms(median(cold.map((c) => c.layout ?? NaN))), anchor: '', ratio: '' },
      { figure: 'canvas: first full render, warm (saved positions), navigation to frame', value: ms(median(warm.map((c) => c.total))), anchor: '', ratio: 'goal < 1500 ms' },
      { figure: 'canvas: first full render, warm, snapshot to frame', value: ms(median(warm.map((c) => c.fromSnapshot))), anchor: '', ratio: '' },
      { figure: `canvas: fps while panning and zooming ${PAN_MS / 1000} s (p95 frame ${pan.p95.toFixed(1)} ms)`, value: `${pan.fps.toFixed(1)} fps`, anchor: `idle page: ${idle.fps.toFixed(1)} fps`, ratio: `${(pan.fps / idle.fps).toFixed(2)}x, goal >= 50 fps` },
    ];
  } finally {
    await browser?.close().catch(() => undefined);
    if (server) await stopServer(server.child);
    await destroyLab(lab).catch(() => undefined);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { printTable } = await import('./terminal');
  printTable(await runCanvasBench());
}
