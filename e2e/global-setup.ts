/**
 * Before the suite: build the web app when its build is missing or older than its
 * sources (or the model's), so the server serves what is being tested.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './server';

/** The newest modification time under `dir` (ms), skipping node_modules and dot folders. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function globalSetup(): void {
  const index = join(ROOT, 'apps/web/dist/index.html');
  const sources = Math.max(newest(join(ROOT, 'apps/web/src')), newest(join(ROOT, 'packages/model/src')), statSync(join(ROOT, 'apps/web/index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  console.log('e2e: building the web app (npm run build -w @nslab/web)');
  execFileSync('npm', ['run', 'build', '-w', '@nslab/web'], { cwd: ROOT, stdio: 'inherit' });
}
