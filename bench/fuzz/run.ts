// `npm run fuzz`: every target in bench/fuzz/targets/ (or --target NAME), --cases N each (default
// 1,000,000), seeded (--seed S, default 1). Each target runs in a worker thread: a watchdog
// terminates a case that runs longer than --case-limit-ms (a hang), the worker's old-generation
// heap is capped at --max-heap-mb (out of memory = a failure); after either, the run resumes at
// the next case. Failures print the command that replays the case in-process with its stack:
//   npm run fuzz -- --target NAME --seed S --case K
// --max-seconds S stops a target after S seconds of wall time; its figures are the cases run by then.
// --record merges the figures into bench/fuzz/results.json and rewrites BENCHMARKS.md's fuzzing section.
import {Worker} from 'node:worker_threads';
import {
  type FuzzFailure, type FuzzTarget, PROGRESS_BYTES, type WorkerJob, type WorkerMessage, loadTarget, replayHint, runCase, targetFiles,
} from './harness.js';
import {type RecordedResult, mergeResults, renderResults, updateBenchmarks} from './results.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function intOption(name: string, dflt: number): number {
  const v = option(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    log(`fuzz: --${name} needs a non-negative integer, got '${v}'`);
    process.exit(2);
  }
  return n;
}

const seed = intOption('seed', 1);
const cases = intOption('cases', 1_000_000);
const caseLimitOption = option('case-limit-ms') === undefined ? undefined : intOption('case-limit-ms', 2_000);
let caseLimitMs = 2_000;
const maxHeapMb = intOption('max-heap-mb', 512);
const maxSeconds = intOption('max-seconds', 0);
const only = option('target');
const record = process.argv.includes('--record');
const MAX_REPORTED = 20;

interface TargetResult {
  name: string;
  cases: number;
  crashes: number;
  hangs: number;
  memory: number;
  /** Cases over the limit once that finished in time when run again alone. */
  stalls: number;
  seconds: number;
  peakHeapMb: number;
  peakRssMb: number;
  caseLimitMs: number;
  failures: FuzzFailure[];
}

async function replay(target: FuzzTarget, k: number): Promise<number> {
  let f = runCase(target, seed, k);
  if (f instanceof Promise) f = await f;
  if (!f) {
    log(`${target.name} seed ${seed} case ${k}: handled (no crash)`);
    return 0;
  }
  log(`${target.name} seed ${seed} case ${k}: ${f.message}\n${f.stack ?? ''}`);
  return 1;
}

type SliceEnd = {next: number; lost?: {kind: 'hang' | 'memory'; caseIndex: number; message: string}};

