/**
 * The nslab command line: apply, show, export, exec, destroy, list, serve.
 * Exit status 0 on success; non-zero with a one-line reason on error.
 */
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import type { Problem } from '@nslab/model';
import { describeOp, exportScript, formatArgv, formatYaml, nameProblem, netnsName, opArgv, toFile, toYaml } from '@nslab/model';
import { ApplyError } from './kernel/apply';
import { applyTopology, destroyLab, parseWithKernel } from './kernel/lab';
import { listLabs, observeLab } from './kernel/observe';
import { CommandError } from './kernel/runner';
import { LESSON_USAGE, lessonCommand } from './lesson/cli';

const USAGE = `usage: nslab COMMAND ...
  apply FILE [--dry-run]        create or converge the lab in FILE (YAML or JSON)
  show LAB [--json]             the lab as the kernel has it, with each node's netns name
  export LAB [--script]         the lab as a topology file, or as a bash script of ip/iptables commands
  exec LAB NODE -- CMD [ARGS]   run a command inside a node's namespace
  destroy LAB                   remove every namespace the lab owns, and nothing else
  list                          the labs on this machine
  serve [--port N] [--host H]   the web app and API (see README.md)
${LESSON_USAGE}`;

/** A reason to stop, printed as one line. */
class UsageError extends Error {}

function printProblems(file: string, problems: Problem[]): void {
  console.error(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was changed:`);
  for (const p of problems) console.error(`  ${p.path || '(file)'}: ${p.message}`);
}

function labArg(args: string[]): string {
  const lab = args[0];
  if (!lab) throw new UsageError('name a lab (nslab list shows them)');
  const problem = nameProblem(lab, 'lab');
  if (problem) throw new UsageError(problem);
  return lab;
}

async function requireLab(lab: string) {
  const observed = await observeLab(lab);
  if (Object.keys(observed.topology.nodes).length === 0) throw new UsageError(`no lab named "${lab}" on this machine (nslab list shows them)`);
  return observed;
}

async function cmdApply(args: string[]): Promise<number> {
  const dryRun = args.includes('--dry-run');
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) throw new UsageError('name a topology file: nslab apply FILE');
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`); });
  const parsed = await parseWithKernel(text);
  if (!parsed.ok) {
    printProblems(file, parsed.problems);
    return 1;
  }
  const outcome = await applyTopology(parsed.topology, {
    dryRun,
    meta: parsed.meta,
    onEvent: (e) => {
      if (e.status === 'done') console.log(formatArgv(e.argv));
      else console.log(`FAILED: ${formatArgv(e.argv)}`);
    },
  });
  if (dryRun) {
    for (const op of outcome.ops) console.log(`${formatArgv(opArgv(op))}    # ${op.reason}`);
    console.log(`# ${outcome.ops.length} op${outcome.ops.length === 1 ? '' : 's'} (dry run: nothing was changed)`);
  } else {
    console.log(`# lab ${parsed.topology.name}: ${outcome.ran} op${outcome.ran === 1 ? '' : 's'} run${outcome.ran === 0 ? ' (already up to date)' : ''}`);
  }
  for (const n of outcome.foreign) console.error(`warning: namespace ${n} has this lab's name but another owner; it was left alone`);
  return 0;
}

async function cmdShow(args: string[]): Promise<number> {
  const lab = labArg(args);
  const observed = await requireLab(lab);
  const file = toFile(observed.topology) as Record<string, unknown> & { nodes: Record<string, Record<string, unknown>> };
  for (const node of Object.keys(file.nodes)) file.nodes[node] = { netns: netnsName(lab, node), ...file.nodes[node] };
  if (args.includes('--json')) console.log(JSON.stringify(file, null, 2));
  else process.stdout.write(formatYaml(file));
  return 0;
}

async function cmdExport(args: string[]): Promise<number> {
  const lab = labArg(args);
  const observed = await requireLab(lab);
  process.stdout.write(args.includes('--script') ? exportScript(observed.topology) : toYaml(observed.topology));
  return 0;
}

async function cmdExec(args: string[]): Promise<number> {
  const lab = labArg(args);
  const node = args[1];
  const sep = args.indexOf('--');
  const command = sep >= 0 ? args.slice(sep + 1) : args.slice(2);
  if (!node || command.length === 0) throw new UsageError('usage: nslab exec LAB NODE -- CMD [ARGS...]');
  const observed = await requireLab(lab);
  if (!observed.topology.nodes[node]) throw new UsageError(`lab ${lab} has no node "${node}" (it has ${Object.keys(observed.topology.nodes).join(', ')})`);
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', netnsName(lab, node), ...command], { stdio: 'inherit' });
    child.on('error', (e) => { console.error(`nslab: ${e.message}`); resolve(127); });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function cmdDestroy(args: string[]): Promise<number> {
  const lab = labArg(args);
  const removed = await destroyLab(lab);
  if (removed.length === 0) throw new UsageError(`no lab named "${lab}" on this machine (nslab list shows them)`);
  console.log(`destroyed lab ${lab}: ${removed.join(', ')}`);
  return 0;
}

async function cmdList(): Promise<number> {
  const labs = await listLabs();
  if (labs.length === 0) console.log('no labs (nslab apply examples/bridge.yaml makes one)');
  for (const lab of labs) console.log(`${lab.name}\t${lab.nodes.length} node${lab.nodes.length === 1 ? '' : 's'}: ${lab.nodes.join(', ')}`);
  return 0;
}

/** Runs the CLI with its arguments; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'apply': return await cmdApply(args);
      case 'show': return await cmdShow(args);
      case 'export': return await cmdExport(args);
      case 'exec': return await cmdExec(args);
      case 'destroy': return await cmdDestroy(args);
      case 'list': return await cmdList();
      case 'lesson': return await lessonCommand(args);
      case 'serve': {
        const { serve } = await import('./main');
        return await serve(args);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof UsageError) console.error(`nslab: ${err.message}`);
    else if (err instanceof ApplyError) console.error(`nslab: op ${err.index + 1} (${describeOp(err.op)}) failed: ${err.message}`);
    else if (err instanceof CommandError) console.error(`nslab: ${err.message}`);
    else console.error(`nslab: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
