/**
 * The nslab command line: apply, show, export, exec, trace, destroy, list, docker, lesson, serve.
 * Exit status 0 on success; non-zero with a one-line reason on error.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Problem } from '@nslab/model';
import { describeOp, exportScript, formatArgv, formatYaml, nameProblem, netnsName, opArgv, own, toFile, toYaml } from '@nslab/model';
import { ApplyError } from './kernel/apply';
import { addNode, applyTopology, destroyLab, NodeError, parseWithKernel, removeNode } from './kernel/lab';
import { execInLab } from './terminal/exec';
import { TerminalError } from './terminal/errors';
import { listLabs, observeLab } from './kernel/observe';
import { readMeta } from './kernel/meta';
import { CommandError } from './kernel/runner';
import { PingTraceError, traceInLab } from './capture/index';
import { traceJson, traceText } from './capture/trace-text';
import { LESSON_USAGE, lessonCommand } from './lesson/cli';

const USAGE = `usage: nslab COMMAND ...
  apply FILE [--dry-run]        create or converge the lab in FILE (YAML or JSON)
  show LAB [--json]             the lab as the kernel has it, with each node's netns name
  export LAB [--script]         the lab as a topology file, or as a bash script of ip/iptables commands
  exec LAB NODE -- CMD [ARGS]   run a command inside a node's namespace, in the lab's view
                                (ip netns list shows the lab's nodes; ip netns add NAME adds one)
  trace LAB FROM DEST [--tcp PORT | --udp PORT] [--json]
                                follow one packet (an echo, a TCP connection attempt, a UDP datagram)
                                hop by hop, with NAT rewrites and the rules that decided; exit 0 when it got there
  destroy LAB                   remove every namespace the lab owns, and nothing else
  list                          the labs on this machine
  docker LAB ARGS...            Docker's network vocabulary over the lab's containers (as \`docker\` in its shells)
  serve [--port N] [--host H]   the web app and API (see README.md)
${LESSON_USAGE}`;

/** A reason to stop, printed as one line (exit 1). */
class UsageError extends Error {}

/** Arguments this command does not take (exit 2, before anything runs). */
class ArgumentError extends Error {}

/** Each command's own usage, shown by `nslab COMMAND --help`. */
const HELP: Record<string, string> = {
  apply: 'usage: nslab apply FILE [--dry-run]\n  create or converge the lab in FILE (YAML or JSON); --dry-run prints the ops without running them',
  show: 'usage: nslab show LAB [--json]\n  the lab as the kernel has it, with each node\'s netns name',
  export: 'usage: nslab export LAB [--script]\n  the lab as a topology file, or as a bash script of ip/iptables commands',
  exec: 'usage: nslab exec LAB NODE -- CMD [ARGS...]\n  run a command inside a node\'s namespace (everything after -- is the command)',
  trace: 'usage: nslab trace LAB FROM DEST [--tcp PORT | --udp PORT] [--json]\n  follow one packet (an echo, a TCP connection attempt, a UDP datagram) hop by hop, with NAT rewrites\n  and the rules that decided; exit 0 when it got there',
  destroy: 'usage: nslab destroy LAB\n  remove every namespace the lab owns, and nothing else',
  list: 'usage: nslab list\n  the labs on this machine',
  serve: 'usage: nslab serve [--port N] [--host H] [--token T] [--no-default-lab | --default-lab FILE] [--max-terminals N] [--examples DIR]\n    [--tls-cert FILE --tls-key FILE] [--public-host NAME]... [--public-url URL]\n    [--classroom [--trainee-memory SIZE] [--trainee-pids N] [--trainee-cpu CORES]\n      [--quota-labs N] [--quota-namespaces N] [--quota-terminals N] [--quota-captures N]\n      [--idle-shells DURATION] [--idle-labs DURATION]]\n  the web app and API (see README.md); with --classroom each trainee\'s shells together may use\n  SIZE of memory (default 512M), N processes (default 256) and CORES of CPU (default 0.5); each trainee\n  may hold 5 labs, 40 namespaces, 8 terminals and 2 captures (the --quota flags); an idle trainee\'s\n  shells and captures end after --idle-shells (default 30m), their labs after --idle-labs (default 4h)',
};

