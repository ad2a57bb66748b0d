/**
 * The engine's entry points: apply a topology, destroy a lab, export it. Each reads
 * the kernel first, so every call converges from whatever state it finds.
 */
import type { Op, ParseResult, Topology, TopologyMeta } from '@nslab/model';
import { netnsName, ownerMarker, parseNetnsName, parseTopology, parseTopologyData, plan } from '@nslab/model';
import { removeMeta, writeMeta } from './meta';
import { endLabProcesses } from '../docker/processes';
import { syncDns } from '../docker/dns';
import { applyOps, batchLine } from './apply';
import type { OpEvent } from './apply';
import { listNetns, observeLab, readOwners } from './observe';
import { run } from './runner';

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
  } = {},
): Promise<ApplyOutcome> {
  const { topology: observed, foreign } = options.observed
    ? { topology: options.observed, foreign: [] }
    : await readForApply(desired, options.dryRun ?? false);
  const ops = plan(desired, observed);
  options.onPlan?.(ops);
  if (options.dryRun) return { ops, ran: 0, foreign };
  const ran = await applyOps(ops, options.onEvent);
  if (options.meta && Object.keys(options.meta).length > 0) await writeMeta(desired.name, options.meta);
  if (options.meta?.containers) await syncDns(desired.name, options.meta.containers);
  return { ops, ran, foreign };
}

/** Reads the lab, first adopting (unless dry) unmarked namespaces the topology declares. */
async function readForApply(desired: Topology, dryRun: boolean): Promise<{ topology: Topology; foreign: string[] }> {
  let observed = await observeLab(desired.name);
  const adoptable = observed.unmarked.filter((n) => Object.keys(desired.nodes).some((node) => netnsName(desired.name, node) === n));
  if (adoptable.length > 0 && !dryRun) {
    await adoptNetns(desired.name, adoptable);
    observed = await observeLab(desired.name);
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
  await run(['ip', '-batch', '-'], { input: lines });
  const nodes = await owned;
  if (nodes.length > 0) {
    await endLabProcesses(lab);
    await removeMeta(lab);
  }
  return nodes;
}

/**
 * Reads a topology file (text or decoded data). A file with containers is read a
 * second time against the lab as the kernel has it, so running containers keep
 * their addresses (IPAM) and only new ones get new ones.
 */
export async function parseWithKernel(input: string | unknown): Promise<ParseResult> {
  const parse = (observed?: Topology) => (typeof input === 'string' ? parseTopology(input, observed ? { observed } : {}) : parseTopologyData(input, observed ? { observed } : {}));
  const first = parse();
  if (!first.ok || !first.meta.containers) return first;
  return parse((await observeLab(first.topology.name, { firewall: false })).topology);
}
