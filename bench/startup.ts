// Start-up time of the shipped binary (bin/lvsdeck.js running the compiled dist/) against a bare
// `node -e 0` measured in the same rounds, and the same command run from the TypeScript source
// through tsx (how bin/ ran before the compiled build). Commands are interleaved round by round so
// that load changes on the shared machine hit every row alike; the CPU time of each child is
// reported beside the wall time, because on a crowded machine wall time mostly measures the queue.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {performance} from 'node:perf_hooks';
import buildDist from './build-dist.js';
import {type BenchFigure, spread} from './common.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/lvsdeck.js');
const ROUNDS = Number(process.env.BENCH_STARTUP_ROUNDS) || 21;

/** GNU time, for the child's CPU time: on a machine shared by many jobs wall time mostly measures the queue. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function run(args: string[], cpuFile?: string, env: NodeJS.ProcessEnv = process.env): {wall: number; cpu: number | null} {
  const t0 = performance.now();
  const r = GNU_TIME && cpuFile
    ? spawnSync(GNU_TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, ...args], {cwd: ROOT, encoding: 'utf8', env})
    : spawnSync(process.execPath, args, {cwd: ROOT, encoding: 'utf8', env});
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  let cpu: number | null = null;
  if (GNU_TIME && cpuFile) {
    const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number);
    cpu = ((user ?? NaN) + (sys ?? NaN)) * 1000;
  }
  return {wall, cpu};
}

export async function runStartupBench(log: (s: string) => void = () => {}): Promise<BenchFigure[]> {
  buildDist();
  const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-startup-'));
  const state = join(dir, 'state.json');
  try {
    for (const cmd of [['-A', '-t', '10.0.0.1:80', '-s', 'wlc'], ['-a', '-t', '10.0.0.1:80', '-r', '10.1.0.11:8080', '-m', '-w', '3'],
      ['-a', '-t', '10.0.0.1:80', '-r', '10.1.0.12:8080', '-m', '-w', '2'], ['-A', '-u', '10.0.0.3:53', '-s', 'rr'],
      ['-a', '-u', '10.0.0.3:53', '-r', '10.1.0.31:53', '-m']]) {
      run([BIN, 'ipvsadm', '--state', state, ...cmd]);
    }
    const fromSource = ['--import', 'tsx', '--input-type=module', '-e',
      "const {main} = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));"];
    // every row is compared with a bare node measured in the same rounds; the goals (issue 15) are
    // medians of wall time, and the same limits are checked on CPU time, which a crowded machine's
    // run queue does not inflate
    const rows: {id?: string; figure: string; args: string[]; env?: NodeJS.ProcessEnv; baseline?: string; target?: BenchFigure['target']}[] = [
      {id: 'node-bare', figure: 'node -e 0 (baseline)', args: ['-e', '0']},
      {figure: 'lvsdeck --help', args: [BIN, '--help'], baseline: 'node-bare', target: {of: 'value', op: '<=', limit: 150}},
      {figure: 'lvsdeck demo --help', args: [BIN, 'demo', '--help'], baseline: 'node-bare', target: {of: 'value', op: '<=', limit: 150}},
      {figure: 'lvsdeck ipvsadm -Ln on a state file', args: [BIN, 'ipvsadm', '--state', state, '-Ln'], baseline: 'node-bare',
        target: {of: 'value', op: '<=', limit: 120}},
      {figure: 'lvsdeck ipvsadm -Ln, the compiled modules one by one (before the bundle; LVSDECK_UNBUNDLED=1)',
        args: [BIN, 'ipvsadm', '--state', state, '-Ln'], env: {...process.env, LVSDECK_UNBUNDLED: '1'}, baseline: 'node-bare',
        target: {of: 'value', op: '<=', limit: 120}},
      {figure: 'ipvsadm -Ln from the TypeScript source through tsx (before the compiled build)',
        args: [...fromSource, 'ipvsadm', '--state', state, '-Ln'], baseline: 'node-bare', target: {of: 'value', op: '<=', limit: 120}},
      {figure: '--help from the TypeScript source through tsx (before the compiled build)', args: [...fromSource, '--help'], baseline: 'node-bare',
        target: {of: 'value', op: '<=', limit: 150}},
    ];
    const wall = rows.map(() => [] as number[]);
    const cpu = rows.map(() => [] as number[]);
    const cpuFile = join(dir, 'cpu.txt');
    for (const r of rows) run(r.args, undefined, r.env); // warm the file cache once
    for (let round = 0; round < ROUNDS; round++) {
      rows.forEach((r, i) => {
        const m = run(r.args, cpuFile, r.env);
        wall[i]!.push(m.wall);
        if (m.cpu !== null) cpu[i]!.push(m.cpu);
      });
    }
    const figures: BenchFigure[] = [];
    const add = (r: (typeof rows)[number], xs: number[], kind: 'wall' | 'cpu') => {
      const s = spread(xs);
      const figure = kind === 'wall' ? r.figure : `${r.figure}: CPU time (user + system)`;
      log(`${figure}: median ${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`);
      const f: BenchFigure = {figure, value: s.median, min: s.min, max: s.max, unit: 'ms'};
      if (r.id) f.id = kind === 'wall' ? r.id : `${r.id}-cpu`;
      if (r.baseline) f.baseline = kind === 'wall' ? r.baseline : `${r.baseline}-cpu`;
      if (r.target) f.target = kind === 'wall' ? r.target : {...r.target, why: 'the goal, on CPU time'};
      figures.push(f);
    };
    rows.forEach((r, i) => add(r, wall[i]!, 'wall'));
    if (GNU_TIME) rows.forEach((r, i) => add(r, cpu[i]!, 'cpu'));
    return figures;
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStartupBench((s) => console.log(s));
}
