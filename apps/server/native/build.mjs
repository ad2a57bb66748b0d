#!/usr/bin/env node
// Builds nslab's small C helpers with the system C compiler, each when its binary is missing or
// older than its source: nslab-nsread (nsread.c, the namespace reader), nslab-contain
// (contain.c, classroom trainees' user namespaces and contained shells), nslab-ping (ping.c,
// lesson checks' echo requests from one long-lived process) and nslab-capture (capture.c, a
// namespace's packets as pcap). scripts/install.sh and
// the test command call it; without nslab-nsread nslab still works, reading each namespace with
// its own `ip` process; without nslab-contain a classroom's trainee shells are not contained;
// without nslab-ping a lesson's ping check runs `ping`; without nslab-capture captures run tcpdump.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./build/', import.meta.url));

function build(name, file) {
  const source = fileURLToPath(new URL(`./${file}`, import.meta.url));
  const binary = `${dir}${name}`;
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return;
  mkdirSync(dir, { recursive: true });
  const flags = ['-O2', '-Wall', '-Wextra', '-Werror', '-o', binary, source];
  // Static when libc.a is there (Debian's libc6-dev has it): exec is cheaper without the dynamic loader.
  for (const extra of [['-static'], []]) {
    const r = spawnSync('cc', [...extra, ...flags], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    if (r.error) {
      console.error(`nslab: cannot build ${name}: no C compiler (cc): ${r.error.message}. Install gcc and libc6-dev (scripts/install.sh does).`);
      process.exit(1);
    }
    if (r.status === 0) {
      console.log(`nslab: built ${binary}`);
      return;
    }
    if (extra.length === 0) {
      process.stderr.write(r.stderr);
      console.error(`nslab: cannot build ${name} (see the compiler output above).`);
      process.exit(1);
    }
  }
}

build('nslab-nsread', 'nsread.c');
build('nslab-contain', 'contain.c');
build('nslab-ping', 'ping.c');
build('nslab-capture', 'capture.c');
