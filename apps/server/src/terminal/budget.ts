/**
 * The whole server's bound on terminal output waiting to be written to sockets. Every socket
 * channel counts the bytes it hands to `ws` until `ws` says they reached the kernel; while the
 * total is above MAX_TOTAL_QUEUED_BYTES every terminal pauses its pty, and they resume once it
 * falls below RESUME_TOTAL_BYTES. With each terminal bounded on its own (MAX_SINK_QUEUED_BYTES),
 * this is what keeps many terminals together from growing the server without bound.
 */

/** Output one socket may have queued in the server (1 MiB): past it, the socket is dropped (issue 12: 1 MiB per terminal). */
export const MAX_SINK_QUEUED_BYTES = 1024 * 1024;

/** Output all terminal sockets together may have queued (64 MiB, issue 12); above it every pty pauses. */
export const MAX_TOTAL_QUEUED_BYTES = 64 * 1024 * 1024;

/** Ptys paused by the total resume below this (48 MiB): a quarter of headroom, so they do not flap. */
export const RESUME_TOTAL_BYTES = 48 * 1024 * 1024;

/** Counts queued output across every terminal socket of a server. */
export class OutputBudget {
  private total = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly limit = MAX_TOTAL_QUEUED_BYTES, readonly resumeBelow = RESUME_TOTAL_BYTES) {}

  /** Bytes queued now, over every socket. */
  get queued(): number {
    return this.total;
  }

  /** True while the total is over the limit: no pty may read more. */
  get exceeded(): boolean {
    return this.total > this.limit;
  }

  /** `bytes` were handed to a socket. */
  add(bytes: number): void {
    this.total += bytes;
  }

  /** `bytes` handed earlier reached the kernel (or their socket closed); paused ptys are told once the total is low again. */
  remove(bytes: number): void {
    this.total = Math.max(0, this.total - bytes);
    if (this.total < this.resumeBelow && this.waiting.size > 0) {
      const wake = [...this.waiting];
      this.waiting.clear();
      for (const w of wake) w();
    }
  }

  /** Calls `wake` once the total is below the resume mark again. */
  whenRelieved(wake: () => void): void {
    this.waiting.add(wake);
  }
}
