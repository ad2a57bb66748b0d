/**
 * Reads many namespaces with one process: nslab-nsread (apps/server/native/nsread.c)
 * enters each namespace in turn and passes the kernel's rtnetlink dumps through;
 * rtnetlink.ts decodes them. A 100-namespace lab reads in ~10 ms this way, against
 * ~500 ms for one `ip` per namespace. When the helper is not built (it is built by
 * scripts/install.sh), observe.ts reads with `ip` instead.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Op } from '@nslab/model';
import { parseIptablesPolicies, parseIptablesSave, parseOwnerMarker } from '@nslab/model';
import type { IpNsid } from './iproute';
import { readNamespace } from './iproute';
import type { NamespaceReading } from './iproute';
import { decodeLinks, decodeNetconf, decodeRoutes, HOST_LITTLE_ENDIAN, linkNames, loopbackAlias, UTF8 } from './rtnetlink';
import { CommandError, pool, run } from './runner';
import { SERVER_DIR } from '../paths';
import { readUnmodelled, savedTables } from './unmodelled';

/** Where scripts/install.sh builds the helper. */
export const NSREAD_PATH = join(SERVER_DIR, 'native', 'build', 'nslab-nsread');

let built: boolean | undefined;

/** True when the helper is built (looked for once: every read asks). */
export function nsreadAvailable(): boolean {
  built ??= existsSync(NSREAD_PATH);
  return built;
}

/**
 * The words that run a command in a lab namespace's network namespace and nothing more:
 * `nslab-nsread exec NS --` (setns into the namespace, then exec) where the helper is
 * built, else `ip netns exec NS`, which also makes a mount namespace and mounts a
 * sysfs of the namespace. For commands that read no /sys (ping, curl, sysctl:
 * /proc/sys/net follows the network namespace of the process that opens it), so a
 * lesson probe or a knob read pays one exec, not a mount namespace.
 */
export function inNetns(netns: string): string[] {
  return nsreadAvailable() ? [NSREAD_PATH, 'exec', netns, '--'] : ['ip', 'netns', 'exec', netns];
}

/** Frame tags, as nsread.c numbers them. */
const TAG = { LINKS: 1, ADDRS: 2, ROUTES: 3, NETCONF: 4, NSID: 5, TABLES: 6, ERROR: 7 } as const;

/** errnos that mean the namespace is gone: ENOENT (no file), EINVAL (a file that is no longer a namespace). */
const GONE = new Set([2, 22]);

/** Firewall reads in flight at once (each is one iptables-save process). */
const FIREWALL_CONCURRENCY = 8;

/** One frame of the helper's output. */
export interface Frame { index: number; tag: number; data: Uint8Array }

/** Splits the helper's output into frames; a truncated output is an error, not a short read. */
export function splitFrames(out: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = 0;
  while (at < out.length) {
    if (at + 12 > out.length) throw new Error('nslab-nsread: truncated frame header');
    const index = v.getUint32(at, HOST_LITTLE_ENDIAN);
    const tag = v.getUint32(at + 4, HOST_LITTLE_ENDIAN);
    const len = v.getUint32(at + 8, HOST_LITTLE_ENDIAN);
    if (at + 12 + len > out.length) throw new Error('nslab-nsread: truncated frame');
    frames.push({ index, tag, data: out.subarray(at + 12, at + 12 + len) });
    at += 12 + len;
  }
  return frames;
}

/** The frames of each namespace, by its position in the list; a namespace that is gone reads as undefined. */
function byNamespace(argv: string[], frames: Frame[], count: number): (Map<number, Frame[]> | undefined)[] {
  const out: (Map<number, Frame[]> | undefined)[] = Array.from({ length: count }, () => new Map<number, Frame[]>());
  for (const f of frames) {
    const tags = out[f.index];
    if (!tags) continue;
    if (f.tag === TAG.ERROR) {
      const v = new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength);
      const errno = f.data.length >= 4 ? v.getUint32(0, HOST_LITTLE_ENDIAN) : 0;
      if (!GONE.has(errno)) {
        const message = UTF8.decode(f.data.subarray(4));
        throw new CommandError(argv, 0, message, '', `${message} (errno ${errno})`);
      }
      out[f.index] = undefined;
      continue;
    }
    const list = tags.get(f.tag) ?? [];
    list.push(f);
    tags.set(f.tag, list);
  }
  return out;
}

function only(tags: Map<number, Frame[]>, tag: number): Uint8Array {
  return tags.get(tag)?.[0]?.data ?? new Uint8Array(0);
}

/**
 * Reads namespaces (kernel names) in one process. `candidates` are namespaces that
 * veth peers are likely in (the rest of the lab): nsids are looked up there first.
 * The firewall is read with iptables-save, but only in namespaces that have any
 * iptables table at all: most lab namespaces have none, and it is the costly part.
 */
