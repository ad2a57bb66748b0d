/**
 * bench/apply: building, re-applying and destroying an N-namespace bridge lab with
 * nslab, against the same build done by plain `ip -batch` in the same run (the
 * anchor): one batch process per namespace plus two, sequential and 8 in parallel,
 * and deleting all namespaces in one batch.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Topology } from '@nslab/model';
import { applyTopology, destroyLab } from '../apps/server/src/kernel/lab';
import { listNetns, readNetnsWithIp, readOwners, reader, READ_CONCURRENCY } from '../apps/server/src/kernel/observe';
import { pool } from '../apps/server/src/kernel/runner';

/** Timed repetitions per figure; the median is reported. */
const RUNS = 5;

/** A host namespace with bridge br0 and `n` namespaces each joined to it by a veth. */
export function bridgeLab(name: string, n: number): Topology {
  const nodes: Topology['nodes'] = {
    host: { forwarding: false, interfaces: { br0: { kind: 'bridge', up: true, addresses: ['10.200.255.254/16'] } }, routes: [], nat: [] },
  };
  const links: Topology['links'] = [];
  for (let i = 1; i <= n; i += 1) {
    nodes[`n${i}`] = { forwarding: false, interfaces: { eth0: { kind: 'veth', up: true, addresses: [`10.200.${i >> 8}.${i & 255}/16`] } }, routes: [], nat: [] };
    (nodes['host'] as Topology['nodes'][string]).interfaces[`v${i}`] = { kind: 'veth', up: true, addresses: [], master: 'br0' };
    links.push({ a: { node: `n${i}`, interface: 'eth0' }, b: { node: 'host', interface: `v${i}` } });
  }
  return { name, nodes, links };
}

function batch(argv: string[], lines: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${argv.join(' ')}: ${err}`))));
    child.stdin.end(lines.join('\n') + '\n');
  });
}

/** The same lab built with plain ip -batch, as an expert would script it. */
async function plainBuild(prefix: string, n: number, parallel: number): Promise<void> {
  const ns = (i: number) => `${prefix}-${i}`;
  const root: string[] = [`netns add ${prefix}-host`];
  for (let i = 1; i <= n; i += 1) root.push(`netns add ${ns(i)}`);
  for (let i = 1; i <= n; i += 1) root.push(`link add eth0 netns ${ns(i)} type veth peer name v${i} netns ${prefix}-host`);
  await batch(['ip', '-batch', '-'], root);
  const host = ['link set lo up', 'link add br0 type bridge', 'addr add 10.200.255.254/16 dev br0', 'link set br0 up'];
  for (let i = 1; i <= n; i += 1) host.push(`link set v${i} master br0`, `link set v${i} up`);
  const jobs: [string, string[]][] = [[`${prefix}-host`, host]];
  for (let i = 1; i <= n; i += 1) jobs.push([ns(i), ['link set lo up', `addr add 10.200.${i >> 8}.${i & 255}/16 dev eth0`, 'link set eth0 up']]);
  await pool(jobs, parallel, ([name, lines]) => batch(['ip', '-n', name, '-batch', '-'], lines));
}

async function plainDelete(prefix: string, n: number): Promise<void> {
  const lines = [`netns del ${prefix}-host`];
  for (let i = 1; i <= n; i += 1) lines.push(`netns del ${prefix}-${i}`);
  await batch(['ip', '-batch', '-'], lines);
}

/**
 * Both deletions are timed after the same pause, so that neither pays for background
 * work the build before it left to the kernel (IPv6 address configuration of every new
 * device, RCU callbacks). Seen here: one batch deleting 100 namespaces took 1.0-1.2x
 * as long right after their build as 0.5 s later.
 */
const SETTLE_MS = 500;

function settle(): Promise<void> {
  return new Promise((ok) => setTimeout(ok, SETTLE_MS));
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** One row of the report. */
export interface Row { figure: string; ms: number; anchor?: string; ratio?: number; goal?: string }

/** Runs the apply benchmark for one size. */
export async function benchApply(n: number): Promise<Row[]> {
  const seqBuild: number[] = [];
  const parBuild: number[] = [];
  const batchDel: number[] = [];
  const apply: number[] = [];
  const reapply: number[] = [];
  const ipRead: number[] = [];
  const ownerRead: number[] = [];
  const destroy: number[] = [];
  for (let r = 0; r < RUNS; r += 1) {
    const prefix = `nsb${randomBytes(3).toString('hex')}`;
    try {
      seqBuild.push(await time(() => plainBuild(prefix, n, 1)));
      await settle();
      batchDel.push(await time(() => plainDelete(prefix, n)));
      parBuild.push(await time(() => plainBuild(prefix, n, 8)));
    } finally {
      await plainDelete(prefix, n).catch(() => undefined);
    }
    const lab = bridgeLab(`bench-${randomBytes(3).toString('hex')}`, n);
    try {
      apply.push(await time(() => applyTopology(lab)));
      let ran = -1;
      reapply.push(await time(async () => { ran = (await applyTopology(lab)).ran; }));
      if (ran !== 0) throw new Error(`re-apply ran ${ran} ops; expected 0`);
      const names = (await listNetns()).filter((x) => x.startsWith(`nslab.${lab.name}.`));
      // DESIGN.md section 8's read-back anchor: ip -j only (no firewall), 8 namespaces at a time.
      ipRead.push(await time(() => pool(names, READ_CONCURRENCY, (x) => readNetnsWithIp(x, false))));
      // What destroy adds to the deletion itself: reading every namespace's ownership marker.
      ownerRead.push(await time(() => readOwners(names)));
      await settle();
      destroy.push(await time(() => destroyLab(lab.name)));
      const left = (await listNetns()).filter((x) => x.startsWith(`nslab.${lab.name}.`));
      if (left.length > 0) throw new Error(`destroy left ${left.length} namespaces`);
    } finally {
      await destroyLab(lab.name).catch(() => undefined);
    }
  }
  const floor = median(parBuild);
  const del = median(batchDel);
  return [
    { figure: `plain ip -batch build, sequential (${n} ns)`, ms: median(seqBuild) },
    { figure: `plain ip -batch build, 8 in parallel (${n} ns)`, ms: floor },
    { figure: `plain netns del in one batch (${n} ns)`, ms: del },
    { figure: `nslab apply (${n} ns)`, ms: median(apply), anchor: 'parallel build', ratio: median(apply) / floor, goal: '<= 1.2x' },
    { figure: `read-back with ip -j per namespace, no firewall, 8 in parallel (${n} ns)`, ms: median(ipRead) },
    { figure: `nslab re-apply, no-op (${n} ns), reader ${reader()}`, ms: median(reapply), anchor: 'ip read-back', ratio: median(reapply) / median(ipRead), goal: '< 200 ms' },
    { figure: `nslab destroy (${n} ns)`, ms: median(destroy), anchor: 'one netns del batch', ratio: median(destroy) / del, goal: '<= 2x' },
    { figure: `  of which the ownership check, alone (${n} ns)`, ms: median(ownerRead) },
  ];
}
