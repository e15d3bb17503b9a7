// `npm run bench`: every benchmark, then BENCHMARKS.md. Figures are ratios to baselines measured
// in the same run; absolute numbers vary with the machine's load.
import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import type {BenchFigure} from './common.js';
import {runEngineBench} from './engine.js';
import {recordedSection} from './fuzz/results.js';
import {runSchedBench} from './sched.js';
import {runSoakBench} from './soak.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

/**
 * The UI figures run in a child process: React and Ink must load with NODE_ENV=production from
 * the start (switching it later mixes builds and Ink draws nothing).
 */
function runUiBenchChild(): Promise<BenchFigure[]> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/ui.tsx', '--json'], {
    env: {...process.env, NODE_ENV: 'production'}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 2 ** 20,
  });
  return Promise.resolve(JSON.parse(out.trim().split('\n').pop()!) as BenchFigure[]);
}

const sections: [string, () => Promise<BenchFigure[]>][] = [
  ['Engine packet path, scale, expiry and queries', () => runEngineBench(log)],
  ['Schedulers (decisions per second, rr = baseline)', () => runSchedBench()],
  ['Flood soak (the whole simulation: generators, engine, timers)', () => runSoakBench()],
  ['Live UI (chart adapter, a 140x45 frame over 1M entries, keypress latency during a flood)', runUiBenchChild],
];

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(v < 10 ? 2 : 1);
}

const date = new Date().toISOString().slice(0, 10);
const machine = `${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
const lines = [
  '# Benchmarks',
  '',
  `Produced by \`npm run bench\` (node --expose-gc --import tsx bench/run.ts) on ${date}; machine: ${machine}.`,
  'Every throughput figure is compared with a baseline measured in the same run (ratio = value / baseline);',
  'value is the median of the repeats, with min and max beside it. The machine is shared and noisy.',
  '',
];
for (const [title, run] of sections) {
  log(`== ${title}`);
  const figs = await run();
  lines.push(`## ${title}`, '', '| figure | value (median) | min | max | unit | baseline | ratio | target |', '|---|---|---|---|---|---|---|---|');
  for (const f of figs) {
    lines.push(`| ${f.figure} | ${fmt(f.value)} | ${f.min !== undefined ? fmt(f.min) : ''} | ${f.max !== undefined ? fmt(f.max) : ''} | ${f.unit} | ${fmt(f.baseline)} | ${f.ratio.toFixed(2)} | ${f.target ?? ''} |`);
  }
  lines.push('');
}
const fuzzing = recordedSection();
if (fuzzing) lines.push(fuzzing);
lines.push(readFileSync(new URL('./notes.md', import.meta.url), 'utf8'));
const extra = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : 'BENCHMARKS.md';
writeFileSync(extra!, `${lines.join('\n')}\n`);
log(`wrote ${extra}`);
