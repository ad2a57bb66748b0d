/**
 * The one door to a process. Every command nslab runs goes through `run` (or, for the one
 * step that must block, `runSync`): an argv array (never a shell string), a timeout, and
 * failures turned into a typed error that carries the argv, the exit code and the kernel's
 * message. Long-lived children come through `start` and pty shells through `startShell`, with
 * the same argv checks. No other module of the server spawns a process.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { spawn as spawnPty } from 'node-pty';
import type { IPty } from 'node-pty';

/** What a finished command printed. */
export interface RunResult {
  stdout: string;
  /** stdout as bytes, for commands whose output is not text. */
  raw: Buffer;
  stderr: string;
  code: number;
}

/** A command that failed: the argv it ran, how it ended, and what it said. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly stdout: string,
    reason: string,
  ) {
    super(`${argv.join(' ')}: ${reason}`);
    this.name = 'CommandError';
  }
}

/** Options of one run. */
export interface RunOptions {
  /**
   * Written to the command's standard input, which is then closed. A promise lets the
   * process start (and pay its start-up) while the input is still being worked out;
   * if it rejects, the command gets an empty input and `run` rejects with that error.
   */
  input?: string | Promise<string>;
  /** Killed after this long. Default 30 s: the longest a lab command (a 200-namespace batch) takes here is a few seconds. */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Kills the command when aborted (a probe whose answer is no longer wanted); `run` then rejects. */
  signal?: AbortSignal;
}

/** A word that may never reach an argv from user input (NUL, newline) fails here as a last line of defence. */
function checkArgv(argv: readonly string[]): void {
  if (argv.length === 0) throw new Error('empty argv');
  for (const word of argv) {
    if (/[\0\n\r]/.test(word)) throw new Error(`refusing to run ${JSON.stringify(argv)}: an argument holds a NUL or newline`);
  }
}

/** Runs a command and waits for it. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  checkArgv(argv);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(new CommandError(argv, null, '', '', 'aborted before it started'));
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let aborted = false;
    const abort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', abort, { once: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let inputError: Error | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new CommandError(argv, null, '', '', missing ? `${argv[0]} is not installed (run the install command in README.md)` : e.message));
    });
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      const raw = Buffer.concat(out);
      const result = { stdout: raw.toString('utf8'), raw, stderr: Buffer.concat(err).toString('utf8'), code: code ?? 128 };
      if (inputError) reject(inputError);
      else if (aborted) reject(new CommandError(argv, code, result.stderr, result.stdout, 'aborted'));
      else if (timedOut) reject(new CommandError(argv, code, result.stderr, result.stdout, `timed out after ${timeoutMs} ms`));
      else if (code !== 0 && !options.allowFailure) reject(new CommandError(argv, code, result.stderr, result.stdout, result.stderr.trim() || `exited with ${code ?? killedBy}`));
      else resolve(result);
    });
    child.stdin.on('error', () => { /* the command may exit before reading its input */ });
    Promise.resolve(options.input ?? '').then(
      (text) => child.stdin.end(text),
      (e: unknown) => {
        inputError = e instanceof Error ? e : new Error(String(e));
        child.stdin.end('');
      },
    );
  });
}

/**
 * Runs a short command and blocks until it ends: only for a step that must not interleave with
 * other work of the event loop (a trainee's user namespace is made and its id range recorded in
 * one step, classroom/contain.ts). The same argv checks, timeout and error type as `run`.
 */
