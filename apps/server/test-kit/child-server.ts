/**
 * `nslab serve` as a child process, for tests and benchmarks that need the server's
 * own pid (its RSS, its children, a SIGKILL in the middle of an apply).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

/**
 * Starts `nslab serve --no-default-lab` (and `flags`: `--classroom`) on a port with a token, and resolves once it
 * prints that it is running. A child that does not get there in `timeoutMs` is killed.
 */
export function startServerProcess(port: number, token: string, timeoutMs = 60_000, flags: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['apps/server/bin/nslab.mjs', 'serve', '--port', String(port), '--token', token, '--no-default-lab', ...flags], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`nslab serve did not start in ${timeoutMs / 1000} s: ${out}`));
    }, timeoutMs);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('nslab is running')) {
        clearTimeout(timer);
        ok(child);
      }
    });
    child.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`nslab serve exited with ${code}: ${out}`));
    });
  });
}

/** Ends a child server (SIGTERM, then SIGKILL after 10 s) and waits for it. */
export async function stopServerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
