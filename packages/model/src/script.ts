/**
 * A lab as a standalone bash script of plain `ip` and `iptables` commands, named as
 * in the tutorials (`ip netns add ns1`), for a machine without nslab.
 */
import { formatArgv, opArgv, opInput } from './op';
import { plan } from './plan';
import type { Topology } from './topology';
import { emptyTopology } from './plan';
import { parseTopologyData, toFile } from './file';

/** The bash script that builds the topology from nothing, one command per op. */
export function exportScript(observed: Topology): string {
  // Through the file form, so the script builds exactly what `export` writes (no observed-only details).
  const parsed = parseTopologyData(toFile(observed));
  if (!parsed.ok) throw new Error(`lab ${observed.name} cannot be exported: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const topology = parsed.topology;
  const ops = plan(topology, emptyTopology(topology.name), { netns: (_lab, node) => node }).filter((op) => op.kind !== 'netns.mark');
  const lines = [
    '#!/usr/bin/env bash',
    `# Lab "${topology.name}", exported by nslab: builds it with plain ip and iptables commands.`,
    '# Run as root. Remove it again with:',
    `#   ${Object.keys(topology.nodes).map((n) => `ip netns del ${n}`).join('; ')}`,
    'set -euo pipefail',
    '',
  ];
  let last = '';
  for (const op of ops) {
    if (op.kind !== last) lines.push(`# ${op.kind}`);
    last = op.kind;
    const input = opInput(op);
    if (input === undefined) {
      lines.push(formatArgv(opArgv(op)));
      continue;
    }
    // What the command reads (an nftables table) follows it as a quoted here-document, with an end word the text lacks.
    let end = 'NSLAB_END';
    while (input.split('\n').includes(end)) end += '_';
    lines.push(`${formatArgv(opArgv(op))} <<'${end}'`, ...input.trimEnd().split('\n'), end);
  }
  return lines.join('\n') + '\n';
}