export function runSync(argv: readonly string[], options: { timeoutMs?: number } = {}): void {
  checkArgv(argv);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const r = spawnSync(argv[0] as string, argv.slice(1), { timeout: timeoutMs, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const stderr = r.stderr ?? '';
  const code = r.error && 'code' in r.error ? r.error.code : undefined;
  if (code === 'ENOENT') throw new CommandError(argv, null, '', '', `${argv[0]} is not installed (run the install command in README.md)`);
  if (code === 'ETIMEDOUT') throw new CommandError(argv, r.status, stderr, '', `timed out after ${timeoutMs} ms`);
  if (r.error) throw new CommandError(argv, r.status, stderr, '', r.error.message);
  if (r.status !== 0) throw new CommandError(argv, r.status, stderr, '', stderr.trim() || `exited with ${r.status ?? r.signal}`);
}

/** Runs `tasks` with at most `limit` in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const i = next;
      next += 1;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The argv of a long-running child (a monitor, a capture) wrapped so that it dies with
 * the server even when the server is killed with SIGKILL: util-linux's setpriv sets
 * PR_SET_PDEATHSIG, and the kernel sends SIGTERM to the child when its parent exits.
 * Without it, orphaned `nft monitor`s were seen keeping deleted namespaces alive.
 */
export function dieWithParent(argv: readonly string[]): string[] {
  return ['setpriv', '--pdeathsig', 'SIGTERM', '--', ...argv];
}

/** How much of a long-lived child's stderr is kept for its error (bytes): a few lines of tcpdump or nft is well under this. */
export const STDERR_KEEP = 4096;

/** Where one of a long-lived child's standard streams goes: a pipe, nothing, the server's own, or an open file descriptor. */
export type StartStdio = 'pipe' | 'ignore' | 'inherit' | number;

/** Options of a long-lived child. */
export interface StartOptions {
  /** Its standard input. Default nothing. */
  stdin?: StartStdio;
  /** Its standard output. Default a pipe. */
  stdout?: StartStdio;
  /** Its standard error. Default a pipe, whose text is kept (for the error) and logged; anything else keeps nothing. */
  stderr?: StartStdio;
  /** Wrap it with dieWithParent (default true). False only for a command that sets its own parent-death signal, that loses it on a change of user, or that must outlive this process. */
  dieWithParent?: boolean;
  /** Where its stderr lines go (default console.error, prefixed with the command's name). */
  log?: (line: string) => void;
  /** Its whole environment (default the server's). */
  env?: NodeJS.ProcessEnv;
  /** Leads its own process group, so that it can be signalled as one (default false). */
  detached?: boolean;
}

/** A long-lived child started by `start`. */
export interface Started {
  child: ChildProcess;
  /** The argv that runs (with the parent-death wrapper when there is one). */
  argv: readonly string[];
  /** The last STDERR_KEEP bytes it wrote to stderr. */
  stderr(): string;
  /** Resolves when it has ended: undefined after a clean exit (0, or the SIGTERM/SIGKILL we sent), else the error. */
  ended: Promise<CommandError | undefined>;
}

/**
 * Starts a long-lived child (a capture, a watcher, a monitor): the same argv checks as
 * `run`, the parent-death signal so it never outlives the server, its stderr kept (for
 * the error) and logged, and its failure as the one error type, CommandError.
 */
export function start(argv: readonly string[], options: StartOptions = {}): Started {
  checkArgv(argv);
  const full = options.dieWithParent === false ? [...argv] : dieWithParent(argv);
  const log = options.log ?? ((line: string) => console.error(`${argv[0]}: ${line}`));
  const child = spawn(full[0] as string, full.slice(1), {
    stdio: [options.stdin ?? 'ignore', options.stdout ?? 'pipe', options.stderr ?? 'pipe'],
    ...(options.env ? { env: options.env } : {}),
    ...(options.detached ? { detached: true } : {}),
  });
  let tail = '';
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer | string) => {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    tail = (tail + text).slice(-STDERR_KEEP);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') log(line);
  });
  const ended = new Promise<CommandError | undefined>((resolve) => {
    child.on('error', (e) => {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      resolve(new CommandError(full, null, tail, '', missing ? `${full[0]} is not installed (run the install command in README.md)` : e.message));
    });
    child.on('close', (code, signal) => {
      if (partial.trim() !== '') log(partial);
      const clean = code === 0 || signal === 'SIGTERM' || signal === 'SIGKILL';
      resolve(clean ? undefined : new CommandError(full, code, tail, '', tail.trim() || `exited with ${code ?? signal}`));
    });
  });
  return { child, argv: full, stderr: () => tail, ended };
}

/** Options of a shell on a pseudo-terminal. */
export interface ShellOptions {
  /** The terminal type it is told (TERM). */
  name: string;
  cols: number;
  rows: number;
  cwd: string;
  /** Its whole environment: nothing is inherited from the server. */
  env: Record<string, string>;
}

/**
 * Starts a shell on a pseudo-terminal (node-pty), with the same argv checks as `run`
 * and `start`. Output arrives as raw bytes (encoding null). No parent-death wrapper:
 * node-pty makes the shell a session leader with the pty as its controlling terminal,
 * so when the server ends its side of the pty closes and the kernel hangs the session
 * up (SIGHUP to the shell and its jobs). A failure to start throws the CommandError.
 */
export function startShell(argv: readonly string[], options: ShellOptions): IPty {
  checkArgv(argv);
  try {
    return spawnPty(argv[0] as string, argv.slice(1), { ...options, encoding: null });
  } catch (e) {
    throw new CommandError(argv, null, '', '', e instanceof Error ? e.message : String(e));
  }
}