/** Options of each command, for node:util parseArgs in strict mode. */
type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];
const OPTIONS: Record<string, Options> = {
  apply: { 'dry-run': { type: 'boolean' } },
  show: { json: { type: 'boolean' } },
  export: { script: { type: 'boolean' } },
  exec: {},
  trace: { tcp: { type: 'string' }, udp: { type: 'string' }, json: { type: 'boolean' } },
  destroy: {},
  list: {},
  serve: {
    port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, 'no-default-lab': { type: 'boolean' },
    'default-lab': { type: 'string' }, 'max-terminals': { type: 'string' }, examples: { type: 'string' },
    'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'public-host': { type: 'string', multiple: true }, 'public-url': { type: 'string' }, classroom: { type: 'boolean' },
    'trainee-memory': { type: 'string' }, 'trainee-pids': { type: 'string' }, 'trainee-cpu': { type: 'string' },
    'quota-labs': { type: 'string' }, 'quota-namespaces': { type: 'string' }, 'quota-terminals': { type: 'string' }, 'quota-captures': { type: 'string' },
    'idle-shells': { type: 'string' }, 'idle-labs': { type: 'string' },
  },
};

/** How many positionals each command takes (min, max). */
const POSITIONALS: Record<string, [number, number]> = { apply: [1, 1], show: [1, 1], export: [1, 1], exec: [2, 2], trace: [3, 3], destroy: [1, 1], list: [0, 0], serve: [0, 0] };

/**
 * Parses a command's arguments strictly: an unknown flag, a missing value or a stray word is an
 * ArgumentError naming it, before anything touches the kernel. Returns undefined for --help.
 */
