/**
 * A classroom's quotas and lifetimes from `nslab serve`'s flags, and the culling of idle trainees:
 * a trainee who has sent nothing (no request, no socket message, no keystroke) for `--idle-shells`
 * has their shells and captures ended; after `--idle-labs` their labs are destroyed too. Their
 * token stays good: coming back, they start again. The clock is injected so tests need not wait
 * thirty minutes; the sweep runs on a timer a fraction of the shorter duration.
 */
import type { Quotas } from './classroom';
import { DEFAULT_QUOTAS } from './classroom';
import type { Principal } from './scope';
import { ownLab } from './scope';

/** How long a trainee may be idle before what they hold is ended, in ms. */
export interface Lifetimes { idleShellsMs: number; idleLabsMs: number }

/** Defaults: shells and captures after 30 minutes of silence (a break), labs after 4 hours (the class is over). */
export const DEFAULT_LIFETIMES: Lifetimes = { idleShellsMs: 30 * 60_000, idleLabsMs: 4 * 3_600_000 };

/** The shortest idle time a flag may give (1 s): shorter would cull a trainee between two keystrokes. */
const MIN_IDLE_MS = 1_000;
/** The longest (7 days): past that the server should simply be restarted. */
const MAX_IDLE_MS = 7 * 86_400_000;

/** The largest quota a flag may give: beyond what one server holds for one trainee (docs/scale.md). */
const MAX_QUOTA = { labs: 100, namespaces: 1000, terminals: 64, captures: 32 } as const;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration like 30m, 4h, 90s or 1.5h, in ms; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * (DURATION_UNITS[m[2] as string] ?? NaN));
  return Number.isFinite(ms) ? ms : undefined;
}

/** The flags, as given (undefined: not given). */
export interface ClassFlags {
  quotaLabs?: string | undefined; quotaNamespaces?: string | undefined; quotaTerminals?: string | undefined; quotaCaptures?: string | undefined;
  idleShells?: string | undefined; idleLabs?: string | undefined;
}

/** Quotas and lifetimes from the flags, with every problem as a sentence that says what to write. */
export function parseClassFlags(flags: ClassFlags): { quotas: Quotas; lifetimes: Lifetimes; problems: string[] } {
  const quotas: Quotas = { ...DEFAULT_QUOTAS };
  const lifetimes: Lifetimes = { ...DEFAULT_LIFETIMES };
  const problems: string[] = [];
  const quota = (key: keyof Quotas, flag: string, given: string | undefined) => {
    if (given === undefined) return;
    const n = /^\d+$/.test(given.trim()) ? Number(given.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_QUOTA[key]) problems.push(`--${flag} "${given.slice(0, 40)}" is not a quota nslab takes: write a whole number from 1 to ${MAX_QUOTA[key]}, like ${DEFAULT_QUOTAS[key]}`);
    else quotas[key] = n;
  };
  quota('labs', 'quota-labs', flags.quotaLabs);
  quota('namespaces', 'quota-namespaces', flags.quotaNamespaces);
  quota('terminals', 'quota-terminals', flags.quotaTerminals);
  quota('captures', 'quota-captures', flags.quotaCaptures);
  const idle = (key: keyof Lifetimes, flag: string, given: string | undefined) => {
    if (given === undefined) return true;
    const ms = parseDuration(given);
    if (ms === undefined || ms < MIN_IDLE_MS || ms > MAX_IDLE_MS) {
      problems.push(`--${flag} "${given.slice(0, 40)}" is not an idle time nslab takes: write a number with s, m or h, from 1s to 7d, like ${flag === 'idle-shells' ? '30m' : '4h'}`);
      return false;
    }
    lifetimes[key] = ms;
    return true;
  };
  const shellsOk = idle('idleShellsMs', 'idle-shells', flags.idleShells);
  const labsOk = idle('idleLabsMs', 'idle-labs', flags.idleLabs);
  if (shellsOk && labsOk && lifetimes.idleLabsMs <= lifetimes.idleShellsMs) {
    problems.push(`--idle-labs (${formatDuration(lifetimes.idleLabsMs)}) must be longer than --idle-shells (${formatDuration(lifetimes.idleShellsMs)}): a lab outlives its shells, so give --idle-labs more`);
  }
  return { quotas, lifetimes, problems };
}

/** A duration in the largest unit that says it exactly (4h, 90s). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit] as number;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** What culling acts on. */
export interface CullHands {
  /** The current trainees' names. */
  trainees(): string[];
  /** The kernel labs that exist now. */
  labs(): string[];
  /** The kernel labs with an open terminal. */
  terminalLabs(): string[];
  /** The kernel labs being captured. */
  capturedLabs(): string[];
  closeTerminals(lab: string): Promise<void>;
  stopCaptures(lab: string): Promise<void>;
  destroyLab(lab: string): Promise<void>;
  log(line: string): void;
}

/** Follows each trainee's last activity and ends what idle trainees hold. */
export class IdleCuller {
  private readonly last = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    readonly lifetimes: Lifetimes,
    private readonly hands: CullHands,
    private readonly now: () => number = Date.now,
  ) {}

  /** The trainee did something (a request, a socket message, a keystroke). */
  touch(principal: Principal): void {
    if (principal.kind === 'trainee') this.last.set(principal.name, this.now());
  }

  /** Forgets a removed trainee. */
  forget(name: string): void {
    this.last.delete(name);
  }

  /** Sweeps on a timer: a quarter of the shorter idle time (so a shell ends at most 25% late), at most once a minute. */
  start(): void {
    const every = Math.min(60_000, Math.max(250, Math.floor(this.lifetimes.idleShellsMs / 4)));
    this.timer = setInterval(() => { void this.sweep(); }, every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends the shells and captures of trainees idle past idleShells, and destroys the labs of those idle past idleLabs. One sweep at a time. */
  sweep(): Promise<void> {
    this.sweeping ??= this.cull().finally(() => { this.sweeping = undefined; });
    return this.sweeping;
  }

  private async cull(): Promise<void> {
    const now = this.now();
    for (const name of this.hands.trainees()) {
      // A trainee never seen is counted from the first sweep that knows them (made, not yet joined).
      const last = this.last.get(name) ?? (this.last.set(name, now), now);
      const idle = now - last;
      if (idle < this.lifetimes.idleShellsMs) continue;
      const who: Principal = { kind: 'trainee', name };
      const theirs = (labs: string[]) => [...new Set(labs.filter((lab) => ownLab(who, lab) !== undefined))];
      try {
        for (const lab of theirs(this.hands.terminalLabs())) await this.hands.closeTerminals(lab);
        for (const lab of theirs(this.hands.capturedLabs())) await this.hands.stopCaptures(lab);
        if (idle >= this.lifetimes.idleLabsMs) {
          const labs = theirs(this.hands.labs());
          for (const lab of labs) await this.hands.destroyLab(lab);
          if (labs.length > 0) this.hands.log(`nslab: ${name} was idle for ${formatDuration(idle - (idle % 1000))}: their labs ${labs.join(', ')} were destroyed`);
        }
      } catch (err) {
        this.hands.log(`nslab: ending what idle trainee ${name} held failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
