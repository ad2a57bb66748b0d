/**
 * `npm run bench`: runs the benchmarks and prints one table per group. Figures are
 * medians unless they say otherwise; ratios are against an anchor measured in the
 * same run on the same machine. `npm run bench -- apply packets` runs some groups.
 */
import { benchApply } from './apply';
import type { Row } from './apply';
import { runPacketBench } from './packets';
import { printTable, runTerminalBench } from './terminal';
import type { BenchRow } from './terminal';

function fromApply(rows: Row[]): BenchRow[] {
  return rows.map((r) => ({
    figure: r.figure,
    value: `${r.ms.toFixed(1)} ms`,
    anchor: r.anchor ?? '',
    ratio: [r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`, r.goal ? `goal ${r.goal}` : ''].filter(Boolean).join(', '),
  }));
}

const groups: Record<string, () => Promise<BenchRow[]>> = {
  apply: async () => fromApply([...(await benchApply(100)), ...(await benchApply(200))]),
  terminal: runTerminalBench,
  packets: runPacketBench,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in groups));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${Object.keys(groups).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(groups)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name}`);
  printTable(await run());
}
