/**
 * The lab service: every change the server makes to a lab goes through here, one
 * at a time per lab, always as validate → plan → apply against a fresh reading.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Edit, Op, PlannedOp, Problem, Topology, TopologyMeta } from '@nslab/model';
import { applyEdits, describeOp, nameProblem, opArgv, parseTopology, parseTopologyData, toFile } from '@nslab/model';
import { readMeta } from './kernel/meta';
import type { OpEvent } from './kernel/apply';
import { ApplyError } from './kernel/apply';
import { applyTopology, destroyLab, parseWithKernel } from './kernel/lab';
import { observeLab } from './kernel/observe';

/** A failure a client should see: a code for machines and a sentence for people. */
export class LabError extends Error {
  constructor(
    readonly code: 'invalid' | 'not-found' | 'conflict' | 'kernel',
    message: string,
    readonly problems?: Problem[],
    readonly op?: PlannedOp,
    readonly stderr?: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

/** A bundled example lab. */
export interface Example { name: string; file: string; description: string; try: string[]; yaml: string }

/** How a running change reports itself. */
export interface ChangeHooks {
  plan?: (lab: string, ops: PlannedOp[]) => void;
  progress?: (lab: string, e: OpEvent) => void;
}

/** The result of applying. */
export interface ChangeResult { lab: string; ops: PlannedOp[]; ran: number; dryRun: boolean }

/** An op with its command line and a sentence, as clients see it. */
export function plannedOp(op: Op): PlannedOp {
  return { op, argv: opArgv(op), description: describeOp(op) };
}

/** Labs, serialized per lab. */
export class LabService {
  private readonly busy = new Set<string>();
  private readonly metas = new Map<string, TopologyMeta>();

  /**
   * @param examplesDir the bundled example labs
   * @param beforeDestroy ends what runs inside a lab's namespaces (shells, captures) before they are deleted
   */
  constructor(
    private readonly examplesDir: string,
    private readonly beforeDestroy: (lab: string) => Promise<void> = async () => {},
    /** The live feed's state of a watched lab (kept current by the kernel's events), if any. */
    private readonly live: (lab: string) => Topology | undefined = () => undefined,
  ) {}

  /** The bundled example labs, from the examples folder. */
  async examples(): Promise<Example[]> {
    const files = (await readdir(this.examplesDir).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml')).sort();
    const out: Example[] = [];
    for (const file of files) {
      const yaml = await readFile(join(this.examplesDir, file), 'utf8');
      const parsed = parseTopology(yaml);
      if (parsed.ok) out.push({ name: parsed.topology.name, file, description: parsed.meta.description ?? '', try: parsed.meta.try ?? [], yaml });
    }
    return out;
  }

  /** What is known of a lab beyond the kernel: its description and commands to try. */
  async meta(lab: string): Promise<TopologyMeta> {
    // The file first: a `docker` command typed in a lab shell rewrites it.
    const known = (await readMeta(lab)) ?? this.metas.get(lab);
    if (known) return known;
    const example = (await this.examples()).find((e) => e.name === lab);
    return example ? { description: example.description, try: example.try } : {};
  }

  /** Applies a topology given as text (YAML/JSON) or decoded data. */
  async apply(input: string | unknown, options: { dryRun?: boolean; expectName?: string } & ChangeHooks = {}): Promise<ChangeResult> {
    const parsed = await parseWithKernel(input);
    if (!parsed.ok) throw new LabError('invalid', `the topology has ${parsed.problems.length} problem${parsed.problems.length === 1 ? '' : 's'}; nothing was changed`, parsed.problems);
    if (options.expectName && parsed.topology.name !== options.expectName) {
      throw new LabError('invalid', `the topology is named "${parsed.topology.name}" but was sent for lab "${options.expectName}"`, [{ path: 'name', message: `set name: ${options.expectName}` }]);
    }
    if (Object.keys(parsed.meta).length > 0) this.metas.set(parsed.topology.name, parsed.meta);
    return this.run(parsed.topology, { ...options, meta: parsed.meta });
  }

  /** Applies edits to a lab's current state (read from the kernel). */
  async edit(lab: string, edits: Edit[], options: { dryRun?: boolean } & ChangeHooks = {}): Promise<ChangeResult> {
    this.checkName(lab);
    // A watched lab's live state is the kernel's as of its last event: one read fewer on every canvas edit.
    const observed = this.live(lab) ?? (await observeLab(lab)).topology;
    const edited = applyEdits(toFile(observed), edits);
    if (!edited.ok) throw new LabError('invalid', edited.problems.map((p) => p.message).join('; '), edited.problems);
    const parsed = parseTopologyData(edited.file);
    if (!parsed.ok) throw new LabError('invalid', parsed.problems.map((p) => p.message).join('; '), parsed.problems);
    return this.run(parsed.topology, { ...options, observed });
  }

  /** Removes a lab. */
  async destroy(lab: string): Promise<string[]> {
    this.checkName(lab);
    return this.exclusive(lab, async () => {
      await this.beforeDestroy(lab);
      const removed = await destroyLab(lab);
      if (removed.length === 0) throw new LabError('not-found', `no lab named "${lab}"`);
      return removed;
    });
  }

  /** A lab as the kernel has it; not-found when it has no namespaces. */
  async get(lab: string): Promise<Topology> {
    this.checkName(lab);
    const observed = await observeLab(lab);
    if (Object.keys(observed.topology.nodes).length === 0) throw new LabError('not-found', `no lab named "${lab}"`);
    return observed.topology;
  }

  private checkName(lab: string): void {
    const problem = nameProblem(lab, 'lab');
    if (problem) throw new LabError('invalid', problem, [{ path: 'lab', message: problem }]);
  }

  private async run(topology: Topology, options: { dryRun?: boolean; meta?: TopologyMeta; observed?: Topology } & ChangeHooks): Promise<ChangeResult> {
    const lab = topology.name;
    return this.exclusive(lab, async () => {
      let planned: PlannedOp[] = [];
      try {
        const outcome = await applyTopology(topology, {
          dryRun: options.dryRun ?? false,
          ...(options.meta ? { meta: options.meta } : {}),
          ...(options.observed ? { observed: options.observed } : {}),
          onEvent: (e) => options.progress?.(lab, e),
          onPlan: (ops) => {
            planned = ops.map(plannedOp);
            options.plan?.(lab, planned);
          },
        });
        return { lab, ops: outcome.ops.map(plannedOp), ran: outcome.ran, dryRun: options.dryRun ?? false };
      } catch (err) {
        if (err instanceof ApplyError) throw new LabError('kernel', `op ${err.index + 1} of ${planned.length} failed: ${err.message}`, undefined, plannedOp(err.op), err.stderr);
        throw err;
      }
    });
  }

  private async exclusive<T>(lab: string, task: () => Promise<T>): Promise<T> {
    if (this.busy.has(lab)) throw new LabError('conflict', `lab ${lab} is being changed right now; try again when that finishes`);
    this.busy.add(lab);
    try {
      return await task();
    } finally {
      this.busy.delete(lab);
    }
  }
}
