/**
 * The real server as a child process: started on a free port with a random token,
 * ended by its pid. And the kernel helpers the tests check with (`ip -n`, `ping`,
 * `nslab`), each an argv, never a shell string.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NSLAB = resolve(ROOT, 'apps/server/bin/nslab.mjs');
const run = promisify(execFile);

/** A running server. */
export interface ServerHandle {
  /** http://127.0.0.1:PORT */
  base: string;
  token: string;
  child: ChildProcess;
  output: () => string;
}

/** How long the server may take to print its URL (ms): it reads every lab on the machine first. */
const START_TIMEOUT_MS = 30_000;

/**
 * Starts `nslab serve` on a free port (port 0: the kernel picks) with a fresh token, or on the given ones (a restart);
 * `flags` are more of serve's flags (`--classroom`).
 */
export async function startServer(again?: { port: number; token: string }, flags: string[] = []): Promise<ServerHandle> {
  const token = again?.token ?? randomBytes(24).toString('hex');
  const child = spawn(process.execPath, [NSLAB, 'serve', '--port', String(again?.port ?? 0), '--token', token, '--no-default-lab', ...flags], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const base = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server printed no URL in ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
    const look = () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/\?token=/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the server exited (${code}) before it was ready:\n${out}`));
    });
  });
  return { base, token, child, output: () => out };
}

/** Stops the server by its pid and waits for it to exit. */
export async function stopServer(server: ServerHandle): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.pid === undefined) return;
  await new Promise<void>((ok) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      ok();
    });
    process.kill(child.pid!, 'SIGTERM');
  });
}

/** Runs a command; resolves with its exit code and output (never throws on a non-zero exit). */
export async function sh(argv: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const p = run(argv[0]!, argv.slice(1), { cwd: ROOT, timeout: 30_000 });
    if (input !== undefined) p.child.stdin?.end(input);
    const { stdout, stderr } = await p;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** Runs the nslab CLI. */
export function nslab(...args: string[]) {
  return sh([process.execPath, NSLAB, ...args]);
}

/** The kernel namespace of a lab's node. */
export function netns(lab: string, node: string): string {
  return `nslab.${lab}.${node}`;
}

/** `ip -n NETNS -j ...` parsed. */
export async function ipJson<T = unknown>(lab: string, node: string, ...args: string[]): Promise<T> {
  const r = await sh(['ip', '-n', netns(lab, node), '-j', ...args]);
  if (r.code !== 0) throw new Error(`ip -n ${netns(lab, node)} ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as T;
}

/** The IPv4 addresses of an interface, as "ADDR/LEN". */
export async function addressesOf(lab: string, node: string, ifname: string): Promise<string[]> {
  const info = await ipJson<{ addr_info?: { family: string; local: string; prefixlen: number }[] }[]>(lab, node, 'addr', 'show', 'dev', ifname);
  return (info[0]?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}
