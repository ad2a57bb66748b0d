/**
 * apply(ops): runs a plan. `ip` ops are batched (`ip -batch -`, one process per
 * namespace, since `-n NS` is not accepted inside batch lines), namespaces in
 * parallel; other commands are spawned. On the first failure it stops after the
 * current stage, and reports the op, its argv and the kernel's message; the state
 * left is one that a second apply of the same plan's topology completes.
 */
import type { Op } from '@nslab/model';
import { opArgv } from '@nslab/model';
import { explain } from './explain';
import { pool, run } from './runner';
import { batchLine } from './batch';
import { ownedNetnsArgv } from './userns';
import { NSREAD_PATH, nsreadAvailable } from './nsread';

/** Batches in flight at once: 8 in parallel was the fastest build here (DESIGN.md section 8). */
export const APPLY_CONCURRENCY = 8;

/** Progress of one op, as it runs. */
export interface OpEvent {
  index: number;
  op: Op;
  argv: string[];
  status: 'done' | 'failed';
  code: number;
  stdout: string;
  stderr: string;
}

/** A failed apply: the op, the command and what the kernel said, and how many ops ran before it. */
export class ApplyError extends Error {
  constructor(
    readonly op: Op,
    readonly index: number,
    readonly argv: string[],
    readonly stderr: string,
    readonly completed: number,
  ) {
    super(`${explain(op, stderr)} (while running: ${argv.join(' ')}; the kernel said: ${stderr.trim() || 'nothing'})`);
    this.name = 'ApplyError';
  }
}

type Channel = { type: 'root'; line: string[] } | { type: 'ns'; netns: string; line: string[] } | { type: 'exec'; netns: string };

/** How an op's argv runs: a line of the root batch, a line of a namespace's batch, or its own process. */
export function channelOf(argv: string[]): Channel {
  if (argv[0] === 'ip' && argv[1] === '-n' && argv[2]) return { type: 'ns', netns: argv[2], line: argv.slice(3) };
  if (argv[0] === 'ip' && argv[1] !== 'netns') return { type: 'root', line: argv.slice(1) };
  if (argv[0] === 'ip' && argv[1] === 'netns' && (argv[2] === 'add' || argv[2] === 'del')) return { type: 'root', line: argv.slice(1) };
  return { type: 'exec', netns: argv[0] === 'ip' && argv[1] === 'netns' && argv[2] === 'exec' ? argv[3] ?? '' : '' };
}

interface Step { index: number; op: Op; argv: string[]; channel: Channel }

/** How ops are run. */
export interface ApplyOptions {
  /** A user namespace file (a classroom trainee's, classroom/contain.ts): new network namespaces are made owned by it. */
  userns?: string;
}

/** Runs the ops in order and reports each one. Resolves with the number run. */
export async function applyOps(ops: Op[], onEvent: (e: OpEvent) => void = () => {}, options: ApplyOptions = {}): Promise<number> {
  const { userns } = options;
  const steps: Step[] = ops.map((op, index) => {
    // A trainee's node is made inside the trainee's user namespace, which then owns it (kernel/userns.ts).
    const argv = op.kind === 'netns.add' && userns !== undefined ? ownedNetnsArgv(userns, op.netns) : opArgv(op);
    return { index, op, argv, channel: channelOf(argv) };
  });
  // Consecutive steps of one channel type form a stage; stages run one after another.
  const stages: Step[][] = [];
  for (const step of steps) {
    const last = stages[stages.length - 1];
    if (last && last[0]?.channel.type === step.channel.type) last.push(step);
    else stages.push([step]);
  }
  let completed = 0;
  for (const stage of stages) {
    const groups = new Map<string, Step[]>();
    for (const step of stage) {
      const key = step.channel.type === 'root' ? '' : step.channel.netns;
      const list = groups.get(key) ?? [];
      list.push(step);
      groups.set(key, list);
    }
    const type = stage[0]?.channel.type;
    const failures = await pool([...groups.values()], APPLY_CONCURRENCY, (group) =>
      type === 'exec' ? runEach(group, onEvent) : runBatch(group, onEvent));
    const failure = failures.find((f) => f !== undefined);
    completed += stage.length - failures.reduce((n, f) => n + (f ? f.notRun : 0), 0);
    if (failure) throw new ApplyError(failure.step.op, failure.step.index, failure.step.argv, failure.stderr, completed);
  }
  return completed;
}

interface Failure { step: Step; stderr: string; notRun: number }

/** A removal that failed because its object is already gone has done its job (the kernel removes a veth's peer, or a namespace's contents, on its own). */
function alreadyGone(op: Op, stderr: string): boolean {
  const removal = op.kind === 'link.del' || op.kind === 'addr.del' || op.kind === 'route.del' || op.kind === 'link.release' || op.kind === 'link.down';
  if (op.kind === 'chain.add') return /Chain already exists/.test(stderr); // created earlier, still empty: the chain is there, as wanted
  return removal && /Cannot find device|No such process|Cannot assign requested address|does not exist/.test(stderr);
}

