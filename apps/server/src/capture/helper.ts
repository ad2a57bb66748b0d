/**
 * nslab-capture (apps/server/native/capture.c): one process per capture that reads the
 * namespace's packet socket itself and writes pcap a batch at a time, where
 * `ip netns exec NS tcpdump -U` was two process hops and a write per packet. Its
 * output is the pcap stream tcpdump writes (capture.ts reads either), so the kept
 * ring, the downloads and the decoders do not know which one ran. When it is not
 * built (scripts/install.sh builds it), captures run tcpdump as before.
 *
 * A capture filter is compiled by tcpdump (`tcpdump -ddd -y EN10MB`, used only as a
 * compiler: it validates the expression and says what is wrong) and attached in the
 * kernel by the helper, so refused packets never leave the kernel.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_DIR } from '../paths';
import { run } from '../kernel/runner';

/** Where scripts/install.sh builds the helper. */
export const CAPTURE_HELPER_PATH = join(SERVER_DIR, 'native', 'build', 'nslab-capture');

let built: boolean | undefined;

/** True when the helper is built (looked for once). */
export function captureHelperAvailable(): boolean {
  built ??= existsSync(CAPTURE_HELPER_PATH);
  return built;
}

/** How the helper runs. */
export interface HelperSettings {
  /** Snap length of a record, the SLL2 header included (tcpdump's -s). */
  snaplen: number;
  /** The socket's receive buffer in KiB: what holds packets while the reader is busy. */
  bufferKiB: number;
  /** A compiled filter (compileFilter's answer), or none. */
  bytecode?: string;
}

/** The helper's argv; the namespace name was validated by the lab. */
export function captureHelperArgv(netns: string, settings: HelperSettings): string[] {
  const argv = [CAPTURE_HELPER_PATH, '-s', String(settings.snaplen), '-B', String(Math.max(1, Math.floor(settings.bufferKiB)))];
  if (settings.bytecode !== undefined) argv.push('-f', settings.bytecode);
  argv.push(netns);
  return argv;
}

/**
 * The longest filter expression accepted: far beyond anything typed by hand
 * ("tcp port 80 and host 10.0.0.1" is 29), short enough that tcpdump compiles it in
 * milliseconds.
 */
export const FILTER_MAX_LENGTH = 1_000;

/** A filter expression that cannot be used, with the sentence that says why. */
export class CaptureFilterError extends Error {
  constructor(
    message: string,
    readonly filter: string,
  ) {
    super(message);
    this.name = 'CaptureFilterError';
  }
}

/**
 * Checks a filter expression as text: printable, one line, not too long. Returns the
 * problems (none when it may go to the compiler).
 */
export function filterTextProblems(filter: string): string[] {
  const problems: string[] = [];
  if (filter.trim() === '') problems.push('The capture filter is empty: leave it out to capture everything.');
  if (filter.length > FILTER_MAX_LENGTH) problems.push(`The capture filter is ${filter.length} characters long; at most ${FILTER_MAX_LENGTH} are accepted.`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(filter)) problems.push('The capture filter holds a control character (a newline or a tab): write it on one line with spaces.');
  return problems;
}

/**
 * Compiles a pcap-filter(7) expression for an Ethernet frame into the helper's -f
 * argument ("N,code jt jf k,..."): tcpdump parses it (no capture is opened: -d with -y
 * compiles for a link type alone). Throws CaptureFilterError with tcpdump's reason.
 */
export async function compileFilter(filter: string): Promise<string> {
  const problems = filterTextProblems(filter);
  if (problems.length > 0) throw new CaptureFilterError(problems.join(' '), filter);
  // `--`: an expression that starts with "-" is an expression, not an option.
  const r = await run(['tcpdump', '-ddd', '-y', 'EN10MB', '--', filter], { allowFailure: true });
  if (r.code !== 0) {
    const said = r.stderr.trim().split('\n').pop()?.replace(/^tcpdump: /, '') ?? `tcpdump exited with ${r.code}`;
    throw new CaptureFilterError(`The capture filter "${filter}" is not valid: ${said}. It is written as for tcpdump, for example "icmp", "tcp port 80" or "host 10.0.0.1".`, filter);
  }
  const lines = r.stdout.trim().split('\n').map((l) => l.trim());
  if (lines.length < 2 || Number(lines[0]) !== lines.length - 1 || !lines.slice(1).every((l) => /^\d+ \d+ \d+ \d+$/.test(l))) {
    throw new CaptureFilterError(`tcpdump compiled the capture filter "${filter}" into something nslab cannot read: ${lines.slice(0, 3).join(' | ')}`, filter);
  }
  return lines.join(',');
}
