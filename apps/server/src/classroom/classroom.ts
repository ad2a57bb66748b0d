/**
 * Classroom mode (`nslab serve --classroom`): the roster of trainees and what each may hold.
 * A trainee's labs, namespaces and terminals are counted from the kernel's lab list and the
 * terminal manager, not from a tally of their requests, so a lab made or a namespace added in
 * a shell counts the same as one made on the canvas. A trainee's shells run in the trainee's
 * cgroups (cgroups.ts): memory, processes and CPU are limited per trainee, not per request.
 */
import type { Topology } from '@nslab/model';
import type { LabSummary } from '../kernel/observe';
import { LabError } from '../labs/service';
import type { TraineeCgroups } from './cgroups';
import type { TraineeUser, TraineeUsers } from './contain';
import { Roster } from './roster';
import type { Principal } from './scope';
import { ownLab } from './scope';

/** What one trainee may hold at once; the defaults are the classroom issue's (labs 5, namespaces 40, terminals 8, captures 2). */
export interface Quotas { labs: number; namespaces: number; terminals: number; captures: number }

/**
 * The defaults: 5 labs (a lesson's lab and a few of one's own), 40 namespaces (the largest lesson lab has 8), 8 terminals,
 * 2 captures (a capture is one lab's packets watched: a tcpdump in each of its namespaces; set with --quota-captures).
 */
export const DEFAULT_QUOTAS: Quotas = { labs: 5, namespaces: 40, terminals: 8, captures: 2 };

/** A quota reached: a sentence that says what was reached and what to do. */
export class QuotaError extends LabError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** The trainees and their quotas; reads the server's current labs and terminals when asked. */
export class Classroom {
  readonly roster = new Roster();

  constructor(
    private readonly labs: () => LabSummary[],
    private readonly terminalLabs: () => string[],
    readonly quotas: Quotas = DEFAULT_QUOTAS,
    /** The trainees' resource limits; none: shells are not limited (outside Linux tests, or limits off). */
    readonly cgroups?: TraineeCgroups,
    /** The kernel labs whose packets are being captured now. */
    private readonly capturedLabs: () => string[] = () => [],
    /** The trainees' user namespaces (contain.ts); none: trainees' shells and labs are not contained. */
    readonly users?: TraineeUsers,
  ) {}

  /** The user namespace a new shell of `principal` is contained in (contain.ts): the trainee's; none for the instructor. */
  shellUser(principal: Principal): TraineeUser | undefined {
    return principal.kind === 'trainee' ? this.users?.ensure(principal.name) : undefined;
  }

  /** The user namespace file that owns the namespaces of kernel lab `kernel`: its trainee's, if a trainee owns it. */
  labUserns(kernel: string): string | undefined {
    const owner = this.ownerOf(kernel);
    return owner?.kind === 'trainee' ? this.users?.ensure(owner.name).userns : undefined;
  }

  /**
   * The cgroup.procs files a new shell of `principal` joins before it runs: the trainee's own
   * cgroups, made with their limits if need be; none for the instructor, whose shells are not
   * limited, or when limits are off. Throws CgroupError when a trainee's limits cannot be set up.
   */
  shellCgroups(principal: Principal): string[] {
    if (principal.kind !== 'trainee' || !this.cgroups) return [];
    return this.cgroups.ensure(principal.name);
  }

  /** The trainee who owns a kernel lab, if any. */
  ownerOf(kernel: string): Principal | undefined {
    for (const t of this.roster.list()) {
      const p: Principal = { kind: 'trainee', name: t.name };
      if (ownLab(p, kernel) !== undefined) return p;
    }
    return undefined;
  }

  /** Refuses a change that would leave `kernel` with `nodes` when that takes its trainee past a quota. */
  admitLab(kernel: string, nodes: string[]): void {
    const owner = this.ownerOf(kernel);
    if (!owner) return;
    const theirs = this.labs().filter((l) => ownLab(owner, l.name) !== undefined);
    const existing = theirs.find((l) => l.name === kernel);
    if (!existing && theirs.length >= this.quotas.labs) {
      throw new QuotaError(`you have ${theirs.length} labs, the most a trainee may have here: destroy one before making another`);
    }
    const others = theirs.filter((l) => l.name !== kernel).reduce((n, l) => n + l.nodes.length, 0);
    const after = new Set([...(existing?.nodes ?? []), ...nodes]).size;
    if (others + after > this.quotas.namespaces) {
      throw new QuotaError(`this would give you ${others + after} namespaces, and a trainee may have ${this.quotas.namespaces}: remove nodes or destroy a lab first`);
    }
  }

  /** admitLab for a topology about to be applied or an edit's result. */
  admitTopology(topology: Topology): void {
    this.admitLab(topology.name, Object.keys(topology.nodes));
  }

  /** Refuses a capture of another lab (its packets watched) past the trainee's quota; a lab already captured costs nothing more. */
  admitCapture(principal: Principal, kernel: string): void {
    if (principal.kind !== 'trainee') return;
    const captured = new Set(this.capturedLabs().filter((lab) => ownLab(principal, lab) !== undefined));
    if (!captured.has(kernel) && captured.size >= this.quotas.captures) {
      throw new QuotaError(`you are capturing the packets of ${captured.size} labs, the most a trainee may here: close the packet view of one before watching another`);
    }
  }

  /** Refuses a new terminal past the trainee's quota. */
  admitTerminal(principal: Principal): void {
    if (principal.kind !== 'trainee') return;
    const open = this.terminalLabs().filter((lab) => ownLab(principal, lab) !== undefined).length;
    if (open >= this.quotas.terminals) {
      throw new QuotaError(`you have ${open} terminals open, the most a trainee may have here: close one before opening another`);
    }
  }
}
