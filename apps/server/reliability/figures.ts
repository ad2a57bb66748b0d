/**
 * Figures of the reliability stage. Each reliability test records what it measured with
 * `figure`; `scripts/test.mjs reliability` collects them from the file named by
 * NSLAB_FIGURES (one JSON object a line) and prints them as a table after the stage.
 * Run alone (no NSLAB_FIGURES), a figure is printed to stdout instead.
 */
import { appendFileSync } from 'node:fs';

/** One measured figure: what it is, its value, and its unit ("ms", "MB", "count", ...). */
export interface Figure { name: string; value: number | string; unit: string }

/** Records one figure of this run. */
export function figure(name: string, value: number | string, unit: string): void {
  const line = JSON.stringify({ name, value, unit } satisfies Figure);
  const file = process.env.NSLAB_FIGURES;
  if (file) appendFileSync(file, `${line}\n`);
  else console.log(`figure: ${name} = ${value} ${unit}`);
}
