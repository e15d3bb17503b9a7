// Start-up time of the shipped binary (bin/lvsdeck.js running the compiled dist/) against a bare
// `node -e 0` measured in the same rounds, and the same command run from the TypeScript source
// through tsx (how bin/ ran before the compiled build). Commands are interleaved round by round so
// that load changes on the shared machine hit every row alike.
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {performance} from 'node:perf_hooks';
import buildDist from './build-dist.js';
import {type BenchFigure, spread} from './common.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/lvsdeck.js');
const ROUNDS = 21;

function run(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, {cwd: ROOT, encoding: 'utf8', env: {...process.env, ...env}});
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
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
    const rows: {id?: string; figure: string; args: string[]; baseline?: string; target?: BenchFigure['target']}[] = [
      {id: 'node-bare', figure: 'node -e 0 (baseline)', args: ['-e', '0']},
      {figure: 'lvsdeck --help', args: [BIN, '--help'], baseline: 'node-bare', target: {of: 'value', op: '<=', limit: 150}},
      {figure: 'lvsdeck demo --help', args: [BIN, 'demo', '--help'], baseline: 'node-bare', target: {of: 'value', op: '<=', limit: 150}},
      {figure: 'lvsdeck ipvsadm -Ln on a state file', args: [BIN, 'ipvsadm', '--state', state, '-Ln'], baseline: 'node-bare',
        target: {of: 'value', op: '<=', limit: 120}},
      {figure: 'ipvsadm -Ln from the TypeScript source through tsx (before the compiled build)',
        args: [...fromSource, 'ipvsadm', '--state', state, '-Ln'], baseline: 'node-bare'},
      {figure: '--help from the TypeScript source through tsx (before the compiled build)', args: [...fromSource, '--help'], baseline: 'node-bare'},
    ];
    const times = rows.map(() => [] as number[]);
    for (const r of rows) run(r.args); // warm the file cache once
    for (let round = 0; round < ROUNDS; round++) rows.forEach((r, i) => times[i]!.push(run(r.args)));
    return rows.map((r, i) => {
      const s = spread(times[i]!);
      log(`${r.figure}: median ${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`);
      const f: BenchFigure = {figure: r.figure, value: s.median, min: s.min, max: s.max, unit: 'ms'};
      if (r.id) f.id = r.id;
      if (r.baseline) f.baseline = r.baseline;
      if (r.target) f.target = r.target;
      return f;
    });
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStartupBench((s) => console.log(s));
}