export async function readWithHelper(
  names: readonly string[],
  options: { firewall: boolean; candidates?: readonly string[] },
): Promise<(NamespaceReading | undefined)[]> {
  if (names.length === 0) return [];
  const named = new Set(names);
  const extra = (options.candidates ?? []).filter((n) => !named.has(n));
  const argv = [NSREAD_PATH, 'read', ...names, ...(extra.length > 0 ? ['--', ...extra] : [])];
  const out = await run(argv);
  const grouped = byNamespace(argv, splitFrames(out.raw), names.length);
  const readings = decodeReadings(grouped);
  if (options.firewall) {
    const withTables = names.map((n, i) => ({ n, i })).filter(({ i }) => {
      const tags = grouped[i];
      const t = tags ? only(tags, TAG.TABLES) : undefined;
      // No table count: read the firewall rather than assume it is empty.
      if (!t || t.length < 8) return true;
      const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
      return v.getUint32(0, HOST_LITTLE_ENDIAN) + v.getUint32(4, HOST_LITTLE_ENDIAN) > 0;
    });
    await pool(withTables, FIREWALL_CONCURRENCY, async ({ n, i }) => {
      const reading = readings[i];
      if (!reading) return;
      const save = [NSREAD_PATH, 'exec', n, '--', 'iptables-save'];
      const saved = await run(save, { allowFailure: true });
      if (saved.code === 0) {
        reading.namespace.nat = parseIptablesSave(saved.stdout);
        // Both readers agree: no policies at all when iptables has no table (the helper then reads none).
        const policies = parseIptablesPolicies(saved.stdout);
        if (Object.keys(policies).length > 0) reading.namespace.policies = policies;
        await readUnmodelled(reading.namespace, [NSREAD_PATH, 'exec', n, '--'], savedTables(saved.stdout), nftTables(grouped[i]));
      }
      else if (/cannot enter namespace/.test(saved.stderr)) readings[i] = undefined;
      // No iptables on this machine: no rules can be read, as with the ip reader.
      else if (saved.code === 127) reading.namespace.nat = [];
      else throw new CommandError(save, saved.code, saved.stderr, saved.stdout, saved.stderr.trim() || `exited with ${saved.code}`);
    });
  }
  return readings;
}

/** The number of nftables tables the helper counted in a namespace, when it did. */
function nftTables(tags: Map<number, Frame[]> | undefined): number | undefined {
  const t = tags ? only(tags, TAG.TABLES) : undefined;
  if (!t || t.length < 8) return undefined;
  return new DataView(t.buffer, t.byteOffset, t.byteLength).getUint32(0, HOST_LITTLE_ENDIAN);
}

/** The readings in a helper's frames, by namespace; undefined for a namespace that is gone. */
function decodeReadings(grouped: (Map<number, Frame[]> | undefined)[]): (NamespaceReading | undefined)[] {
  return grouped.map((tags) => {
    if (!tags) return undefined;
    const linkDump = only(tags, TAG.LINKS);
    const ifnames = linkNames(linkDump);
    const nsids: IpNsid[] = (tags.get(TAG.NSID) ?? []).map((f) => ({
      nsid: new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength).getInt32(0, HOST_LITTLE_ENDIAN),
      name: UTF8.decode(f.data.subarray(4)),
    }));
    return readNamespace([
      decodeLinks(linkDump, only(tags, TAG.ADDRS)),
      decodeRoutes(only(tags, TAG.ROUTES), ifnames),
      decodeNetconf(only(tags, TAG.NETCONF), ifnames),
      nsids,
    ]);
  });
}

/**
 * Runs `nslab-nsread create` (see createArgv) and returns the new namespace as the helper read it
 * from inside, once made: the reading a live feed needs to show the node without a read of its own.
 * A failure is a CommandError with the helper's sentence; the helper has then undone what it made.
 */
export async function createWithHelper(argv: string[]): Promise<NamespaceReading | undefined> {
  const out = await run(argv);
  const grouped = byNamespace(argv, splitFrames(out.raw), 1);
  // A namespace born with iptables tables (legacy modules may make them) has rules only iptables-save reads: no reading then.
  const tables = grouped[0] ? only(grouped[0], TAG.TABLES) : undefined;
  if (!tables || tables.length < 8) return undefined;
  const v = new DataView(tables.buffer, tables.byteOffset, tables.byteLength);
  if (v.getUint32(0, HOST_LITTLE_ENDIAN) + v.getUint32(4, HOST_LITTLE_ENDIAN) > 0) return undefined;
  return decodeReadings(grouped)[0];
}

/** The ownership markers of namespaces (lo's alias), read in one process; undefined for none or gone. */
export async function ownersWithHelper(names: readonly string[]): Promise<({ lab: string; node: string } | undefined)[]> {
  if (names.length === 0) return [];
  const argv = [NSREAD_PATH, 'owner', ...names];
  const out = await run(argv);
  return byNamespace(argv, splitFrames(out.raw), names.length).map((tags) => {
    if (!tags) return undefined;
    return parseOwnerMarker(loopbackAlias(only(tags, TAG.LINKS)));
  });
}

/** A sysctl `nslab-nsread create` writes: dotted net.* names of plain words (an interface name with a dot is not one), numeric values. */
const CREATE_SYSCTL = /^net(\.[a-z0-9_]+)+$/;

/**
 * The one `nslab-nsread create` process that runs a new node's plan (netns.add, then inside it
 * netns.mark, lo up and sysctl.set): one exec where `ip` took four to six, which on a busy 2-core
 * machine was most of the time between `ip netns add` typed in a lab shell and the node on the
 * canvas. Undefined when the plan holds anything else: applyOps runs it then, op by op.
 */
export function createArgv(ops: readonly Op[]): string[] | undefined {
  const [first, ...rest] = ops;
  if (first?.kind !== 'netns.add') return undefined;
  let marker: string | undefined;
  let loUp = false;
  const sysctls: string[] = [];
  for (const op of rest) {
    if (op.kind === 'netns.mark' && op.netns === first.netns && marker === undefined) marker = op.marker;
    else if (op.kind === 'link.up' && op.netns === first.netns && op.interface === 'lo') loUp = true;
    else if (op.kind === 'sysctl.set' && op.netns === first.netns && CREATE_SYSCTL.test(op.key) && /^[0-9]{1,8}$/.test(op.value)) sysctls.push(`${op.key}=${op.value}`);
    else return undefined;
  }
  // The helper always brings lo up with the marker: a plan that does not is not this one.
  if (marker === undefined || !loUp) return undefined;
  return [NSREAD_PATH, 'create', first.netns, marker, ...sysctls];
}
