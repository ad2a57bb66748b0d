/**
 * Automatic layout: a lab loaded from a file or found in the kernel is laid out left
 * to right by ELK's layered algorithm, leaves first and hubs (bridges, routers)
 * after them, "the internet" last, with few crossings. The result depends only on
 * the lab: names are sorted before ELK sees them, so the same lab always gets the
 * same picture.
 */
import type { ELK as ElkApi, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { Topology } from '@nslab/model';
import type { XY } from '../state/plane';
import { dataHeight, namespaceData } from './derive';
import { NODE_WIDTH } from './geometry';

/** Space between nodes in one layer and between layers (canvas pixels), tuned by eye at 1280x720. */
const NODE_GAP = 36;
const LAYER_GAP = 110;

/** Makes the ELK instance layouts run on. */
export type ElkFactory = () => Promise<ElkApi>;

/**
 * ELK is 1.5 MB of JavaScript: by default loaded on first use, in this thread (tests,
 * Node). The page swaps in a Web Worker (see elk-worker.ts), so a big layout never
 * blocks drawing and can start warming up while the page connects.
 */
let factory: ElkFactory = () => import('elkjs/lib/elk.bundled.js').then((m) => new m.default());
let elk: Promise<ElkApi> | undefined;

/** Sets where layouts run (before the first one). */
export function setElkFactory(make: ElkFactory): void {
  factory = make;
  elk = undefined;
}

function loadElk(): Promise<ElkApi> {
  elk ??= factory();
  return elk;
}

/** Loads ELK and runs one tiny layout, so the first real layout finds it compiled and warm. */
export async function warmLayout(): Promise<void> {
  const e = await loadElk();
  await e.layout({ id: 'warm', layoutOptions: { 'elk.algorithm': 'layered' }, children: [{ id: 'a', width: 10, height: 10 }, { id: 'b', width: 10, height: 10 }], edges: [{ id: 'e', sources: ['a'], targets: ['b'] }] });
}

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** Each node's number of links (not counting links to the folded nodes). */
function degrees(topology: Topology, folded: ReadonlySet<string> = new Set()): Map<string, number> {
  const d = new Map<string, number>();
  for (const l of topology.links) {
    if (folded.has(l.a.node) || folded.has(l.b.node)) continue;
    d.set(l.a.node, (d.get(l.a.node) ?? 0) + 1);
    d.set(l.b.node, (d.get(l.b.node) ?? 0) + 1);
  }
  return d;
}

/** Each node's distinct neighbours (parallel links and self-links count once or not at all). */
function neighbourSets(topology: Topology, folded: ReadonlySet<string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const name of Object.keys(topology.nodes)) if (!folded.has(name)) out.set(name, new Set());
  for (const l of topology.links) {
    if (l.a.node === l.b.node || folded.has(l.a.node) || folded.has(l.b.node)) continue;
    out.get(l.a.node)?.add(l.b.node);
    out.get(l.b.node)?.add(l.a.node);
  }
  return out;
}

/**
 * How far each node is from the edge of the lab: 0 for a namespace with one
 * neighbour (a container), 1 for what those plug into (a host), 2 for what hosts
 * plug into (an underlay switch, a core router), and so on (a breadth-first search
 * from every leaf at once). Nodes no leaf reaches (a ring) count as far.
 */
export function depths(topology: Topology, folded: ReadonlySet<string> = new Set()): Map<string, number> {
  const nb = neighbourSets(topology, folded);
  const depth = new Map<string, number>();
  let frontier = [...nb].filter(([, set]) => set.size <= 1).map(([name]) => name).sort(byName);
  for (const n of frontier) depth.set(n, 0);
  for (let d = 1; frontier.length > 0; d += 1) {
    const next: string[] = [];
    for (const n of frontier) {
      for (const m of [...(nb.get(n) ?? [])].sort(byName)) {
        if (depth.has(m)) continue;
        depth.set(m, d);
        next.push(m);
      }
    }
    frontier = next;
  }
  for (const n of nb.keys()) if (!depth.has(n)) depth.set(n, Number.MAX_SAFE_INTEGER);
  return depth;
}

/**
 * The direction a link is drawn in, so a lab reads left to right from its edge to
 * its core: towards a node named "internet..." always; else from the node nearer
 * the edge (containers before their host, hosts before the underlay); then from
 * the node with fewer links; then by name.
 */
