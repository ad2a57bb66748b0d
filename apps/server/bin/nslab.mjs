#!/usr/bin/env node
// The nslab command: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
// `nslab list | head`: a reader that stops early is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
