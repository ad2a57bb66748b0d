#!/usr/bin/env node
// The nslab command: the built bundle when it is current (apps/server/build.mjs, run by
// `npm run build`), else the TypeScript sources through tsx, as in development.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { currentBuild } from './built.mjs';

// `nslab list | head`: a reader that stops early is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
const bundle = currentBuild(fileURLToPath(new URL('../../../', import.meta.url)));
let main;
if (bundle) {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
