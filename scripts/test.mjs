#!/usr/bin/env node
// The one test command: typecheck, lint (eslint, then knip for dead code), every unit
// and kernel test of every workspace (node's test runner through tsx), the reliability
// probes (apps/server/reliability) with the figures they measured, then the Playwright
// suite in Debian's Chromium.
// Ends with one line "N passed, N failed, N skipped" that sums every stage.
// A stage name that does not exist, or a stage that ran no test, fails.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const STAGES = ['typecheck', 'lint', 'unit', 'reliability', 'e2e'];
const only = process.argv.slice(2); // optional: stage names
const unknown = only.filter((s) => !STAGES.includes(s));
if (unknown.length > 0) {
  console.error(`unknown stage ${unknown.map((s) => `"${s}"`).join(', ')}: the stages are ${STAGES.join(', ')}`);
  process.exit(2);
}

/**
 * Longest one test may run before node's runner cancels it (and counts it failed; node's
 * --test-timeout is per test): the slowest here (the kernel tests of a 100-namespace lab)
 * take about 40 s on 2 cores while other engineers' tests run; a hung test then costs
 * minutes, not hours.
 */
const UNIT_TIMEOUT_MS = 180_000;
/** The reliability probes are larger (per test): 30 kills of a 60-namespace apply take 2-3 minutes here, more while other suites load the 2 cores. */
const RELIABILITY_TIMEOUT_MS = 420_000;

/** Files under dir whose name ends in .test.ts, skipping node_modules. */
function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function run(argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
const want = (stage) => only.length === 0 || only.includes(stage);

/** Adds one stage's counts; a stage that exited non-zero without a failing test, or ran no test, fails once. */
function tally(stage, counts, code) {
  passed += counts.pass;
  failed += counts.fail;
  skipped += counts.skip;
  if (code !== 0 && counts.fail === 0) {
    console.log(`${stage}: exited with ${code} without a failing test: counted as one failure`);
    failed += 1;
  }
  if (counts.pass + counts.fail === 0) {
    console.log(`${stage}: no test ran: counted as one failure`);
    failed += 1;
  }
}

/** Runs test files with node's runner (spec to the console, TAP to a file) and returns its counts. */
async function nodeTests(files, timeoutMs, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-'));
  const tap = join(dir, 'report.tap');
  const code = await run([
    process.execPath, '--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${timeoutMs}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files.map((f) => relative(root, f)),
  ], env);
  const report = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  rmSync(dir, { recursive: true, force: true });
  const count = (key) => Number((report.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  // A cancelled test (its file timed out) is a failure; a todo is reported as skipped.
  return { code, counts: { pass: count('pass'), fail: count('fail') + count('cancelled'), skip: count('skipped') + count('todo') } };
}

if (want('typecheck')) {
  console.log('\n== typecheck (tsc -b)');
  const code = await run(['npx', 'tsc', '-b']);
  tally('typecheck', { pass: code === 0 ? 1 : 0, fail: code === 0 ? 0 : 1, skip: 0 }, 0);
}

if (want('lint')) {
  // Each tool is one check: it passes when it finds nothing (eslint.config.js, knip.config.ts).
  for (const [name, argv] of [['eslint', ['npx', 'eslint', '.']], ['knip', ['npx', 'knip', '--no-progress']]]) {
    console.log(`\n== lint (${argv.slice(1).join(' ')})`);
    const code = await run(argv);
    tally(`lint: ${name}`, { pass: code === 0 ? 1 : 0, fail: code === 0 ? 0 : 1, skip: 0 }, 0);
  }
}

if (want('unit') || want('reliability') || want('e2e')) {
  // The kernel tests read namespaces with nslab-nsread, and classroom shells start through nslab-contain: build them if their source changed.
  if ((await run([process.execPath, 'apps/server/native/build.mjs'])) !== 0) failed += 1;

  // The `nslab` the tests start (CLI, server, a lab shell's docker) is the bundle users run
  // (apps/server/dist); tests that import modules run the sources through tsx.
  if ((await run([process.execPath, 'apps/server/build.mjs'])) !== 0) failed += 1;
}

if (want('unit')) {
  const files = ['packages', 'apps'].flatMap((d) => findTests(join(root, d))).filter((f) => !f.includes('/reliability/')).sort();
  console.log(`\n== unit and kernel tests (${files.length} files)`);
  const { code, counts } = await nodeTests(files, UNIT_TIMEOUT_MS);
  tally('unit', counts, code);
}

if (want('reliability')) {
  const files = findTests(join(root, 'apps/server/reliability')).sort();
  console.log(`\n== reliability (${files.length} files)`);
  const dir = mkdtempSync(join(tmpdir(), 'nslab-figures-'));
  const figuresFile = join(dir, 'figures.jsonl');
  // The root namespace's fingerprint before the stage; zz-fingerprint.test.ts (sorted last) compares.
  const before = join(dir, 'fingerprint.txt');
  const out = openSync(before, 'w');
  await new Promise((resolve) => spawn(process.execPath, ['--import', 'tsx', 'apps/server/reliability/fingerprint.ts'], { cwd: root, stdio: ['ignore', out, 'inherit'] }).on('exit', resolve));
  closeSync(out);
  const { code, counts } = await nodeTests(files, RELIABILITY_TIMEOUT_MS, { NSLAB_FIGURES: figuresFile, NSLAB_FINGERPRINT_BEFORE: before });
  tally('reliability', counts, code);
  const figures = existsSync(figuresFile)
    ? readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];
  rmSync(dir, { recursive: true, force: true });
  if (figures.length > 0) {
    const width = Math.max(...figures.map((f) => f.name.length));
    console.log('\nfigures (reliability)');
    for (const f of figures) console.log(`  ${f.name.padEnd(width)}  ${String(f.value).padStart(10)} ${f.unit}`);
  }
}

if (want('e2e')) {
  console.log('\n== end-to-end (Playwright, /usr/bin/chromium)');
  const dir = mkdtempSync(join(tmpdir(), 'nslab-e2e-'));
  const json = join(dir, 'report.json');
  const code = await run(['npx', 'playwright', 'test', '-c', 'e2e/playwright.config.ts', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: json,
  });
  let stats = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
  try { stats = JSON.parse(readFileSync(json, 'utf8')).stats; } catch { /* no report: counted below */ }
  rmSync(dir, { recursive: true, force: true });
  tally('e2e', { pass: stats.expected + stats.flaky, fail: stats.unexpected, skip: stats.skipped ?? 0 }, code);
}

console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed === 0 ? 0 : 1;
