/**
 * apply(ops): runs a plan. `ip` ops are batched (`ip -batch -`, one process per
 * namespace, since `-n NS` is not accepted inside batch lines), namespaces in
 * parallel; other commands are spawned. On the first failure it stops after the
 * current stage, and reports the op, its argv and the kernel's message; the state
 * left is one that a second apply of the same plan's topology completes.
 */
import type { Op } from '@nslab/model';
import { opArgv, opInput } from '@nslab/model';
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
    const list = [...groups.values()];
    // An exec stage's leading sysctls are written for every namespace by one process first.
    const written = type === 'exec' ? await writeSysctls(list, onEvent) : list.map(() => 0);
    const failures = await pool(list.map((group, g) => ({ group, from: written[g] ?? 0 })), APPLY_CONCURRENCY, ({ group, from }) =>
      type === 'exec' ? runEach(group, onEvent, from) : runBatch(group, onEvent));
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
  if (op.kind === 'chain.add' || op.kind === 'ip6chain.add') return /Chain already exists/.test(stderr); // created earlier, still empty: the chain is there, as wanted
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
 * Writes the sysctl.set steps that open each namespace's group of an exec stage, for every
 * namespace at once, with one `nslab-nsread sysctls` process (setns into each in turn): a
 * process per namespace, two for every new node (promote_secondaries), made a 100-namespace
 * apply twice as long as building it with ip -batch. Returns, per group, how many of its
 * steps were written; a group the helper stopped at a refused key has the steps before that
 * key written, and runEach runs the rest one by one, so the refused key is the one named
 * with the kernel's words. All zeros without the helper.
 */
async function writeSysctls(groups: Step[][], onEvent: (e: OpEvent) => void): Promise<number[]> {
  const written = groups.map(() => 0);
  if (!nsreadAvailable()) return written;
  const rows = groups.map((group) => {
    const out: Array<{ step: Step; assignment: string }> = [];
    for (const step of group) {
      const assignment = sysctlAssignment(step);
      if (assignment === undefined || !HELPER_SYSCTL.test(assignment)) break;
      out.push({ step, assignment });
    }
    return out;
  });
  const argv = [NSREAD_PATH, 'sysctls'];
  rows.forEach((r, g) => {
    const first = groups[g]?.[0];
    if (r.length === 0 || first?.channel.type !== 'exec') return;
    if (argv.length > 2) argv.push('--');
    argv.push(first.channel.netns, ...r.map((x) => x.assignment));
  });
  if (argv.length === 2) return written;
  const result = await run(argv, { allowFailure: true });
  if (result.code !== 0 && result.code !== 1) return written; // not run at all: every step runs on its own
  // One line per group the helper stopped: NS, the refused key, the reason.
  const stopped = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const [netns, key] = line.split('\t');
    if (netns) stopped.set(netns, key ?? '');
  }
  rows.forEach((r, g) => {
    const first = groups[g]?.[0];
    if (r.length === 0 || first?.channel.type !== 'exec') return;
    const key = stopped.get(first.channel.netns);
    const upTo = key === undefined ? r.length : key === '' ? 0 : r.findIndex((x) => x.assignment.startsWith(`${key}=`));
    const done = upTo < 0 ? 0 : upTo;
    for (const { step } of r.slice(0, done)) onEvent({ index: step.index, op: step.op, argv: step.argv, status: 'done', code: 0, stdout: '', stderr: '' });
    written[g] = done;
  });
  return written;
}

/** An assignment nslab-nsread's valid_sysctl takes (native/nsread.c): net.* of plain words, dotted or slashed, a short value. */
const HELPER_SYSCTL = /^net(?:(?:\.[A-Za-z0-9_-]+)+|(?:\/[A-Za-z0-9_.-]+)+)=.{1,32}$/s;

async function runEach(group: Step[], onEvent: (e: OpEvent) => void, from = 0): Promise<Failure | undefined> {
  for (let i = from; i < group.length; i += 1) {
    const step = group[i] as Step;
    const input = opInput(step.op);
    const result = await run(step.argv, { allowFailure: true, ...(input !== undefined ? { input } : {}) });
    const status = result.code === 0 || alreadyGone(step.op, result.stderr) ? 'done' : 'failed';
    onEvent({ index: step.index, op: step.op, argv: step.argv, status, code: result.code, stdout: result.stdout, stderr: result.stderr });
    if (status === 'failed') return { step, stderr: result.stderr, notRun: group.length - i };
  }
  return undefined;
}