/** One worker over cases [from, to); ends at `to`, or at the case that hung or ran out of memory. */
function runSlice(file: string, name: string, from: number, to: number, deadline: number, res: TargetResult): Promise<SliceEnd> {
  const progress = new SharedArrayBuffer(PROGRESS_BYTES);
  const ints = new Int32Array(progress, 0, 2);
  const started = new Float64Array(progress, 8, 1);
  const job: WorkerJob = {file, seed, from, to, deadline, progress};
  // tsx's loader must be registered inside the worker before the TypeScript entry is imported
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })`;
  const w = new Worker(boot, {eval: true, workerData: job, resourceLimits: {maxOldGenerationSizeMb: maxHeapMb}});
  return new Promise((resolve) => {
    let settled = false;
    const finish = (end: SliceEnd) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve(end);
    };
    const lost = (kind: 'hang' | 'memory', message: string): SliceEnd => {
      const k = Atomics.load(ints, 0);
      return {next: k + 1, lost: {kind, caseIndex: k, message}};
    };
    const watchdog = setInterval(() => {
      const t = started[0]!;
      if (!settled && t > 0 && Date.now() - t > caseLimitMs) {
        finish(lost('hang', `case still running after ${caseLimitMs} ms`));
        void w.terminate();
      }
    }, Math.min(250, caseLimitMs));
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'failure') {
        res.crashes++;
        if (res.failures.length < MAX_REPORTED) {
          res.failures.push(m.failure);
          log(`FAIL crash ${name} case ${m.failure.caseIndex}: ${m.failure.message}\n  replay: ${replayHint(m.failure)}`);
        }
      } else {
        res.peakHeapMb = Math.max(res.peakHeapMb, m.peakHeapBytes / 2 ** 20);
        res.peakRssMb = Math.max(res.peakRssMb, m.peakRssBytes / 2 ** 20);
        finish({next: m.next});
      }
    });
    w.on('error', (err: Error & {code?: string}) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') finish(lost('memory', `heap over ${maxHeapMb} MiB`));
      else if (started[0] === 0) {
        log(`fuzz: the worker for ${name} did not start: ${err.stack ?? err.message}`);
        process.exit(2);
      } else finish(lost('hang', `worker error: ${err.message}`));
    });
    w.on('exit', () => finish({next: Math.max(from + Atomics.load(ints, 1), Atomics.load(ints, 0) + 1)}));
  });
}

async function fuzzTarget(file: string, name: string): Promise<TargetResult> {
  const res: TargetResult = {name, cases, crashes: 0, hangs: 0, memory: 0, stalls: 0, seconds: 0, peakHeapMb: 0, peakRssMb: 0, caseLimitMs, failures: []};
  const t0 = performance.now();
  // --max-seconds: the cases run by then are the target's count (a shared machine cannot promise a rate)
  const deadline = maxSeconds > 0 ? Date.now() + maxSeconds * 1000 : Infinity;
  let next = 0;
  while (next < cases && Date.now() < deadline) {
    const end = await runSlice(file, name, next, cases, deadline, res);
    next = end.next;
    if (!end.lost) continue;
    // a shared machine can stall a process for seconds: a hang counts only if the case, run again
    // alone in a fresh worker, hangs (or runs out of memory) again
    const again = await runSlice(file, name, end.lost.caseIndex, end.lost.caseIndex + 1, Infinity, res);
    const f: FuzzFailure = {target: name, seed, caseIndex: end.lost.caseIndex, kind: end.lost.kind, message: end.lost.message};
    if (again.lost) {
      res[f.kind === 'hang' ? 'hangs' : 'memory']++;
      res.failures.push(f);
      log(`FAIL ${f.kind} ${name} case ${f.caseIndex}: ${f.message} (twice)\n  replay: ${replayHint(f)}`);
    } else {
      res.stalls++;
      log(`stall ${name} case ${f.caseIndex}: ${f.message} once, not when run again alone (machine load)`);
    }
  }
  res.cases = Math.min(next, cases);
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}

// the UI runs React's production build (ui-cmd.ts, serve-cmd.ts); the workers inherit this
process.env.NODE_ENV ??= 'production';
const files = targetFiles();
const chosen: {file: string; target: FuzzTarget}[] = [];
for (const file of files) {
  const target = await loadTarget(file);
  if (!only || target.name === only) chosen.push({file, target});
}
if (chosen.length === 0) {
  log(`fuzz: no target ${only ? `named '${only}'` : 'in bench/fuzz/targets/'}; known: ${files.join(', ')}`);
  process.exit(2);
}
const replayCase = option('case');
if (replayCase !== undefined) {
  process.exit(await replay(chosen[0]!.target, intOption('case', 0)));
}
const results: TargetResult[] = [];
for (const {file, target} of chosen) {
  caseLimitMs = caseLimitOption ?? Math.max(2_000, target.caseLimitMs ?? 0);
  log(`== ${target.name}: ${cases} cases${maxSeconds ? ` or ${maxSeconds} s, whichever ends first` : ''}, seed ${seed}`);
  const r = await fuzzTarget(file, target.name);
  results.push(r);
  log(`   ${r.cases} cases: ${r.crashes} crashes, ${r.hangs} hangs, ${r.memory} out of memory, ${r.stalls} stalls not reproduced; ${Math.round(r.cases / r.seconds)} cases/s; peak heap ${r.peakHeapMb.toFixed(0)} MiB, peak RSS ${r.peakRssMb.toFixed(0)} MiB`);
}
if (record) {
  const date = new Date().toISOString().slice(0, 10);
  const section = renderResults(mergeResults(results.map((r): RecordedResult => ({
    name: r.name, cases: r.cases, seed, date, crashes: r.crashes, hangs: r.hangs, memory: r.memory, stalls: r.stalls,
    casesPerSecond: Math.round(r.cases / r.seconds), peakHeapMb: Math.round(r.peakHeapMb), peakRssMb: Math.round(r.peakRssMb), caseLimitMs: r.caseLimitMs, maxHeapMb,
  }))));
  updateBenchmarks(section);
  log('wrote bench/fuzz/results.json and the fuzzing section of BENCHMARKS.md');
}
process.exit(results.some((r) => r.crashes + r.hangs + r.memory > 0) ? 1 : 0);