async function runBatch(group: Step[], onEvent: (e: OpEvent) => void): Promise<Failure | undefined> {
  const first = group[0];
  if (!first) return undefined;
  const ip = first.channel.type === 'ns' ? ['ip', '-n', first.channel.netns, '-batch', '-'] : ['ip', '-batch', '-'];
  // Killed with its parent (PR_SET_PDEATHSIG): a SIGKILLed apply leaves no batch still building
  // behind the crash recovery's back (kernel/journal.ts).
  const argv = ['setpriv', '--pdeathsig', 'SIGKILL', '--', ...ip];
  let start = 0;
  while (start < group.length) {
    const rest = group.slice(start);
    const lines = rest.map((s) => batchLine((s.channel as { line: string[] }).line));
    const result = await run(argv, { input: lines.join('\n') + '\n', allowFailure: true });
    // ip -batch stops at the first failing line and says "Command failed -:N"; on a parse error
    // it exits naming no line, and the line is found by parsing again where nothing is changed.
    const named = /Command failed -:(\d+)/.exec(result.stderr)?.[1];
    const failedLine = result.code === 0 ? 0
      : named !== undefined ? Number(named)
      : first.channel.type === 'ns' ? (await parseFailureLine(lines)) ?? 1
      : 1;
    const done = failedLine === 0 ? rest.length : failedLine - 1;
    for (const step of rest.slice(0, done)) onEvent({ index: step.index, op: step.op, argv: step.argv, status: 'done', code: 0, stdout: '', stderr: '' });
    if (failedLine === 0) return undefined;
    const step = rest[done] as Step;
    const stderr = result.stderr.replace(/Command failed -:\d+\s*$/, '').trim();
    if (alreadyGone(step.op, stderr)) {
      onEvent({ index: step.index, op: step.op, argv: step.argv, status: 'done', code: 0, stdout: '', stderr: `${stderr} (already gone: nothing to do)` });
      start += done + 1;
      continue;
    }
    onEvent({ index: step.index, op: step.op, argv: step.argv, status: 'failed', code: result.code, stdout: result.stdout, stderr });
    return { step, stderr, notRun: rest.length - done };
  }
  return undefined;
}

/**
 * A device name no lab has (an interface name may not start with '-'... nor be this long): a
 * line that names it fails at run time, never at parse time.
 */
const SENTINEL_LINE = 'link set dev nslab-sentinel0 up';

/**
 * The 1-based line of a namespace batch on which `ip` stopped with a parse error (it names
 * none then), or undefined. The lines run again with -force in a scratch network namespace
 * of their own (`unshare --net`: only lo, gone when ip exits), each followed by a line that
 * fails at run time and is reported with its number: the parse error is on the line after
 * the last sentinel reported. Namespace batches never create or delete namespaces, so
 * nothing outside the scratch namespace is touched.
 */
export async function parseFailureLine(lines: readonly string[]): Promise<number | undefined> {
  const probe = lines.flatMap((l) => [l, SENTINEL_LINE]);
  const result = await run(['unshare', '--net', '--', 'ip', '-force', '-batch', '-'], { input: probe.join('\n') + '\n', allowFailure: true });
  let lastSentinel = 0;
  for (const m of result.stderr.matchAll(/Command failed -:(\d+)/g)) {
    const n = Number(m[1]);
    if (n % 2 === 0) lastSentinel = Math.max(lastSentinel, n);
  }
  const line = lastSentinel / 2 + 1;
  // Every sentinel reported: no line failed to parse here (the failure was the kernel's after all).
  return line <= lines.length ? line : undefined;
}

/** The `KEY=VALUE` of a sysctl.set step, when its argv is `ip netns exec NS sysctl -qw KEY=VALUE`. */
function sysctlAssignment(step: Step): string | undefined {
  const [ip, netns, exec, , sysctl, flag, assignment, ...rest] = step.argv;
  return step.op.kind === 'sysctl.set' && ip === 'ip' && netns === 'netns' && exec === 'exec' && sysctl === 'sysctl' && flag === '-qw' && rest.length === 0 ? assignment : undefined;
}

/**
 * Writes a namespace's sysctl.set steps from `at` on, in a row, with one `sysctl -qw` entered by
 * nslab-nsread (setns, no mount namespace): `ip netns exec` per key cost a process with a mount
 * namespace each, two for every new node (promote_secondaries), which made a 100-namespace apply
 * three times as long as building it with ip -batch. Returns how many steps it wrote, 0 when it
 * wrote none (no helper, not a sysctl, or the write failed: the steps then run one by one, so the
 * failing key is the one named).
 */
async function writeSysctls(group: Step[], at: number, onEvent: (e: OpEvent) => void): Promise<number> {
  const first = group[at];
  if (!first || first.channel.type !== 'exec' || !nsreadAvailable()) return 0;
  const netns = first.channel.netns;
  const rows: Array<{ step: Step; assignment: string }> = [];
  for (let i = at; i < group.length; i += 1) {
    const step = group[i] as Step;
    const assignment = sysctlAssignment(step);
    if (assignment === undefined || step.channel.type !== 'exec' || step.channel.netns !== netns) break;
    rows.push({ step, assignment });
  }
  if (rows.length === 0) return 0;
  const result = await run([NSREAD_PATH, 'exec', netns, '--', 'sysctl', '-qw', ...rows.map((r) => r.assignment)], { allowFailure: true });
  if (result.code !== 0) return 0;
  for (const { step } of rows) onEvent({ index: step.index, op: step.op, argv: step.argv, status: 'done', code: 0, stdout: '', stderr: '' });
  return rows.length;
}

async function runEach(group: Step[], onEvent: (e: OpEvent) => void): Promise<Failure | undefined> {
  for (let i = 0; i < group.length; i += 1) {
    const written = await writeSysctls(group, i, onEvent);
    if (written > 0) {
      i += written - 1;
      continue;
    }
    const step = group[i] as Step;
    const result = await run(step.argv, { allowFailure: true });
    const status = result.code === 0 || alreadyGone(step.op, result.stderr) ? 'done' : 'failed';
    onEvent({ index: step.index, op: step.op, argv: step.argv, status, code: result.code, stdout: result.stdout, stderr: result.stderr });
    if (status === 'failed') return { step, stderr: result.stderr, notRun: group.length - i };
  }
  return undefined;
}
