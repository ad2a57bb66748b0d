/**
 * Generated values (fast-check): interface names, addresses, CIDRs, routes and NAT values.
 * Each is either refused by validation before any kernel call, or applied exactly: applied in
 * real namespaces, read back, and equal (a second apply has nothing to do, and the reading
 * holds the value). Values are batched into a few labs so the probe stays quick.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Topology } from '@nslab/model';
import { parseTopologyData, validate } from '@nslab/model';
import { applyTopology } from '../src/kernel/lab';
import { observeLab } from '../src/kernel/observe';
import { cleanup, uniqueLab } from '../test-kit/lab';
import { figure } from './figures';

const PER_KIND = 500;
/** The generator's seed: printed as a figure, and NSLAB_SEED=N replays a run. */
const SEED = Number(process.env['NSLAB_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const sample = { seed: SEED, numRuns: PER_KIND };
const labs: string[] = [];
after(() => cleanup(...labs));

const octet = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 127, 224, 255, 256, -1));
const v4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const v6 = fc.array(fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)), { minLength: 1, maxLength: 8 }).map((g) => (g.length < 8 ? `${g.slice(0, 1).join(':')}::${g.slice(1).join(':')}` : g.join(':')));
const ip = fc.oneof(v4, v6, fc.constantFrom('::', '::1', 'ff02::1', '0.0.0.0', 'x', '', '10.0.0.01'));
const cidr = fc.tuple(ip, fc.oneof(fc.integer({ min: 0, max: 129 }), fc.constant(-1))).map(([a, l]) => (l < 0 ? a : `${a}/${l}`));
const nameChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABZ0123456789_.-@+:/ !;"\'\\#$é'.split(''));
const ifname = fc.oneof(
  fc.array(nameChars, { minLength: 0, maxLength: 18 }).map((c) => c.join('')),
  fc.constantFrom('up', 'dev', 'n', 'a', 'br', 'mode', '__proto__', 'constructor', 'lo', '-x', '..', 'veth+', 'a'.repeat(15), 'a'.repeat(16)),
);

type Case = { kind: string; fragment: (i: number) => { interfaces: Record<string, unknown>; routes?: string[]; nat?: unknown[] } };

/** Each generated value as a node fragment of its own: a bridge per value, named uniquely unless the value is the name. */
const cases: Case[] = [
  ...fc.sample(ifname, sample).map((name): Case => ({ kind: 'name', fragment: () => ({ interfaces: { [name]: { kind: 'bridge' } } }) })),
  ...fc.sample(cidr, sample).map((address): Case => ({ kind: 'address', fragment: (i) => ({ interfaces: { [`b${i}`]: { kind: 'bridge', addresses: [address] } } }) })),
  ...fc.sample(fc.tuple(cidr, fc.option(ip), fc.option(fc.integer({ min: -1, max: 5000 }))), sample).map(([dst, via, metric]): Case => ({
    kind: 'route',
    fragment: (i) => ({
      interfaces: { [`b${i}`]: { kind: 'bridge', addresses: [`10.${(i >> 8) & 255}.${i & 255}.1/24`] } },
      routes: [`${dst}${via ? ` via ${via}` : ` dev b${i}`}${metric === null ? '' : ` metric ${metric}`}`],
    }),
  })),
  ...fc.sample(fc.tuple(fc.option(cidr), fc.option(fc.oneof(ifname, ifname.map((n) => `${n}+`), ifname.map((n) => `!${n}`)))), sample).map(([source, out]): Case => ({
    kind: 'nat',
    fragment: (i) => ({
      interfaces: { [`b${i}`]: { kind: 'bridge', addresses: [`10.${(i >> 8) & 255}.${i & 255}.1/24`] } },
      nat: [{ type: 'masquerade', ...(source === null ? {} : { source }), ...(out === null ? {} : { out }) }],
    }),
  })),
];

test(`${cases.length} generated values: each refused before the kernel, or applied exactly`, async () => {
  let refused = 0;
  const accepted: { topology: Topology; kind: string }[] = [];
  cases.forEach((c, i) => {
    const f = c.fragment(i);
    const r = parseTopologyData({ name: 'v', nodes: { n: f } });
    if (!r.ok) { refused += 1; assert.ok(r.problems.every((p) => p.message.length > 10), JSON.stringify(r.problems)); }
    else accepted.push({ topology: r.topology, kind: c.kind });
  });
  // Accepted values are merged into labs of one node; one that clashes with values already merged goes to the next lab.
  const batches: Topology[] = [];
  for (const { topology } of accepted) {
    const node = topology.nodes['n']!;
    let placed = false;
    for (const b of batches) {
      const merged = mergeNode(b, node);
      if (merged) { batches[batches.indexOf(b)] = merged; placed = true; break; }
    }
    if (!placed) batches.push({ name: '', nodes: { n: node }, links: [] });
  }
  let mismatches = 0;
  for (const b of batches) {
    const lab = uniqueLab('hk-val');
    labs.push(lab);
    const desired = { ...b, name: lab };
    await applyTopology(desired);
    const again = await applyTopology(desired, { dryRun: true });
    if (again.ops.length > 0) { mismatches += again.ops.length; console.log(`not read back equal: ${JSON.stringify(again.ops.map((o) => o.reason).slice(0, 5))}`); }
    const observed = (await observeLab(lab)).topology.nodes['n'];
    for (const name of Object.keys(desired.nodes['n']!.interfaces)) if (!observed || !Object.hasOwn(observed.interfaces, name)) mismatches += 1;
    await cleanup(lab);
  }
  figure('values: seed (NSLAB_SEED replays it)', SEED, '');
  figure('values: generated', cases.length, 'count');
  figure('values: refused before the kernel', refused, 'count');
  figure('values: applied', accepted.length, 'count');
  figure('values: labs applied for them', batches.length, 'count');
  figure('values: mismatches', mismatches, 'count');
  assert.ok(cases.length >= 2000);
  assert.equal(mismatches, 0);
});

/** The lab with the node's values added, or undefined when they clash (a name, an address or a route key already there). */
function mergeNode(lab: Topology, node: Topology['nodes'][string]): Topology | undefined {
  const base = lab.nodes['n']!;
  const merged = { ...base, interfaces: { ...base.interfaces }, routes: [...base.routes, ...node.routes], nat: [...base.nat, ...node.nat] };
  for (const [name, iface] of Object.entries(node.interfaces)) {
    if (Object.hasOwn(merged.interfaces, name)) return undefined;
    Object.defineProperty(merged.interfaces, name, { value: iface, enumerable: true, writable: true, configurable: true });
  }
  const candidate: Topology = { name: 'v', nodes: { n: merged }, links: [] };
  if (validate(candidate).length > 0 || Object.keys(merged.interfaces).length > 150) return undefined;
  return candidate;
}

