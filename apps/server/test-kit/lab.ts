/**
 * Helpers for kernel tests: load a bundled example under a unique lab name, run
 * commands inside a lab's namespaces with the kernel's own tools, and clean up.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Topology } from '@nslab/model';
import { netnsName, parseTopology } from '@nslab/model';
import { destroyLab } from '../src/kernel/lab';

/** The repository's examples folder. */
export const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

/** A lab name no other test uses: prefix plus random hex, within the 24-character limit. */
export function uniqueLab(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`.slice(0, 24);
}

/** An example file parsed and renamed to `lab`. */
export function loadExample(file: string, lab: string): Topology {
  const parsed = parseTopology(readFileSync(`${EXAMPLES}${file}`, 'utf8'));
  if (!parsed.ok) throw new Error(`${file}: ${JSON.stringify(parsed.problems)}`);
  return { ...parsed.topology, name: lab };
}

/** Runs a command inside a lab node's namespace; returns its exit status and output. */
export function inNode(lab: string, node: string, argv: string[], timeoutMs = 10_000): { code: number; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', netnsName(lab, node), ...argv], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/**
 * The body of `url` fetched with curl from inside a node, asked again every 100 ms
 * (up to 50 times) until it holds `expect`: a server just started needs a moment to listen.
 */
export async function curlUntil(lab: string, node: string, url: string, expect: string): Promise<string> {
  let body = '';
  for (let i = 0; i < 50 && !body.includes(expect); i += 1) {
    body = inNode(lab, node, ['curl', '-s', '--max-time', '2', url]).out;
    if (!body.includes(expect)) await new Promise((ok) => setTimeout(ok, 100));
  }
  return body;
}

/** True when one ping from the node reaches the address. */
export function pings(lab: string, node: string, address: string): boolean {
  return inNode(lab, node, ['ping', '-c', '1', '-W', '2', address]).code === 0;
}

/** Every named namespace on the machine. */
export function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

/** Destroys labs, ignoring ones already gone: for after-hooks that must run even when a test failed. */
export async function cleanup(...labs: string[]): Promise<void> {
  for (const lab of labs) await destroyLab(lab).catch(() => undefined);
}

/**
 * What `tcpdump -n -l -c COUNT ARGS...` prints inside a node while `action` runs: it
 * waits for tcpdump to listen, runs the action, then for COUNT packets or 3 s.
 */
export async function captureWhile(lab: string, node: string, count: number, args: string[], action: () => void): Promise<string> {
  const capture = spawn('ip', ['netns', 'exec', netnsName(lab, node), 'tcpdump', '-n', '-l', '-c', String(count), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  capture.stdout.on('data', (b: Buffer) => { seen += b.toString(); });
  const done = new Promise((ok) => capture.on('exit', ok));
  try {
    // tcpdump prints "listening on" to stderr once its socket is open.
    await new Promise<void>((ok) => capture.stderr.on('data', (b: Buffer) => { if (b.toString().includes('listening')) ok(); }));
    action();
    await Promise.race([done, new Promise((ok) => setTimeout(ok, 3000))]);
  } finally {
    if (capture.exitCode === null) capture.kill('SIGTERM');
  }
  return seen;
}
