#!/usr/bin/env node
// Builds nslab-nsread (nsread.c) with the system C compiler, when the binary is missing
// or older than its source. scripts/install.sh and the test command call it; without
// the binary nslab still works, reading each namespace with its own `ip` process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('./nsread.c', import.meta.url));
const dir = fileURLToPath(new URL('./build/', import.meta.url));
const binary = `${dir}nslab-nsread`;

if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) process.exit(0);
mkdirSync(dir, { recursive: true });
const flags = ['-O2', '-Wall', '-Wextra', '-Werror', '-o', binary, source];
// Static when libc.a is there (Debian's libc6-dev has it): exec is cheaper without the dynamic loader.
for (const extra of [['-static'], []]) {
  const r = spawnSync('cc', [...extra, ...flags], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.error) {
    console.error(`nslab: cannot build nslab-nsread: no C compiler (cc): ${r.error.message}. Install gcc and libc6-dev (scripts/install.sh does).`);
    process.exit(1);
  }
  if (r.status === 0) {
    console.log(`nslab: built ${binary}`);
    process.exit(0);
  }
  if (extra.length === 0) {
    process.stderr.write(r.stderr);
    console.error('nslab: cannot build nslab-nsread (see the compiler output above).');
    process.exit(1);
  }
}
