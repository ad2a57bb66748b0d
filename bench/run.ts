/**
 * `npm run bench`: runs the benchmarks and prints one table. Figures are medians;
 * ratios are against an anchor measured in the same run on the same machine.
 * `npm run bench -- apply` runs one group.
 */
import { benchApply } from './apply';
import type { Row } from './apply';

const groups: Record<string, () => Promise<Row[]>> = {
  apply: async () => [...(await benchApply(100)), ...(await benchApply(200))],
};

function print(rows: Row[]): void {
  const w = Math.max(...rows.map((r) => r.figure.length));
  console.log(`${'figure'.padEnd(w)}  ${'median ms'.padStart(10)}  ${'ratio'.padStart(7)}  anchor / goal`);
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`;
    const note = [r.anchor ? `vs ${r.anchor}` : '', r.goal ? `goal ${r.goal}` : ''].filter(Boolean).join(', ');
    console.log(`${r.figure.padEnd(w)}  ${r.ms.toFixed(1).padStart(10)}  ${ratio.padStart(7)}  ${note}`);
  }
}

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(groups)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name}`);
  print(await run());
}
