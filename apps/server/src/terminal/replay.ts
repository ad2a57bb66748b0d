/**
 * The bounded replay buffer of one terminal: the last N bytes of output, sent to a socket that
 * attaches (or re-attaches) so it sees what the shell printed while nobody was watching.
 */
import { nextUtf8Boundary } from './utf8';

/** Default replay size: the last 256 KiB of output (a few screens of scrollback; terminado bounds its read_buffer the same way, by chunks). */
export const DEFAULT_REPLAY_BYTES = 256 * 1024;

/** Small chunks are merged up to this size, so keystroke echo does not cost one Buffer object per byte. */
const MERGE_BELOW_BYTES = 4096;

/**
 * Keeps at most `maxBytes` of the most recent output. When old output is dropped the cut moves
 * forward to a UTF-8 boundary. (It may still start inside an escape sequence; the client resets
 * its screen before writing a replay, and xterm.js shows at worst a few stray characters.)
 */
export class ReplayBuffer {
  private chunks: Buffer[] = [];
  private total = 0;

  constructor(readonly maxBytes: number = DEFAULT_REPLAY_BYTES) {
    if (!Number.isInteger(maxBytes) || maxBytes < 4) throw new RangeError(`replay buffer size must be an integer >= 4, got ${maxBytes}`);
  }

  /** Bytes currently held. */
  get size(): number {
    return this.total;
  }

  /** Appends output (chunks are expected to end on character boundaries), dropping the oldest beyond maxBytes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const last = this.chunks[this.chunks.length - 1];
    if (last !== undefined && last.length < MERGE_BELOW_BYTES && chunk.length < MERGE_BELOW_BYTES) {
      this.chunks[this.chunks.length - 1] = Buffer.concat([last, chunk]);
    } else {
      // Copy: node-pty may hand us a view into a larger pooled buffer we must not pin.
      this.chunks.push(chunk.length < MERGE_BELOW_BYTES ? Buffer.from(chunk) : chunk);
    }
    this.total += chunk.length;
    this.trim();
  }

  /** The held output, oldest first, as one buffer. */
  contents(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.total)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private trim(): void {
    while (this.total > this.maxBytes) {
      const first = this.chunks[0] as Buffer;
      const excess = this.total - this.maxBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.total -= first.length;
        continue;
      }
      const cut = nextUtf8Boundary(first, excess);
      this.total -= cut;
      if (cut >= first.length) this.chunks.shift();
      else this.chunks[0] = Buffer.from(first.subarray(cut)); // copy, so the dropped head can be freed
    }
  }
}
