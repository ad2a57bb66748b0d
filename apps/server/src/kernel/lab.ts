/**
 * The engine's entry points: apply a topology, destroy a lab, export it. Each reads
 * the kernel first, so every call converges from whatever state it finds.
 */
import type { Op, ParseResult, Problem, Topology, TopologyMeta } from '@nslab/model';
import { isOtherSysctl, nameProblem, pathOf, netnsName, ownerMarker, parseNetnsName, parseTopology, parseTopologyData, plan } from '@nslab/model';
import { removeMeta, writeMeta } from './meta';
import { endLabProcesses } from '../docker/processes';
import { syncDns } from '../docker/dns';
import { syncProxies } from '../docker/proxy';
import { applyOps } from './apply';
import { batchLine } from './batch';
import type { OpEvent } from './apply';
import { listNetns, observeLab, reader, readOwner, readOwners } from './observe';
import { run } from './runner';
import { createArgv, createWithHelper } from './nsread';
import type { NamespaceReading } from './iproute';
import { CommandError } from './runner';
import { recordIntent, recoverKilledRuns } from './journal';
import { checkFirewall } from './firewall';
import { otherSysctlKernelProblem } from './sysctl-other';

/** The outcome of an apply: the plan and, unless it was a dry run, how much of it ran. */
export interface ApplyOutcome {
  ops: Op[];
  ran: number;
  /** Namespaces with the lab's names but another lab's marker: left alone, and in the way. */
  foreign: string[];
}

/**
 * Converges the kernel to a validated topology. Namespaces named like the lab's
 * nodes but carrying no marker (left by a crash between create and mark) are
 * adopted only when the topology declares them, by marking them.
 */
export async function applyTopology(
  desired: Topology,
  options: {
    dryRun?: boolean;
    onEvent?: (e: OpEvent) => void;
    onPlan?: (ops: Op[]) => void;
    meta?: TopologyMeta;
    /** The lab as a live feed already knows it: skips the read (an edit on the canvas plans against what the user sees). */
    observed?: Topology;
    /** A classroom trainee's user namespace file: the lab's new namespaces are made owned by it (kernel/userns.ts). */
    userns?: string;
  } = {},
): Promise<ApplyOutcome> {
  // What a run killed mid-apply left of this lab (empty netns files, unmarked namespaces) goes first.
  if (!options.dryRun) await recoverKilledRuns(desired.name);
  const { topology: observed, foreign } = options.observed
    ? { topology: options.observed, foreign: [] }
    : await readForApply(desired, options.dryRun ?? false);
  const ops = plan(desired, observed);
  options.onPlan?.(ops);
  if (options.dryRun) return { ops, ran: 0, foreign };
  // The namespaces about to be created are journaled first, so a SIGKILL at any moment leaves nothing unaccounted for.
  const creating = ops.flatMap((op) => (op.kind === 'netns.add' ? [op.netns] : []));
  const intent = creating.length > 0 ? await recordIntent(desired.name, creating) : undefined;
  let ran: number;
  try {
    ran = await applyOps(ops, options.onEvent, options.userns !== undefined ? { userns: options.userns } : {});
  } finally {
    await intent?.done();
  }
  if (options.meta && Object.keys(options.meta).length > 0) await writeMeta(desired.name, options.meta);
  if (options.meta?.containers) {
    await syncDns(desired.name, options.meta.containers);
    await syncProxies(desired.name, options.meta.containers);
  }
  return { ops, ran, foreign };
}

