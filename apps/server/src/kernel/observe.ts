/**
 * observe(lab): the lab as the kernel has it, in the model's types: rtnetlink dumps
 * of every namespace read by one nslab-nsread process (nsread.ts), or, where that
 * helper is not built, `ip -j -d` in one batch per namespace; `iptables-save` for the
 * firewall. Only namespaces that carry the lab's ownership marker are part of it.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Link, Topology } from '@nslab/model';
import { readOtherSysctls } from './sysctl-other';
import { linkKey, NETNS_PREFIX, own, netnsName, parseIptablesPolicies, parseIptablesSave, parseNetnsName, sysctlArgName, sysctlNames } from '@nslab/model';
import type { NamespaceReading } from './iproute';
import { READ_BATCH, readBatch, readNamespace, splitJsonDocuments } from './iproute';
import { batchLine } from './batch';
import { inNetns, nsreadAvailable, ownersWithHelper, readWithHelper } from './nsread';
import { CommandError, pool, run } from './runner';
import { recoverKilledRuns } from './journal';
import { readUnmodelled, savedTables } from './unmodelled';

/** Where iproute2 keeps named namespaces. */
export const NETNS_DIR = '/run/netns';

/** Namespace reads in flight at once: 8 was the fastest on the 2-core machines here (DESIGN.md section 8). */
export const READ_CONCURRENCY = 8;

/** Kernel names of every named namespace on the machine. */
export async function listNetns(): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Which reader observes namespaces: the helper when built (scripts/install.sh builds it), else `ip`. */
export function reader(): 'nsread' | 'ip' {
  return process.env['NSLAB_READER'] === 'ip' || !nsreadAvailable() ? 'ip' : 'nsread';
}

/**
 * Reads namespaces (kernel names); undefined for one that vanished while being read.
 * `candidates`: namespaces that veth peers are likely in (the rest of the lab).
 */
export async function readNamespaces(
  names: readonly string[],
  options: { firewall?: boolean; candidates?: readonly string[] } = {},
): Promise<(NamespaceReading | undefined)[]> {
  const firewall = options.firewall ?? true;
  if (reader() === 'nsread') return readWithHelper(names, { firewall, ...(options.candidates ? { candidates: options.candidates } : {}) });
  return pool(names, READ_CONCURRENCY, (n) => readNetnsWithIp(n, firewall));
}

/** Reads one namespace; undefined when it vanished while being read. */
export async function readNetns(netns: string, withFirewall = true): Promise<NamespaceReading | undefined> {
  return (await readNamespaces([netns], { firewall: withFirewall }))[0];
}

/** Reads one namespace with `ip` (one process: see readBatch); undefined when it vanished while being read. */
export async function readNetnsWithIp(netns: string, withFirewall = true): Promise<NamespaceReading | undefined> {
  try {
    const lines = readBatch(netns, withFirewall).map((words) => batchLine(words.split(' ')));
    const argv = ['ip', '-n', netns, '-j', '-d', '-batch', '-'];
    const out = await run(argv, { input: lines.join('\n') + '\n', allowFailure: true });
    const { docs, rest } = splitJsonDocuments(out.stdout, READ_BATCH.length);
    // The firewall line may fail alone (no iptables here): the JSON reads must not.
    if (docs.length < READ_BATCH.length) throw new CommandError(argv, out.code, out.stderr, out.stdout, out.stderr.trim() || 'incomplete read');
    const reading = readNamespace(docs);
    if (withFirewall) {
      reading.namespace.nat = parseIptablesSave(rest);
      // Both readers agree: no policies at all when iptables has no table (the helper then reads none).
      const policies = parseIptablesPolicies(rest);
      if (Object.keys(policies).length > 0) reading.namespace.policies = policies;
      await readUnmodelled(reading.namespace, ['ip', 'netns', 'exec', netns], savedTables(rest));
    }
    return reading;
  } catch (err) {
    if (err instanceof CommandError && /Cannot open network namespace|No such file/.test(err.stderr)) return undefined;
    throw err;
  }
}

/** A lab's namespaces as read, by node name, and the namespaces that have its name but not its marker. */
export interface LabReading {
  topology: Topology;
  readings: Map<string, NamespaceReading>;
  /** Namespaces named like this lab's nodes that carry no marker (an apply interrupted between create and mark). */
  unmarked: string[];
  /** Namespaces named like this lab's nodes that carry another marker: never touched. */
  foreign: string[];
}

/** Reads a lab from the kernel. A lab that does not exist reads as an empty topology. */
export async function observeLab(lab: string, options: { firewall?: boolean; sysctls?: boolean } = {}): Promise<LabReading> {
  const prefix = `${NETNS_PREFIX}${lab}.`;
  const names = (await listNetns()).filter((n) => n.startsWith(prefix) && parseNetnsName(n)?.lab === lab);
  const read = await readNamespaces(names, { firewall: options.firewall ?? true });
  const readings = new Map<string, NamespaceReading>();
  const unmarked: string[] = [];
  const foreign: string[] = [];
  names.forEach((n, i) => {
    const r = read[i];
    const parsed = parseNetnsName(n);
    if (!r || !parsed) return;
    if (r.owner?.lab === lab && r.owner.node === parsed.node) readings.set(parsed.node, r);
    else if (r.owner) foreign.push(n);
    else unmarked.push(n);
  });
  const topology = assemble(lab, readings);
  if (options.sysctls === true) {
    await pool(Object.entries(topology.nodes), READ_CONCURRENCY, async ([node, ns]) => {
      const netns = netnsName(lab, node);
      const [knobs, other] = await Promise.all([readSysctls(netns, Object.keys(ns.interfaces)), readOtherSysctls(netns)]);
      ns.sysctls = Object.assign(knobs, other);
    });
  }
  return { topology, readings, unmarked, foreign };
}

