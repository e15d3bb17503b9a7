// `npm run bench`: every benchmark, then BENCHMARKS.md (bench/report.ts). Each ratio is a figure
// divided by another figure measured in this same run; targets are checked and marked met/missed.
import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import type {BenchFigure} from './common.js';
import {ENGINE_CASES, type EngineCase, runEngineBench} from './engine.js';
import {recordedSection} from './fuzz/results.js';
import {type BenchSection, renderReport} from './report.js';
import {runReplayBench} from './replay.js';
import {runSchedBench} from './sched.js';
import {runSoakBench} from './soak.js';
import {runStartupBench} from './startup.js';
import {recordedSoakSection} from './soak-ssh.js';

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

const benches: [string, () => Promise<BenchFigure[]>][] = [
  ['Start-up of the shipped binary (against node -e 0 in the same rounds)', () => runStartupBench(log)],
  ['Engine packet path, scale, expiry and queries', () => runEngineBench(log, engineCases())],
  ['Schedulers (decisions per second, rr = baseline)', () => runSchedBench()],
  ['Flood soak (the whole simulation: generators, engine, timers)', () => runSoakBench()],
  ['Capture replay (packets per second: reading the file alone vs replaying into the engine)', () => runReplayBench(log)],
  ['Live UI (chart adapter, a 140x45 frame over 1M entries, keypress latency during a flood)', runUiBenchChild],
];

/** `--engine-cases syn,established`: only those engine cases (bench/engine.ts, ENGINE_CASES). */
function engineCases(): readonly EngineCase[] {
  const k = process.argv.indexOf('--engine-cases');
  if (k < 0) return ENGINE_CASES;
  const names = (process.argv[k + 1] ?? '').split(',');
  const bad = names.filter((n) => !(ENGINE_CASES as readonly string[]).includes(n));
  if (bad.length) throw new Error(`unknown engine case(s) ${bad.join(', ')}; known: ${ENGINE_CASES.join(', ')}`);
  return names as EngineCase[];
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : null;
const sections: BenchSection[] = [];
for (const [title, run] of benches) {
  if (only && !only.some((w) => title.toLowerCase().includes(w.toLowerCase()))) continue;
  log(`== ${title}`);
  try {
    sections.push({title, figures: await run()});
  } catch (err) {
    // one broken benchmark must not lose the others' figures: the report says which one failed
    log(`${title}: FAILED: ${(err as Error).message}`);
    sections.push({title: `${title} — FAILED in this run: ${(err as Error).message.split('\n')[0]}`, figures: []});
  }
}

const date = new Date().toISOString().slice(0, 10);
const machine = `${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
const load = os.loadavg()[0]!.toFixed(1);
const header = [
  '# Benchmarks',
  '',
  `Produced by \`npm run bench\` (node --expose-gc --import tsx bench/run.ts) on ${date}; machine: ${machine};`,
  `load average ${load} at the end of the run. Value is the median of the repeats, with min and max beside it.`,
  'A ratio is value ÷ the baseline named beside it, a figure measured in this same run; a target is a',
  'separate limit on the value or on that ratio, marked met or missed. The machine is shared and noisy:',
  'absolute times move with its load, ratios much less.',
];
// recorded sections: the 10-minute wall-clock soak of serve (bench/soak-ssh.ts), fuzzing
// (`npm run fuzz -- --record`, counts, no ratios), the real data plane (`npm run bench:dataplane`,
// root, the lab); then the notes
const dataplaneSection = (() => {
  try { return readFileSync(new URL('./dataplane-results.md', import.meta.url), 'utf8'); } catch { return ''; }
})();
const notes = [recordedSoakSection(), recordedSection(), dataplaneSection, readFileSync(new URL('./notes.md', import.meta.url), 'utf8')].filter(Boolean).join('\n');
const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1]! : 'BENCHMARKS.md';
writeFileSync(out, renderReport(sections, header, notes));
log(`wrote ${out}`);