/** Reads the lab, first adopting (unless dry) unmarked namespaces the topology declares. */
async function readForApply(desired: Topology, dryRun: boolean): Promise<{ topology: Topology; foreign: string[] }> {
  // Knobs are read only when the topology sets some: a sysctl process per namespace is a cost a lab without them need not pay.
  const sysctls = Object.values(desired.nodes).some((n) => n.sysctls !== undefined && Object.keys(n.sysctls).length > 0);
  let observed = await observeLab(desired.name, { sysctls });
  const adoptable = observed.unmarked.filter((n) => Object.keys(desired.nodes).some((node) => netnsName(desired.name, node) === n));
  if (adoptable.length > 0 && !dryRun) {
    await adoptNetns(desired.name, adoptable);
    observed = await observeLab(desired.name, { sysctls });
  }
  return { topology: observed.topology, foreign: observed.foreign };
}

/** Writes the lab's marker on each namespace's lo. Only called for unmarked names the topology declares. */
async function adoptNetns(lab: string, names: string[]): Promise<void> {
  for (const netns of names) {
    const parsed = parseNetnsName(netns);
    if (parsed?.lab === lab) await run(['ip', '-n', netns, 'link', 'set', 'lo', 'alias', ownerMarker(lab, parsed.node)]);
  }
}

/** Removes every namespace the lab owns (their devices, routes and rules go with them), and nothing else. */
export async function destroyLab(lab: string): Promise<string[]> {
  // Leftovers of a killed apply of this lab (journaled, writer dead) are removed first.
  const recovered = (await recoverKilledRuns(lab)).map((n) => parseNetnsName(n)?.node ?? n);
  // Only namespaces whose lo carries this lab's marker: a name alone proves nothing.
  const owned = (async () => {
    const names = (await listNetns()).filter((n) => parseNetnsName(n)?.lab === lab);
    const owners = await readOwners(names);
    return names.map((n, i) => ({ owner: owners[i], node: parseNetnsName(n)?.node }))
      .filter((e) => e.owner?.lab === lab && e.owner.node === e.node)
      .map((e) => e.node as string);
  })();
  // The batch starts while the markers are read (its start-up is a third of its cost);
  // it gets its lines only once ownership is known, and none if the read fails.
  const lines = owned.then((nodes) => nodes.map((node) => batchLine(['netns', 'del', netnsName(lab, node)]) + '\n').join(''));
  await deleteNetns(lines);
  const nodes = await owned;
  if (nodes.length > 0 || recovered.length > 0) {
    await endLabProcesses(lab);
    await removeMeta(lab);
  }
  return [...new Set([...nodes, ...recovered])];
}

/**
 * Runs a batch of `netns del` lines with `-force`: a namespace that vanished meanwhile (deleted
 * from a shell, or by a concurrent destroy) must not stop the rest. Its "No such file" is
 * expected; any other failure is reported.
 */
export async function deleteNetns(lines: string | Promise<string>): Promise<void> {
  const result = await run(['ip', '-force', '-batch', '-'], { input: lines, allowFailure: true });
  if (result.code === 0) return;
  const errors = result.stderr.split('\n').filter((l) => l.trim() !== '' && !/No such file or directory|Command failed -:\d+/.test(l));
  if (errors.length > 0) throw new Error(`deleting namespaces failed: ${errors.join('; ')}`);
}

/**
 * Reads a topology file (text or decoded data). A file with containers is read a
 * second time against the lab as the kernel has it, so running containers keep
 * their addresses (IPAM) and only new ones get new ones.
 */
export async function parseWithKernel(input: unknown): Promise<ParseResult> {
  const parse = (observed?: Topology) => (typeof input === 'string' ? parseTopology(input, observed ? { observed } : {}) : parseTopologyData(input, observed ? { observed } : {}));
  const first = parse();
  const parsed = !first.ok || !first.meta.containers ? first : parse((await observeLab(first.topology.name, { firewall: false })).topology);
  if (!parsed.ok) return parsed;
  // Raw firewall rules are read by iptables itself, and sysctls outside the allow-list named against a fresh namespace, before anything runs.
  const refused = [...(await checkFirewall(parsed.topology)), ...(await checkOtherSysctls(parsed.topology))];
  return refused.length > 0 ? { ok: false, problems: refused } : parsed;
}

