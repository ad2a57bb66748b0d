/**
 * Echo requests from inside lab namespaces through one long-lived nslab-ping process
 * (apps/server/native/ping.c): a lesson's ping check asks it instead of starting
 * `ping`, whose exec cost 20-50 ms on a loaded 2-core machine, in a check that should
 * turn green as soon as the learner's command lands. Without the helper (not built) or
 * for an IPv6 address, `pingAvailable` says no and the caller runs `ping` itself.
 */
import { existsSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { SERVER_DIR } from '../paths';
import { CommandError, start } from './runner';
import type { Started } from './runner';

/** Where apps/server/native/build.mjs builds the helper. */
export const PING_PATH = join(SERVER_DIR, 'native', 'build', 'nslab-ping');

/** How one echo request ended: its reply (round trip in µs), none in time, or not sent (the kernel's reason). */
export type PingResult = { kind: 'reply'; rttUs: number } | { kind: 'timeout' } | { kind: 'error'; message: string };

let built: boolean | undefined;

/** True when the helper can send this request (it is built, and the address is IPv4). */
export function pingAvailable(destination: string): boolean {
  built ??= existsSync(PING_PATH);
  return built && isIPv4(destination);
}

/** A name the helper takes as one /run/netns entry. */
function validNetns(netns: string): boolean {
  return netns.length > 0 && netns.length < 256 && netns !== '.' && netns !== '..' && !/[\s/\0]/.test(netns);
}

interface Pending { resolve: (r: PingResult) => void; reject: (e: Error) => void }

/** The one helper process and the requests in flight on it; started at the first request, again after it ended. */
export class Pinger {
  private helper: Started | undefined;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private partial = '';

  constructor(private readonly path = PING_PATH) {}

  /** Sends one echo request from /run/netns/NETNS to an IPv4 address; an aborted signal rejects at once and forgets it. */
  ping(netns: string, destination: string, waitMs: number, signal?: AbortSignal): Promise<PingResult> {
    if (!validNetns(netns)) return Promise.reject(new Error(`${JSON.stringify(netns)} is not a namespace name`));
    if (!isIPv4(destination)) return Promise.reject(new Error(`${destination} is not an IPv4 address`));
    if (!Number.isInteger(waitMs) || waitMs < 1 || waitMs > 60_000) return Promise.reject(new Error(`wait ${waitMs} ms is not between 1 ms and 60 s`));
    if (signal?.aborted) return Promise.reject(new Error('aborted before it was sent'));
    const helper = this.running();
    const id = this.next;
    this.next += 1;
    return new Promise<PingResult>((resolve, reject) => {
      const abort = () => {
        if (!this.pending.delete(id)) return;
        this.hold(false);
        helper.child.stdin?.write(`cancel ${id}\n`);
        reject(new Error('aborted'));
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.pending.set(id, {
        resolve: (r) => { signal?.removeEventListener('abort', abort); resolve(r); },
        reject: (e) => { signal?.removeEventListener('abort', abort); reject(e); },
      });
      this.hold(true);
      helper.child.stdin?.write(`${id} ${netns} ${destination} ${waitMs}\n`);
    });
  }

  /** Ends the helper; requests in flight reject. */
  close(): void {
    const helper = this.helper;
    this.helper = undefined;
    helper?.child.stdin?.end();
    helper?.child.kill('SIGTERM');
    this.failAll(new Error('the pinger was closed'));
  }

  private running(): Started {
    if (this.helper) return this.helper;
    // The helper sets its own parent-death signal (SIGKILL): no setpriv in front of it.
    const helper = start([this.path], { stdin: 'pipe', dieWithParent: false, log: (line) => console.error(`nslab-ping: ${line}`) });
    this.helper = helper;
    this.partial = '';
    helper.child.stdin?.on('error', () => { /* it ended; `ended` below says why */ });
    helper.child.stdout?.setEncoding('utf8');
    helper.child.stdout?.on('data', (text: string) => this.read(text));
    void helper.ended.then((error) => {
      if (this.helper === helper) this.helper = undefined;
      this.failAll(error ?? new CommandError(helper.argv, null, helper.stderr(), '', 'ended'));
    });
    return helper;
  }

  /**
   * Holds the event loop open while requests are in flight, and lets it go when none
   * are: a process that is done may exit with the helper idle, one waiting on an answer
   * may not.
   */
  private hold(busy: boolean): void {
    const helper = this.helper;
    if (!helper) return;
    const handles = [helper.child, helper.child.stdin, helper.child.stdout, helper.child.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void } | null>;
    const keep = busy || this.pending.size > 0;
    for (const h of handles) {
      if (keep) h?.ref?.();
      else h?.unref?.();
    }
  }

  private read(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^(\d+) (reply (\d+)|timeout|error (.*))$/.exec(line);
      if (!m) continue;
      const id = Number(m[1]);
      const waiting = this.pending.get(id);
      if (!waiting) continue;
      this.pending.delete(id);
      if (m[3] !== undefined) waiting.resolve({ kind: 'reply', rttUs: Number(m[3]) });
      else if (m[2] === 'timeout') waiting.resolve({ kind: 'timeout' });
      else waiting.resolve({ kind: 'error', message: m[4] ?? '' });
    }
    this.hold(false);
  }

  private failAll(error: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiting) w.reject(error);
  }
}
