/**
 * A short-lived background process of a probe (a tcpdump that waits for one packet,
 * a listener that answers one connection), started through kernel/runner.ts `start`:
 * an argv array, no shell, dies with the server, and is always stopped by whoever
 * started it.
 */
import type { ChildProcess } from 'node:child_process';
import { start } from '../kernel/runner';

/** A running background process and what it has printed so far. */
export class ProbeProcess {
  private readonly child: ChildProcess;
  private out = '';
  private ended = false;
  private code: number | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(argv: readonly string[]) {
    // Its stderr is part of what the probe reads (tcpdump's "listening on"), not news for the log.
    this.child = start(argv, { log: () => undefined }).child;
    const take = (b: Buffer) => {
      // What a probe needs is at the start; the rest is dropped so a chatty process cannot grow memory.
      if (this.out.length < 64 * 1024) this.out += b.toString('utf8');
      this.wake();
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
    this.child.on('error', () => { this.ended = true; this.wake(); });
    this.child.on('close', (code) => { this.ended = true; this.code = code; this.wake(); });
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** Everything printed so far (stdout and stderr). */
  get output(): string {
    return this.out;
  }

  /** The exit code once ended, else null. */
  get exitCode(): number | null {
    return this.ended ? this.code : null;
  }

  /** Resolves true when the output matches (or false when the process ends or the time is up first). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (pattern.test(this.out)) done(true);
        else if (this.ended) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves when the process has ended (or the time is up). */
  waitExit(timeoutMs: number): Promise<boolean> {
    return this.waitFor(/(?!)/, timeoutMs).then(() => this.ended);
  }

  /** Ends the process (SIGTERM, then SIGKILL) and waits for it. */
  async stop(): Promise<void> {
    if (this.ended) return;
    this.child.kill('SIGTERM');
    if (!(await this.waitExit(500))) {
      this.child.kill('SIGKILL');
      await this.waitExit(1000);
    }
  }
}