export function parseCommand(command: string, args: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } | undefined {
  const options = OPTIONS[command] ?? {};
  // exec: what follows -- is the command to run, not ours to parse.
  const sep = command === 'exec' ? args.indexOf('--') : -1;
  const own = sep >= 0 ? args.slice(0, sep) : args;
  let parsed;
  try {
    parsed = parseArgs({ args: own, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (err) {
    const text = err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
    throw new ArgumentError(`${text.replace(/\. To specify a positional argument.*$/, '')} (nslab ${command} --help lists what it takes)`);
  }
  if (parsed.values.help) return undefined;
  const [min, max] = POSITIONALS[command] ?? [0, 0];
  const positionals = parsed.positionals;
  if (positionals.length > max) throw new ArgumentError(`nslab ${command} does not take "${positionals[max]}" (nslab ${command} --help lists what it takes)`);
  if (positionals.length < min) throw new ArgumentError(HELP[command] ?? USAGE);
  if (command === 'exec') {
    if (sep < 0 || sep === args.length - 1) throw new ArgumentError(HELP['exec'] ?? USAGE);
    positionals.push(...args.slice(sep + 1));
  }
  return { values: parsed.values, positionals };
}

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

async function requireLab(lab: string, options: { sysctls?: boolean } = {}) {
  const observed = await observeLab(lab, options);
  if (Object.keys(observed.topology.nodes).length === 0) throw new UsageError(`no lab named "${lab}" on this machine (nslab list shows them)`);
  return observed;
}

async function cmdApply(args: string[], values: Record<string, unknown>): Promise<number> {
  const dryRun = values['dry-run'] === true;
  const file = args[0];
  if (!file) throw new UsageError('name a topology file: nslab apply FILE');
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`); });
  const parsed = await parseWithKernel(text);
  if (!parsed.ok) {
    printProblems(file, parsed.problems);
    return 1;
  }
  for (const w of parsed.warnings ?? []) console.error(`warning: ${w.path || '(file)'}: ${w.message}`);
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

async function cmdShow(args: string[], values: Record<string, unknown>): Promise<number> {
  const lab = labArg(args);
  const observed = await requireLab(lab, { sysctls: true });
  const file = toFile(observed.topology, (await readMeta(lab)) ?? {}) as Record<string, unknown> & { nodes: Record<string, Record<string, unknown>> };
  // show is the kernel's view: every knob with its value, where the file form keeps only those off their default.
  for (const node of Object.keys(file.nodes)) {
    const ns = observed.topology.nodes[node];
    file.nodes[node] = { netns: netnsName(lab, node), ...file.nodes[node], sysctls: { ...ns?.sysctls } };
  }
  if (values['json'] === true) console.log(JSON.stringify(file, null, 2));
  else process.stdout.write(formatYaml(file));
  return 0;
}

async function cmdExport(args: string[], values: Record<string, unknown>): Promise<number> {
  const lab = labArg(args);
  const observed = await requireLab(lab, { sysctls: true });
  process.stdout.write(values['script'] === true ? exportScript(observed.topology) : toYaml(observed.topology, (await readMeta(lab)) ?? {}));
  return 0;
}

async function cmdExec(args: string[]): Promise<number> {
  const lab = labArg(args);
  let node = args[1];
  const command = args.slice(2);
  if (!node || command.length === 0) throw new UsageError('usage: nslab exec LAB NODE -- CMD [ARGS...]');
  const observed = await requireLab(lab);
  // A container without a namespace of its own runs in its host's (host mode) or another container's (container mode).
  const container = (await readMeta(lab))?.containers?.containers[node];
  if (container && !own(observed.topology.nodes, node)) node = container.node ?? container.host;
  if (!own(observed.topology.nodes, node)) throw new UsageError(`lab ${lab} has no node "${node}" (it has ${Object.keys(observed.topology.nodes).join(', ')})`);
  // In a lab view, as the lab's terminals: `ip netns add NAME` there makes a node of the lab.
  return execInLab(lab, node, command, {
    addNode: async (l, n) => { await addNode(l, n); },
    removeNode: async (l, n) => { await removeNode(l, n); },
  });
}

async function cmdTrace(args: string[], values: Record<string, unknown>): Promise<number> {
  const lab = labArg(args);
  const [, from = '', dest = ''] = args;
  const json = values['json'] === true;
  const tcp = values['tcp'] as string | undefined;
  const udp = values['udp'] as string | undefined;
  if (tcp !== undefined && udp !== undefined) throw new UsageError('give one of --tcp PORT or --udp PORT, not both');
  const proto: 'icmp' | 'tcp' | 'udp' = tcp !== undefined ? 'tcp' : udp !== undefined ? 'udp' : 'icmp';
  const portText = tcp ?? udp;
  if (portText !== undefined && (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)) {
    throw new UsageError(`--${proto} needs a port from 1 to 65535, not "${portText}"`);
  }
  const port = portText === undefined ? undefined : Number(portText);
  const observed = await requireLab(lab);
  const nodes = Object.keys(observed.topology.nodes);
  if (!nodes.includes(from)) throw new UsageError(`lab ${lab} has no node "${from}" (it has ${nodes.join(', ')})`);
  try {
    const result = await traceInLab({ lab, nodes, source: from, destination: dest, proto, ...(port !== undefined ? { port } : {}) });
    if (json) console.log(JSON.stringify(traceJson(result), null, 2));
    else process.stdout.write(traceText(result));
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof PingTraceError) throw new UsageError(err.message);
    throw err;
  }
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
  const [command, ...rest] = argv;
  try {
    let args = rest;
    let values: Record<string, unknown> = {};
    if (command !== undefined && Object.hasOwn(OPTIONS, command)) {
      const parsed = parseCommand(command, rest);
      if (!parsed) {
        console.log(HELP[command]);
        return 0;
      }
      args = parsed.positionals;
      values = parsed.values;
    }
    switch (command) {
      case 'apply': return await cmdApply(args, values);
      case 'show': return await cmdShow(args, values);
      case 'export': return await cmdExport(args, values);
      case 'exec': return await cmdExec(args);
      case 'trace': return await cmdTrace(args, values);
      case 'destroy': return await cmdDestroy(args);
      case 'list': return await cmdList();
      case 'docker': {
        // nslab docker LAB ARGS...: the lab shells' docker, typed on $NSLAB_NODE (default: the node "host").
        const lab = labArg(args);
        const { docker } = await import('./docker/docker');
        return await docker(lab, process.env['NSLAB_NODE'] || 'host', args.slice(1));
      }
      case 'lesson': return await lessonCommand(args);
      case 'serve': {
        const { serve } = await import('./main');
        return await serve(rest);
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
    if (err instanceof ArgumentError) {
      console.error(`nslab: ${err.message}`);
      return 2;
    }
    if (err instanceof UsageError) console.error(`nslab: ${err.message}`);
    else if (err instanceof ApplyError) console.error(`nslab: op ${err.index + 1} (${describeOp(err.op)}) failed: ${err.message}`);
    else if (err instanceof CommandError || err instanceof TerminalError || err instanceof NodeError) console.error(`nslab: ${err.message}`);
    else console.error(`nslab: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