export function orient(topology: Topology, a: string, b: string, deg = degrees(topology), depth = depths(topology)): [string, string] {
  const ia = a.startsWith('internet');
  const ib = b.startsWith('internet');
  if (ia !== ib) return ia ? [b, a] : [a, b];
  const pa = depth.get(a) ?? 0;
  const pb = depth.get(b) ?? 0;
  if (pa !== pb) return pa < pb ? [a, b] : [b, a];
  const da = deg.get(a) ?? 0;
  const db = deg.get(b) ?? 0;
  if (da !== db) return da < db ? [a, b] : [b, a];
  return byName(a, b) <= 0 ? [a, b] : [b, a];
}

/** A hub with many namespaces hanging off it (containers on a bridge): those are laid out as a block beside it. */
const CLUSTER_MIN = 8;
/** Rows of a leaf block: about square blocks, never taller than this many nodes. */
const BLOCK_MAX_ROWS = 10;

/** Each node's height, as the canvas will draw it. */
function heights(topology: Topology): Map<string, number> {
  return new Map(Object.entries(topology.nodes).map(([name, ns]) => [name, dataHeight(namespaceData(name, ns, topology.links))]));
}

/**
 * Leaves grouped by hub: a namespace whose links all go to one other namespace is
 * a leaf of it, and a hub with at least CLUSTER_MIN leaves gets them as a block.
 * Leaves are ordered like the hub's ports they plug into, so their links do not cross.
 */
export function leafClusters(topology: Topology): Map<string, string[]> {
  const neighbours = new Map<string, Set<string>>();
  const portOf = new Map<string, string>();
  for (const l of topology.links) {
    if (l.a.node === l.b.node) continue;
    for (const [me, other, far] of [[l.a.node, l.b.node, l.b.interface], [l.b.node, l.a.node, l.a.interface]] as const) {
      let set = neighbours.get(me);
      if (!set) neighbours.set(me, (set = new Set()));
      set.add(other);
      portOf.set(`${me}\n${other}`, far);
    }
  }
  const byHub = new Map<string, string[]>();
  for (const [name, set] of neighbours) {
    if (set.size !== 1) continue;
    const hub = [...set][0] as string;
    if ((neighbours.get(hub)?.size ?? 0) <= 1) continue; // two namespaces joined only to each other
    const list = byHub.get(hub) ?? [];
    list.push(name);
    byHub.set(hub, list);
  }
  const out = new Map<string, string[]>();
  for (const [hub, leaves] of [...byHub].sort(([a], [b]) => byName(a, b))) {
    if (leaves.length < CLUSTER_MIN) continue;
    out.set(hub, leaves.sort((a, b) => byName(portOf.get(`${a}\n${hub}`) ?? a, portOf.get(`${b}\n${hub}`) ?? b) || byName(a, b)));
  }
  return out;
}

/** A block of leaves: columns and rows, and its size. */
interface Block { leaves: string[]; rows: number; cols: number; width: number; height: number; rowHeight: number }

function block(leaves: string[], height: Map<string, number>): Block {
  const rows = Math.min(BLOCK_MAX_ROWS, Math.max(1, Math.ceil(Math.sqrt(leaves.length * 1.5))));
  const cols = Math.ceil(leaves.length / rows);
  const rowHeight = Math.max(...leaves.map((l) => height.get(l) ?? 80)) + NODE_GAP / 2;
  return { leaves, rows, cols, width: cols * (NODE_WIDTH + NODE_GAP) - NODE_GAP, height: rows * rowHeight - NODE_GAP / 2, rowHeight };
}

/** The layout plan: the ELK graph of the lab with leaf blocks folded into their hubs. */
export function elkGraph(topology: Topology): { graph: ElkNode; blocks: Map<string, Block>; height: Map<string, number> } {
  const height = heights(topology);
  const clusters = leafClusters(topology);
  const folded = new Set([...clusters.values()].flat());
  const blocks = new Map([...clusters].map(([hub, leaves]) => [hub, block(leaves, height)]));
  const names = Object.keys(topology.nodes).filter((n) => !folded.has(n)).sort(byName);
  // A host's folded containers do not make it a hub: what it links to beyond them decides.
  const deg = degrees(topology, folded);
  const depth = depths(topology, folded);
  const pairs = new Set<string>();
  const edges: ElkExtendedEdge[] = [];
  const links = [...topology.links].sort((x, y) => byName(`${x.a.node}:${x.a.interface}`, `${y.a.node}:${y.a.interface}`) || byName(`${x.b.node}:${x.b.interface}`, `${y.b.node}:${y.b.interface}`));
  for (const link of links) {
    if (link.a.node === link.b.node || !topology.nodes[link.a.node] || !topology.nodes[link.b.node]) continue;
    if (folded.has(link.a.node) || folded.has(link.b.node)) continue;
    const [from, to] = orient(topology, link.a.node, link.b.node, deg, depth);
    // Parallel links count once for placement; the canvas still draws each.
    const key = `${from}\n${to}`;
    if (pairs.has(key)) continue;
    pairs.add(key);
    edges.push({ id: `e${edges.length}`, sources: [from], targets: [to] });
  }
  const graph: ElkNode = {
    id: 'lab',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': String(NODE_GAP),
      'elk.layered.spacing.nodeNodeBetweenLayers': String(LAYER_GAP),
      'elk.spacing.componentComponent': String(LAYER_GAP / 2),
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.crossingMinimization.strategy': 'LAYER_SWEEP',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.randomSeed': '1',
    },
    children: names.map((name) => {
      const b = blocks.get(name);
      const h = height.get(name) ?? 80;
      // A hub with a block is one box: the block on the left, the hub on the right.
      return b ? { id: name, width: b.width + LAYER_GAP + NODE_WIDTH, height: Math.max(b.height, h) } : { id: name, width: NODE_WIDTH, height: h };
    }),
    edges,
  };
  return { graph, blocks, height };
}

