/**
 * `npm run bench`: runs the benchmarks and prints one table per group. Figures are
 * medians unless they say otherwise; ratios are against an anchor measured in the
 * same run on the same machine. `npm run bench -- apply packets` runs some groups.
 */
import { benchApply } from './apply';
import { runClassroomBench } from './classroom';
import type { Row } from './apply';
import { runCanvasBench } from './canvas';
import { runPacketBench } from './packets';
import { benchLesson } from './lesson';
import { benchSync } from './sync';
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

/** bench/sync's report as table rows: medians and p95s against the bare ip spawn measured in the same run. */
async function syncGroup(): Promise<BenchRow[]> {
  const r = await benchSync();
  const stat = (figure: string, s: { median: number; p95: number }, anchor = true): BenchRow[] => [
    { figure: `${figure}, median`, value: `${s.median.toFixed(1)} ms`, anchor: anchor ? 'bare ip spawn' : '', ratio: anchor ? `${(s.median / r.ipSpawn.median).toFixed(2)}x` : '' },
    { figure: `${figure}, p95`, value: `${s.p95.toFixed(1)} ms`, anchor: '', ratio: 'goal < 25 ms' },
  ];
  return [
    { figure: 'bare ip spawn, spawn -> exit (anchor), median', value: `${r.ipSpawn.median.toFixed(1)} ms`, anchor: '', ratio: '' },
    ...stat(`change made with ip -> client has the patch (${r.labNamespaces} namespaces)`, r.ipChange),
    ...stat('edit from the client -> confirming patch', r.edit),
    { figure: 'ip netns add in a lab shell -> node on the client, median', value: `${r.shellNetnsAdd.median.toFixed(1)} ms`, anchor: 'bare ip spawn', ratio: `${(r.shellNetnsAdd.median / r.ipSpawn.median).toFixed(2)}x` },
    { figure: 'ip netns add in a lab shell -> node on the client, p95', value: `${r.shellNetnsAdd.p95.toFixed(1)} ms`, anchor: '', ratio: 'goal < 200 ms' },
    { figure: `server RSS, ${r.machineLabNamespaces} lab namespaces observed`, value: `${r.rssMiB.toFixed(0)} MiB`, anchor: 'idle', ratio: `${r.rssIdleMiB.toFixed(0)} MiB idle` },
    { figure: 'server child processes (change monitors)', value: String(r.processes), anchor: '', ratio: `${r.monitors.watch} nslab-nsread watch + ${r.monitors.ip} ip monitor + ${r.monitors.nft} nft monitor` },
  ];
}

/** bench/lesson's report as table rows: kernel change -> lesson status, against the sysctl spawn that makes the change. */
async function lessonGroup(): Promise<BenchRow[]> {
  const r = await benchLesson();
  const rows = (figure: string, s: { median: number; p95: number }): BenchRow[] => [
    { figure: `${figure}, median`, value: `${s.median.toFixed(1)} ms`, anchor: 'sysctl -w spawn', ratio: `${(s.median / r.anchor.median).toFixed(2)}x` },
    { figure: `${figure}, p95`, value: `${s.p95.toFixed(1)} ms`, anchor: '', ratio: 'goal < 300 ms' },
  ];
  return [
    { figure: 'sysctl -w spawn -> exit (anchor), median', value: `${r.anchor.median.toFixed(1)} ms`, anchor: '', ratio: '' },
    ...rows('sysctl -w -> model check turned on the client', r.model),
    ...rows('forwarding on -> ping probe green on the client', r.probe),
    ...(r.page
      ? [...rows('page: forwarding on -> model check green in the DOM', r.page.model), ...rows('page: forwarding on -> ping probe green in the DOM', r.page.probe)]
      : [{ figure: 'page figures', value: 'skipped', anchor: '', ratio: r.pageSkipped ?? '' }]),
  ];
}

const groups: Record<string, () => Promise<BenchRow[]>> = {
  apply: async () => fromApply([...(await benchApply(100)), ...(await benchApply(200))]),
  sync: syncGroup,
  canvas: runCanvasBench,
  terminal: runTerminalBench,
  packets: runPacketBench,
  lesson: lessonGroup,
  classroom: runClassroomBench,
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
