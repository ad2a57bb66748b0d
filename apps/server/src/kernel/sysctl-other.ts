/**
 * A lab namespace's net.* sysctls outside sysctl.ts's allow-list, where the kernel holds them
 * off a fresh namespace's value: what `sysctl -w net.ipv4.tcp_syncookies=0` typed in a shell
 * leaves behind, shown, exported and applied back like the rest of the lab.
 *
 * "Fresh" is read, not assumed: `sysctl -a` in a new network namespace (unshare --net, gone
 * with the process), with the writable names found there. A device's own sysctls start from
 * the namespace's defaults when the device is made (net.ipv4.conf.default.* for conf, the
 * neighbour table's, as lo has them, for neigh), so a device's value is compared with those.
 * Left out: read-only entries (counters, and the machine's values a namespace mirrors), each
 * device's IPv6 mtu (the device's, not a setting), and conf.*.forwarding (forwarding: true and
 * net.ipv6.conf.all.forwarding say it).
 */
import { isOtherSysctl, normaliseSysctlValue, sysctlInterfaceParts } from '@nslab/model';
import { run } from './runner';
import { inNetns } from './nsread';

/** A fresh namespace's net.* sysctls: values by name, and the names that may be written. */
interface Baseline {
  values: ReadonlyMap<string, string>;
  writable: ReadonlySet<string>;
}

/** How long a read baseline is used: its values follow the machine's only where it changes its own. */
const BASELINE_MS = 60_000;
let baseline: { at: number; reading: Promise<Baseline> } | undefined;

/** `sysctl -a` output as dotted names (sysctl prints a dot inside an interface name as '/') and values one space apart. */
function parseSysctlAll(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(' = ');
    if (at > 0) out.set(line.slice(0, at).trim().replace(/\//g, '.'), normaliseSysctlValue(line.slice(at + 3)));
  }
  return out;
}

/** The sysctls of a new, empty network namespace, read at most once a minute. */
export function freshBaseline(now = Date.now()): Promise<Baseline> {
  if (baseline && now - baseline.at < BASELINE_MS) return baseline.reading;
  const reading = (async (): Promise<Baseline> => {
    const [all, found] = await Promise.all([
      run(['unshare', '--net', '--', 'sysctl', '-a', '--pattern', '^net\\.'], { allowFailure: true, timeoutMs: 10_000 }),
      run(['unshare', '--net', '--', 'find', '/proc/sys/net', '-type', 'f', '-perm', '-u+w'], { allowFailure: true, timeoutMs: 10_000 }),
    ]);
    const writable = new Set(found.stdout.split('\n').filter((p) => p.startsWith('/proc/sys/')).map((p) => p.slice('/proc/sys/'.length).split('/').join('.')));
    return { values: parseSysctlAll(all.stdout), writable };
  })();
  baseline = { at: now, reading };
  reading.catch(() => { baseline = undefined; });
  return reading;
}

/** The name in a fresh namespace whose value a sysctl starts from: a device's comes from the defaults. */
export function baselineName(name: string): string {
  const parts = sysctlInterfaceParts(name);
  if (parts === undefined || parts.interface === 'lo' || parts.interface === 'all' || parts.interface === 'default') return name;
  return `net.${parts.family}.${parts.table}.${parts.table === 'conf' ? 'default' : 'lo'}.${parts.key}`;
}

/** Whether nslab keeps this sysctl as other state (see the module's comment for what is left out). */
function kept(name: string, fresh: Baseline): boolean {
  if (!isOtherSysctl(name)) return false;
  const parts = sysctlInterfaceParts(name);
  if (parts?.key === 'forwarding' || (parts?.family === 'ipv6' && parts.table === 'conf' && parts.key === 'mtu')) return false;
  return fresh.writable.has(baselineName(name));
}

/** The sysctls of namespace `netns` outside the allow-list that differ from a fresh namespace's, by name. */
export async function readOtherSysctls(netns: string): Promise<Record<string, string>> {
  const [fresh, r] = await Promise.all([freshBaseline(), run([...inNetns(netns), 'sysctl', '-a', '--pattern', '^net\\.'], { allowFailure: true, timeoutMs: 10_000 })]);
  const out = Object.create(null) as Record<string, string>;
  for (const [name, value] of parseSysctlAll(r.stdout)) {
    if (!kept(name, fresh)) continue;
    const before = fresh.values.get(baselineName(name));
    if (before !== undefined && before !== value) out[name] = value;
  }
  return out;
}

/** Why a file's sysctl outside the allow-list cannot be written in a lab namespace on this kernel, or undefined. */
export async function otherSysctlKernelProblem(name: string): Promise<string | undefined> {
  const fresh = await freshBaseline();
  if (kept(name, fresh)) return undefined;
  if (sysctlInterfaceParts(name)?.key === 'mtu') return `${name} follows the device's MTU: set the interface's mtu instead`;
  return fresh.values.has(baselineName(name))
    ? `${name} is read-only in a network namespace: the kernel sets it`
    : `a network namespace on this kernel has no sysctl ${name}: check the name (sysctl -a in a lab shell lists them)`;
}
