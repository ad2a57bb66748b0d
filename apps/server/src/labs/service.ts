/**
 * The lab service: every change the server makes to a lab goes through here, one
 * at a time per lab, always as validate → plan → apply against a fresh reading.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Edit, ExampleLab, Op, PlannedOp, Problem, Topology, TopologyMeta } from '@nslab/model';
import { applyEdits, confirm, describeOp, nameProblem, opArgv, opNodes, parseTopology, parseTopologyData, resolve, toFile, validate, warnings } from '@nslab/model';
import { metaStamp, readMeta } from '../kernel/meta';
import type { OpEvent } from '../kernel/apply';
import type { NamespaceReading } from '../kernel/iproute';
import { ApplyError } from '../kernel/apply';
import { addNode, applyTopology, destroyLab, NodeError, parseWithKernel, removeNode } from '../kernel/lab';
import { observeLab } from '../kernel/observe';

/** A failure a client should see: a code for machines and a sentence for people. */
export class LabError extends Error {
  constructor(
    readonly code: 'invalid' | 'not-found' | 'conflict' | 'kernel' | 'read-only',
    message: string,
    readonly problems?: Problem[],
    readonly op?: PlannedOp,
    readonly stderr?: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

/** How often a queued node change looks again whether the lab's running change has ended (an apply takes 10-500 ms). */
const QUEUE_POLL_MS = 20;

/** How a running change reports itself, and who may refuse it before it runs. */
export interface ChangeHooks {
  /** Refuses the lab a change would make, before anything runs (a trainee's quotas in classroom mode). */
  admit?: (topology: Topology) => void;
  plan?: (lab: string, ops: PlannedOp[], warnings: Problem[]) => void;
  progress?: (lab: string, e: OpEvent) => void;
}

/** The result of applying. */
export interface ChangeResult {
  lab: string;
  ops: PlannedOp[];
  ran: number;
  dryRun: boolean;
  /** What is allowed but worth saying: state the user did not write, and where the kernel's confirming read differs from the plan. */
  warnings: Problem[];
}

/** An op with its command line and a sentence, as clients see it. */
export function plannedOp(op: Op): PlannedOp {
  return { op, argv: opArgv(op), description: describeOp(op) };
}

/**
 * Applies of different labs in flight at once. Each apply runs up to 8 batches itself (kernel/apply.ts);
 * thirty trainees starting labs at once on 2 cores starved each other's `ip -batch` past the runner's
 * 30 s timeout (bench/classroom), while four at a time keep the machine busy and every batch short.
 */
const MAX_APPLIES = 4;

/**
 * An edit of at most this many items (a canvas click: an address, a link, a node) is a few `ip`
 * commands, not an apply's batches: it takes no slot, so a class's edits do not queue behind
 * one another four at a time (bench/classroom, edits at a person's pace).
 */
const SMALL_EDIT = 4;

/** Labs, serialized per lab. */
export class LabService {
  private readonly busy = new Set<string>();
  /** Per lab, the end of the queue of node changes asked for by lab shells (they wait their turn rather than fail). */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Applies holding one of the MAX_APPLIES slots, and those waiting for one (inSlot). */
  private applying = 0;
  private readonly waiting: Array<() => void> = [];
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
    /**
     * Reads these nodes of a watched lab again and resolves with its state once that includes
     * the read (undefined when the lab is not watched): the kernel's confirming read of a change.
     */
    private readonly reread: (lab: string, nodes: string[], readings?: ReadonlyMap<string, NamespaceReading>) => Promise<Topology | undefined> = () => Promise.resolve(undefined),
    /** The user namespace file that owns a lab's new namespaces (a classroom trainee's lab, classroom/contain.ts), if any. */
    private readonly usernsOf: (lab: string) => string | undefined = () => undefined,
  ) {}

  /** The bundled example labs, from the examples folder. */
  async examples(): Promise<ExampleLab[]> {
    const files = (await readdir(this.examplesDir).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml')).sort();
    const out: ExampleLab[] = [];
    for (const file of files) {
      const yaml = await readFile(join(this.examplesDir, file), 'utf8');
      const parsed = parseTopology(yaml);
      if (parsed.ok) out.push({ name: parsed.topology.name, file, description: parsed.meta.description ?? '', try: parsed.meta.try ?? [], yaml });
    }
    return out;
  }

  /** A stamp of the lab's saved metadata that changes when a `docker` command rewrites it. */
  metaStamp(lab: string): Promise<string | undefined> {
    return metaStamp(lab);
  }

  /** What is known of a lab beyond the kernel: its description and commands to try. */
  async meta(lab: string): Promise<TopologyMeta> {
    // The file first: a `docker` command typed in a lab shell rewrites it.
    const known = (await readMeta(lab)) ?? this.metas.get(lab);
    if (known) return known;
    const example = (await this.examples()).find((e) => e.name === lab);
    return example ? { description: example.description, try: example.try } : {};
  }

  /**
   * Applies a topology given as text (YAML/JSON) or decoded data. `rename` applies it under another
   * (kernel) lab name, a trainee's lab in classroom mode; `admit` may refuse the parsed topology
   * (a quota) before anything runs.
   */
  async apply(input: unknown, options: { dryRun?: boolean; expectName?: string; rename?: (name: string) => string } & ChangeHooks = {}): Promise<ChangeResult> {
    const parsed = await parseWithKernel(input);
    if (!parsed.ok) throw new LabError('invalid', `the topology has ${parsed.problems.length} problem${parsed.problems.length === 1 ? '' : 's'}; nothing was changed`, parsed.problems);
    if (options.expectName && parsed.topology.name !== options.expectName) {
      throw new LabError('invalid', `the topology is named "${parsed.topology.name}" but was sent for lab "${options.expectName}"`, [{ path: 'name', message: `set name: ${options.expectName}` }]);
    }
    const topology = options.rename ? { ...parsed.topology, name: options.rename(parsed.topology.name) } : parsed.topology;
    options.admit?.(topology);
    if (Object.keys(parsed.meta).length > 0) this.metas.set(topology.name, parsed.meta);
    return this.run(topology, { ...options, meta: parsed.meta, warnings: parsed.warnings ?? [] });
  }

  /** Applies edits to a lab's current state (read from the kernel); `admit` may refuse the lab they would make. */
  async edit(lab: string, edits: Edit[], options: { dryRun?: boolean } & ChangeHooks = {}): Promise<ChangeResult> {
    this.checkName(lab);
    // A watched lab's live state is the kernel's as of its last event, and includes every change this
    // service made (run() waits for the confirming read): one read fewer on every canvas edit.
    const observed = this.live(lab) ?? (await observeLab(lab)).topology;
    const { before, after, warnings: found } = editDelta(observed, edits);
    options.admit?.(after);
    // The plan is the difference the edits make, not the lab against the model: what the edits do not name,
    // and what the model cannot express, is the same on both sides, so nothing else is touched.
    return this.run(after, { ...options, observed: before, warnings: found, small: edits.length <= SMALL_EDIT });
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

  /**
   * Adds an empty node to a lab (`ip netns add NAME` in a lab shell, or a host terminal of a lab
   * without one). Waits for a change of the lab in progress instead of failing with conflict.
   */
  addNode(lab: string, node: string): Promise<void> {
    return this.queued(lab, async () => {
      const userns = this.usernsOf(lab);
      const { reading } = await addNode(lab, node, userns !== undefined ? { userns } : {});
      // The live feed takes the new node now (as the helper read it from inside, or with a read of
      // its own), rather than when /run/netns's watch, a scan of every namespace and the watcher's
      // first event get round to it; the shell's ip returns once the lab's clients have it.
      await this.reread(lab, [node], reading ? new Map([[node, reading]]) : undefined);
    });
  }

  /**
   * Deletes one node of a lab and what is inside it (`ip netns delete NAME` in a lab shell). Waits its
   * turn like addNode, and like it returns once the live feed (and so every client) no longer has the node.
   */
  removeNode(lab: string, node: string): Promise<void> {
    return this.queued(lab, async () => {
      await removeNode(lab, node);
      await this.reread(lab, [node]);
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

  private async run(topology: Topology, options: { dryRun?: boolean; meta?: TopologyMeta; observed?: Topology; warnings?: Problem[]; small?: boolean } & ChangeHooks): Promise<ChangeResult> {
    const lab = topology.name;
    const found = options.warnings ?? [];
    return this.exclusive(lab, async () => {
      let planned: PlannedOp[] = [];
      let ops: Op[] = [];
      try {
        const userns = options.dryRun ? undefined : this.usernsOf(lab);
        const outcome = await this.inSlot((options.dryRun ?? false) || options.small === true, () => applyTopology(topology, {
          dryRun: options.dryRun ?? false,
          ...(userns !== undefined ? { userns } : {}),
          ...(options.meta ? { meta: options.meta } : {}),
          ...(options.observed ? { observed: options.observed } : {}),
          onEvent: (e) => options.progress?.(lab, e),
          onPlan: (planOps) => {
            ops = planOps;
            planned = planOps.map(plannedOp);
            options.plan?.(lab, planned, found);
          },
        }));
        const dryRun = options.dryRun ?? false;
        const differs = dryRun || outcome.ops.length === 0 ? [] : confirm(outcome.ops, await this.confirmingRead(lab, outcome.ops), topology);
        return { lab, ops: outcome.ops.map(plannedOp), ran: outcome.ran, dryRun, warnings: [...found, ...differs] };
      } catch (err) {
        if (err instanceof ApplyError) {
          // Whatever ran is in the kernel: the live state takes it in before the next change plans against it.
          await this.confirmingRead(lab, ops.slice(0, err.completed)).catch(() => undefined);
          throw new LabError('kernel', `op ${err.index + 1} of ${planned.length} failed: ${err.message}`, undefined, plannedOp(err.op), err.stderr);
        }
        throw err;
      }
    });
  }

  /** The lab as the kernel has it after these ops: the live state once it has read their nodes again, or a fresh read. */
  private async confirmingRead(lab: string, ops: Op[]): Promise<Topology> {
    const nodes = [...new Set(ops.flatMap(opNodes))];
    return (await this.reread(lab, nodes)) ?? (await observeLab(lab)).topology;
  }

  /**
   * Runs an apply's kernel work when one of MAX_APPLIES slots is free (first come, first served); a dry
   * run changes nothing and a small edit little, so neither takes a slot (`free`). A slot is handed
   * straight to the next waiter.
   */
  private async inSlot<T>(free: boolean, task: () => Promise<T>): Promise<T> {
    if (free) return task();
    if (this.applying >= MAX_APPLIES) await new Promise<void>((ok) => this.waiting.push(ok));
    else this.applying += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.applying -= 1;
    }
  }

  /** Runs `task` exclusively, after the lab's earlier queued tasks, waiting out any other change of the lab. */
  private queued<T>(lab: string, task: () => Promise<T>): Promise<T> {
    const turn = async (): Promise<T> => {
      for (;;) {
        try {
          return await this.exclusive(lab, task);
        } catch (err) {
          if (err instanceof NodeError) throw new LabError(err.code === 'not-found' ? 'not-found' : err.code === 'invalid' ? 'invalid' : 'conflict', err.message);
          if (!(err instanceof LabError) || err.code !== 'conflict' || !this.busy.has(lab)) throw err;
          await new Promise((ok) => setTimeout(ok, QUEUE_POLL_MS)); // an apply of the lab is running: wait for its end
        }
      }
    };
    const result = (this.queues.get(lab) ?? Promise.resolve()).then(turn, turn);
    const tail = result.catch(() => undefined);
    this.queues.set(lab, tail);
    void tail.then(() => { if (this.queues.get(lab) === tail) this.queues.delete(lab); });
    return result;
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

/**
 * An edit as a delta: the lab before and after the edits, both in the file's terms, so that
 * plan(after, before) holds only what the edits change. Validation judges what the user
 * wrote: a problem the lab already had (a rule typed in a shell) is a warning, and only a
 * problem the edits bring is a refusal.
 */
export function editDelta(observed: Topology, edits: Edit[]): { before: Topology; after: Topology; warnings: Problem[] } {
  const file = toFile(observed);
  const edited = applyEdits(file, edits);
  if (!edited.ok) throw new LabError('invalid', edited.problems.map((p) => p.message).join('; '), edited.problems);
  const before = resolve(file, []);
  const parsed = parseTopologyData(edited.file);
  let after: Topology;
  let found: Problem[];
  if (parsed.ok) {
    after = parsed.topology;
    found = parsed.warnings ?? [];
  } else {
    const had = new Set(validate(before).map((p) => p.message));
    const brought = parsed.problems.filter((p) => !had.has(p.message));
    if (brought.length > 0) throw new LabError('invalid', brought.map((p) => p.message).join('; '), brought);
    after = resolve(edited.file, []);
    found = [...parsed.problems, ...warnings(after)];
  }
  // Both sides keep the kernel's lo (the file leaves it out), so the delta does not touch it.
  for (const side of [before, after]) {
    for (const [node, ns] of Object.entries(side.nodes)) {
      const lo = observed.nodes[node]?.interfaces['lo'];
      if (lo && !ns.interfaces['lo']) ns.interfaces['lo'] = { ...lo };
    }
  }
  return { before, after, warnings: found };
}
