/**
 * SIGKILL at any moment of `nslab apply` (the real CLI, a child process) of a 60-namespace
 * lab: after each kill, `nslab destroy` leaves no namespace of the lab behind (no empty netns
 * file, no unmarked namespace), and an apply after the kills completes and converges.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanup, uniqueLab } from '../test-kit/lab';
import { figure } from './figures';

const NSLAB = fileURLToPath(new URL('../bin/nslab.mjs', import.meta.url));
/** How many kills: the figure. */
const KILLS = 30;
/** Namespaces in the lab: a host with a bridge and 59 nodes on it. */
const NODES = 60;

const lab = uniqueLab('hk-kill');
const dir = mkdtempSync(join(tmpdir(), 'nslab-sigkill-'));
/** The CLI child in flight: a test cancelled by its timeout must not leave it building after the cleanup. */
let current: ReturnType<typeof spawn> | undefined;
after(async () => {
  if (current && current.exitCode === null && current.signalCode === null) {
    const gone = new Promise((ok) => current?.on('exit', ok));
    current.kill('SIGKILL');
    await gone;
  }
  await cleanup(lab);
  // Whatever a failed assertion left of this lab (only its own names): removed so the machine stays clean.
  for (const n of leftovers()) spawnSync('ip', ['netns', 'del', n]);
  for (const n of leftovers()) rmSync(join('/run/netns', n), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

function leftovers(): string[] {
  return readdirSync('/run/netns').filter((n) => n.startsWith(`nslab.${lab}.`));
}

function labFile(): string {
  const nodes: string[] = ['  host:', '    interfaces:', '      br0: { kind: bridge, addresses: [10.60.0.254/24] }'];
  const links: string[] = [];
  for (let i = 1; i < NODES; i += 1) {
    nodes.push(`      v${i}: { master: br0 }`);
    links.push(`  - [n${i}:eth0, host:v${i}]`);
  }
  for (let i = 1; i < NODES; i += 1) nodes.push(`  n${i}:`, '    interfaces:', `      eth0: { addresses: [10.60.0.${i}/24] }`, '    routes: ["default via 10.60.0.254"]');
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, `name: ${lab}\nnodes:\n${nodes.join('\n')}\nlinks:\n${links.join('\n')}\n`);
  return file;
}

/** Runs the CLI; with killAfterMs, SIGKILLs it then. Resolves with how it ended. */
function nslab(args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: string | null; out: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [NSLAB, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out, ms: performance.now() - started });
    });
  });
}

test(`${KILLS} SIGKILLs of nslab apply of a ${NODES}-namespace lab: destroy leaves 0 orphans, and the next apply completes`, async () => {
  const file = labFile();
  // One whole run first: its length spreads the kills over the whole apply, start-up included.
  const whole = await nslab(['apply', file]);
  assert.equal(whole.code, 0, whole.out);
  const destroyed = await nslab(['destroy', lab]);
  assert.equal(destroyed.code, 0, destroyed.out);
  let midApply = 0;
  let orphans = 0;
  let withLeftovers = 0;
  for (let i = 0; i < KILLS; i += 1) {
    const at = Math.random() * whole.ms;
    const killed = await nslab(['apply', file], at);
    if (killed.signal === 'SIGKILL') midApply += 1;
    if (leftovers().length > 0) withLeftovers += 1;
    const d = await nslab(['destroy', lab]);
    const left = leftovers();
    orphans += left.length;
    assert.deepEqual(left, [], `after kill ${i + 1} at ${at.toFixed(0)} ms and destroy (${d.out.trim()})`);
  }
  const last = await nslab(['apply', file]);
  assert.equal(last.code, 0, last.out);
  assert.equal(leftovers().length, NODES);
  const again = await nslab(['apply', file]);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /\b0 ops?\b|nothing to do|up to date/i, 'a re-apply converges');
  figure('sigkill: kills of nslab apply', KILLS, 'count');
  figure('sigkill: kills that landed mid-apply', midApply, 'count');
  figure('sigkill: kills that left namespaces behind', withLeftovers, 'count');
  figure('sigkill: orphans after destroy', orphans, 'count');
  figure('sigkill: uncut apply of 60 namespaces (CLI, start-up included)', Math.round(whole.ms), 'ms');
});