/** Positions (top-left corners) for every node of the lab. */
export async function layoutLab(topology: Topology): Promise<Record<string, XY>> {
  if (Object.keys(topology.nodes).length === 0) return {};
  const { graph, blocks, height } = elkGraph(topology);
  const result = await (await loadElk()).layout(graph);
  const out: Record<string, XY> = {};
  for (const child of result.children ?? []) {
    const x = Math.round(child.x ?? 0);
    const y = Math.round(child.y ?? 0);
    const b = blocks.get(child.id);
    if (!b) {
      out[child.id] = { x, y };
      continue;
    }
    const boxHeight = Math.max(b.height, height.get(child.id) ?? 80);
    out[child.id] = { x: x + b.width + LAYER_GAP, y: y + Math.round((boxHeight - (height.get(child.id) ?? 80)) / 2) };
    const top = y + Math.round((boxHeight - b.height) / 2);
    b.leaves.forEach((leaf, i) => {
      // Column by column, so the order down each column follows the hub's ports.
      const col = Math.floor(i / b.rows);
      const row = i % b.rows;
      out[leaf] = { x: x + col * (NODE_WIDTH + NODE_GAP), y: top + row * b.rowHeight };
    });
  }
  return out;
}

/** A box on the canvas. */
interface Box { x: number; y: number; w: number; h: number }

const hits = (a: Box, b: Box, margin: number) =>
  a.x < b.x + b.w + margin && b.x < a.x + a.w + margin && a.y < b.y + b.h + margin && b.y < a.y + a.h + margin;

/**
 * Places nodes that appeared without a position (made in a terminal, say) next to a
 * linked neighbour that has one, or to the right of everything, stepping down until
 * they overlap nothing. Existing positions never move.
 */
export function placeNew(topology: Topology, positions: Readonly<Record<string, XY>>, missing: readonly string[]): Record<string, XY> {
  const boxes: Box[] = [];
  const heightOf = (name: string) => {
    const ns = topology.nodes[name];
    return ns ? dataHeight(namespaceData(name, ns, topology.links)) : 120;
  };
  for (const [name, p] of Object.entries(positions)) if (topology.nodes[name]) boxes.push({ x: p.x, y: p.y, w: NODE_WIDTH, h: heightOf(name) });
  const right = boxes.reduce((m, b) => Math.max(m, b.x + b.w), 0);
  const top = boxes.reduce((m, b) => Math.min(m, b.y), boxes.length > 0 ? Infinity : 0);
  const placed: Record<string, XY> = {};
  for (const name of [...missing].sort(byName)) {
    const neighbour = topology.links
      .map((l) => (l.a.node === name ? l.b.node : l.b.node === name ? l.a.node : undefined))
      .find((n): n is string => n !== undefined && (positions[n] !== undefined || placed[n] !== undefined));
    const anchor = neighbour ? (positions[neighbour] ?? placed[neighbour]) : undefined;
    const box: Box = anchor
      ? { x: anchor.x + NODE_WIDTH + LAYER_GAP, y: anchor.y, w: NODE_WIDTH, h: heightOf(name) }
      : { x: boxes.length > 0 ? right + LAYER_GAP : 0, y: top, w: NODE_WIDTH, h: heightOf(name) };
    while (boxes.some((b) => hits(b, box, NODE_GAP / 2))) box.y += 40;
    boxes.push(box);
    placed[name] = { x: box.x, y: box.y };
  }
  return placed;
}
