#!/usr/bin/env node
// The one test command: typecheck, every unit and kernel test of every workspace
// (node's test runner through tsx), then the Playwright suite in Debian's Chromium.
// Ends with one line "N passed, N failed" that sums every stage.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2); // optional: stage names (typecheck, unit, e2e)

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
const want = (stage) => only.length === 0 || only.includes(stage);

if (want('typecheck')) {
  console.log('\n== typecheck (tsc -b)');
  const code = await run(['npx', 'tsc', '-b']);
  if (code === 0) passed += 1;
  else failed += 1;
}

if (want('unit')) {
  // The kernel tests read namespaces with nslab-nsread: build it if its source changed.
  if ((await run([process.execPath, 'apps/server/native/build.mjs'])) !== 0) failed += 1;
  const files = ['packages', 'apps'].flatMap((d) => findTests(join(root, d))).sort();
  console.log(`\n== unit and kernel tests (${files.length} files)`);
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-'));
  const tap = join(dir, 'report.tap');
  const code = await run([
    process.execPath, '--import', 'tsx', '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files.map((f) => relative(root, f)),
  ]);
  const report = readFileSync(tap, 'utf8');
  const count = (key) => Number((report.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  passed += count('pass');
  failed += count('fail') + (code !== 0 && count('fail') === 0 ? 1 : 0);
  rmSync(dir, { recursive: true, force: true });
}

if (want('e2e')) {
  console.log('\n== end-to-end (Playwright, /usr/bin/chromium)');
  const dir = mkdtempSync(join(tmpdir(), 'nslab-e2e-'));
  const json = join(dir, 'report.json');
  const code = await run(['npx', 'playwright', 'test', '-c', 'e2e/playwright.config.ts', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: json,
  });
  let stats = { expected: 0, unexpected: 0, flaky: 0 };
  try { stats = JSON.parse(readFileSync(json, 'utf8')).stats; } catch { /* no report: counted below */ }
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected + (code !== 0 && stats.unexpected === 0 ? 1 : 0);
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
