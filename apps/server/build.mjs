#!/usr/bin/env node
// Builds the nslab CLI and server into one bundle, apps/server/dist/nslab.mjs, so the
// root-run server and every `nslab` command (a lab shell's `docker` among them) start
// without compiling TypeScript. npm packages stay outside the bundle; @nslab/model,
// which is TypeScript source, goes in. dist/inputs.json lists the sources it was made
// from: bin/nslab.mjs runs the bundle only while none of them is newer (bin/built.mjs).
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

const server = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8'));
const external = Object.keys(pkg.dependencies).filter((name) => !name.startsWith('@nslab/'));

const result = await build({
  entryPoints: [`${server}src/cli.ts`],
  outfile: `${server}dist/nslab.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
// Paths from the repository, so a moved checkout is checked against its own files.
const inputs = Object.keys(result.metafile.inputs).map((p) => relative(repo, `${repo}${p}`)).filter((p) => !p.startsWith('node_modules/'));
writeFileSync(`${server}dist/inputs.json`, `${JSON.stringify(inputs, null, 1)}\n`);
console.log(`nslab: built apps/server/dist/nslab.mjs from ${inputs.length} sources`);