/** The file's sysctls outside the allow-list that no lab namespace on this kernel could take, each with its path. */
async function checkOtherSysctls(topology: Topology): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [node, ns] of Object.entries(topology.nodes)) {
    for (const name of Object.keys(ns.sysctls ?? {})) {
      if (!isOtherSysctl(name)) continue;
      const problem = await otherSysctlKernelProblem(name);
      if (problem !== undefined) problems.push({ path: pathOf('nodes', node, 'sysctls', name), message: problem });
    }
  }
  return problems;
}

/** Why a node could not be added to or removed from a lab: a sentence in `ip netns`'s own terms. */
export class NodeError extends Error {
  constructor(readonly code: 'invalid' | 'exists' | 'not-found' | 'foreign', message: string) {
    super(message);
    this.name = 'NodeError';
  }
}

/**
 * Creates one empty node of a lab (what `ip netns add NAME` typed in a lab shell asks for): the
 * namespace nslab.<lab>.<node>, marked as the lab's, with lo up, planned exactly as a file with
 * that one node would be, so nothing else of the lab is touched (with `userns`, owned by that user
 * namespace, as a classroom trainee's nodes are). Returns the ops it ran and, when
 * the helper made it, the new namespace as read from inside once made (a live feed shows it as is).
 */
export async function addNode(lab: string, node: string, options: { userns?: string } = {}): Promise<{ ops: Op[]; reading?: NamespaceReading }> {
  const problem = nameProblem(lab, 'lab') ?? nameProblem(node, 'node');
  if (problem) throw new NodeError('invalid', problem);
  const netns = netnsName(lab, node);
  if ((await listNetns()).includes(netns)) throw new NodeError('exists', `lab ${lab} already has a namespace named ${node}`);
  const one = parseTopologyData({ name: lab, nodes: { [node]: {} } });
  if (!one.ok) throw new NodeError('invalid', one.problems.map((p) => p.message).join('; '));
  const ops = plan(one.topology, { name: lab, nodes: {}, links: [] });
  // One process for the whole plan when the helper is built (it undoes itself on failure); else op by op.
  // A trainee's node is made in the trainee's user namespace (kernel/userns.ts), op by op.
  const create = reader() === 'nsread' && options.userns === undefined ? createArgv(ops) : undefined;
  if (!create) {
    await applyOps(ops, undefined, options.userns !== undefined ? { userns: options.userns } : {});
    return { ops };
  }
  try {
    const reading = await createWithHelper(create);
    return reading ? { ops, reading } : { ops };
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    if (/File exists/.test(err.stderr)) throw new NodeError('exists', `lab ${lab} already has a namespace named ${node}`);
    throw new Error(`creating namespace ${node} failed: ${err.stderr.trim().replace(/^nslab-nsread: /, '')}`, { cause: err });
  }
}

/**
 * Deletes one node of a lab (what `ip netns delete NAME` typed in a lab shell asks for): its
 * namespace, and with it its devices and the veth peers of those devices. Only a namespace whose
 * marker says it is this lab's node is deleted. Returns the ops it ran.
 */
export async function removeNode(lab: string, node: string): Promise<Op[]> {
  const problem = nameProblem(lab, 'lab') ?? nameProblem(node, 'node');
  if (problem) throw new NodeError('invalid', problem);
  const netns = netnsName(lab, node);
  if (!(await listNetns()).includes(netns)) throw new NodeError('not-found', `lab ${lab} has no namespace named ${node}`);
  const owner = await readOwner(netns);
  if (owner?.lab !== lab || owner.node !== node) throw new NodeError('foreign', `namespace ${netns} is not marked as node ${node} of lab ${lab}, so nslab leaves it alone`);
  const ops: Op[] = [{ kind: 'netns.del', node, netns, reason: `${node} was deleted with ip netns delete` }];
  await applyOps(ops);
  return ops;
}
