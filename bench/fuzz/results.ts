// Recorded fuzzing figures: bench/fuzz/results.json keeps each target's latest recorded run;
// BENCHMARKS.md's fuzzing section is rendered from it (by `npm run fuzz -- --record` and by
// `npm run bench`, which regenerates the whole file).
import {readFileSync, writeFileSync} from 'node:fs';
import os from 'node:os';

export interface RecordedResult {
  name: string;
  cases: number;
  seed: number;
  date: string;
  crashes: number;
  hangs: number;
  memory: number;
  stalls: number;
  casesPerSecond: number;
  peakHeapMb: number;
  /** The fuzz process's resident set (parent and worker); absent in figures recorded before it was sampled. */
  peakRssMb?: number;
  caseLimitMs: number;
  maxHeapMb: number;
}

const RESULTS_FILE = new URL('./results.json', import.meta.url);

/** Merge a run's figures into bench/fuzz/results.json (one entry per target, the latest run's). */
export function mergeResults(fresh: readonly RecordedResult[]): RecordedResult[] {
  let saved: RecordedResult[] = [];
  try {
    saved = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as RecordedResult[];
  } catch {
    saved = [];
  }
  for (const entry of fresh) saved = [...saved.filter((s) => s.name !== entry.name), entry];
  saved.sort((a, b) => a.name.localeCompare(b.name));
  writeFileSync(RESULTS_FILE, `${JSON.stringify(saved, null, 2)}\n`);
  return saved;
}

export function renderResults(results: readonly RecordedResult[]): string {
  const machine = `${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
  const lines = [
    '## Fuzzing (npm run fuzz)',
    '',
    `Produced by \`npm run fuzz -- --record\` (bench/fuzz/run.ts; each row is that target's latest recorded run); machine: ${machine}.`,
    'A case running longer than its limit, and again when re-run alone, is a hang (once only: a stall of the shared machine); the worker heap is capped (out of memory = a failure). The machine is shared: cases/s is indicative only. A row with fewer than 1,000,000 cases is a time-boxed run (`--max-seconds`); peak RSS is the whole fuzz process (parent and worker).',
    '',
    '| target | cases | seed | date | crashes | hangs | out of memory | stalls not reproduced | cases/s | peak heap (MiB) | peak RSS (MiB) | case limit (ms) | heap cap (MiB) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(`| ${r.name} | ${r.cases} | ${r.seed} | ${r.date} | ${r.crashes} | ${r.hangs} | ${r.memory} | ${r.stalls ?? 0} | ${r.casesPerSecond} | ${r.peakHeapMb} | ${r.peakRssMb ?? '–'} | ${r.caseLimitMs} | ${r.maxHeapMb} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Replace (or append) the fuzzing section of BENCHMARKS.md, leaving the rest as it is. */
export function updateBenchmarks(section: string): void {
  const file = new URL('../../BENCHMARKS.md', import.meta.url);
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('## Fuzzing');
  let out: string;
  if (start < 0) {
    const notes = text.indexOf('## Reading the figures');
    out = notes < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, notes)}${section}\n${text.slice(notes)}`;
  } else {
    const end = text.indexOf('\n## ', start + 3);
    out = `${text.slice(0, start)}${section}${end < 0 ? '' : text.slice(end)}`;
  }
  writeFileSync(file, out);
}

/** The fuzzing section from the recorded figures, or '' when nothing was recorded yet. */
export function recordedSection(): string {
  try {
    return renderResults(JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as RecordedResult[]);
  } catch {
    return '';
  }
}