/**
 * The knobs of sysctl.ts's allow-list in one namespace, by sysctl name, with one
 * `sysctl` process. Knobs the kernel lacks (net.bridge without br_netfilter) are
 * left out; sysctl(8) names them on stderr and exits non-zero, which is expected.
 */
export async function readSysctls(netns: string, interfaces: readonly string[]): Promise<Record<string, string>> {
  const names = sysctlNames(interfaces.filter((i) => i !== 'all' && i !== 'default'));
  const byArg = new Map(names.map((n) => [sysctlArgName(n), n]));
  const r = await run([...inNetns(netns), 'sysctl', ...byArg.keys()], { allowFailure: true, timeoutMs: 10_000 });
  const out = Object.create(null) as Record<string, string>;
  for (const line of r.stdout.split('\n')) {
    const at = line.indexOf(' = ');
    if (at < 0) continue;
    // sysctl prints dotted names; an interface name with dots comes back with slashes ("net.ipv4.conf.eth0/100.rp_filter").
    const printed = line.slice(0, at).trim();
    const name = byArg.get(printed) ?? names.find((n) => n.replace(/\//g, '.') === printed.replace(/\//g, '.')) ?? printed;
    if (names.includes(name)) out[name] = line.slice(at + 3).trim();
  }
  return out;
}

/** Joins per-namespace readings into a lab: veth ends become links. */
export function assemble(lab: string, readings: Map<string, NamespaceReading>): Topology {
  const topology: Topology = { name: lab, nodes: {}, links: [] };
  const seen = new Set<string>();
  for (const [node, r] of readings) topology.nodes[node] = r.namespace;
  for (const [node, r] of readings) {
    for (const [ifname, peer] of r.peers) {
      const peerNetns = peer.nsid === undefined ? netnsName(lab, node) : r.nsids.get(peer.nsid);
      const parsed = peerNetns ? parseNetnsName(peerNetns) : undefined;
      const peerReading = parsed && parsed.lab === lab ? readings.get(parsed.node) : undefined;
      const peerIf = peerReading?.ifindex.get(peer.ifindex);
      const iface = own(r.namespace.interfaces, ifname);
      if (!parsed || !peerReading || !peerIf) {
        if (iface) iface.peer = peerNetns ?? 'another namespace';
        continue;
      }
      const link: Link = { a: { node, interface: ifname }, b: { node: parsed.node, interface: peerIf } };
      const key = linkKey(link);
      if (!seen.has(key)) {
        seen.add(key);
        topology.links.push(link);
      }
    }
  }
  // A side that could not name its peer (e.g. a long nsid list) is still joined if the other side could.
  for (const link of topology.links) {
    for (const e of [link.a, link.b]) delete topology.nodes[e.node]?.interfaces[e.interface]?.peer;
  }
  return topology;
}

/** A lab found on this machine. */
export interface LabSummary { name: string; nodes: string[] }

/** Owners already read, by "name:inode" of the namespace: a marker never changes while the namespace lives. */
export type OwnerCache = Map<string, { lab: string; node: string }>;

/**
 * Every lab on this machine, found by the ownership markers in the kernel. With a
 * cache (the server keeps one), only namespaces not seen before are read: a long-lived
 * server lists labs without one `ip` per namespace on the machine each time.
 */
export async function listLabs(cache?: OwnerCache): Promise<LabSummary[]> {
  await recoverKilledRuns();
  const names = (await listNetns()).filter((n) => parseNetnsName(n) !== undefined);
  // The namespace's inode tells a recreated namespace of the same name from the one cached.
  const keys = await Promise.all(names.map((n) => stat(join(NETNS_DIR, n)).then((st) => `${n}:${st.ino}`, () => undefined)));
  const owners = names.map((_, i) => {
    const key = keys[i];
    return key ? cache?.get(key) : undefined;
  });
  const unknown = names.flatMap((n, i) => (owners[i] ? [] : [i]));
  const read = await readOwners(unknown.map((i) => names[i] as string));
  unknown.forEach((i, j) => {
    const owner = read[j];
    const key = keys[i];
    owners[i] = owner;
    if (owner && key) cache?.set(key, owner);
  });
  if (cache) {
    const live = new Set(keys);
    for (const key of cache.keys()) if (!live.has(key)) cache.delete(key);
  }
  const labs = new Map<string, string[]>();
  names.forEach((n, i) => {
    const owner = owners[i];
    const parsed = parseNetnsName(n);
    if (!owner || !parsed || owner.lab !== parsed.lab || owner.node !== parsed.node) return;
    const list = labs.get(owner.lab) ?? [];
    list.push(owner.node);
    labs.set(owner.lab, list);
  });
  return [...labs].sort(([a], [b]) => a.localeCompare(b)).map(([name, nodes]) => ({ name, nodes }));
}

/** The ownership markers on namespaces' lo, if any: one process for all with the helper. */
export async function readOwners(names: readonly string[]): Promise<({ lab: string; node: string } | undefined)[]> {
  if (reader() === 'nsread') return ownersWithHelper(names);
  return pool(names, READ_CONCURRENCY, readOwner);
}

/** The ownership marker on a namespace's lo, if any, read with `ip`. */
export async function readOwner(netns: string): Promise<{ lab: string; node: string } | undefined> {
  const result = await run(['ip', '-n', netns, '-j', '-d', 'link', 'show', 'dev', 'lo'], { allowFailure: true });
  if (result.code !== 0) return undefined;
  return readNamespace([JSON.parse(result.stdout) as unknown]).owner;
}
