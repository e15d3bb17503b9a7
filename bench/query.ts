// The UI's window queries over a million entries (issues #12, #15: a Connections frame in 8 ms):
// one 40-row page, filtered and sorted, against one plain pass over a million typed-array values
// measured in the same rounds. `npm run bench -- --only engine --engine-cases query` runs them alone.
import {performance} from 'node:perf_hooks';
import type {ConnQuery} from '../src/engine/conn-query.js';
import type {Engine} from '../src/engine/engine.js';
import {type BenchFigure, gc, type Spread, spread, spreadFigure} from './common.js';

const M = 1_000_000;
/** Rounds of every case in turn, so the baseline and the queries see the same load. */
const ROUNDS = 15;

interface QueryCase {
  figure: string;
  q: ConnQuery;
  /** The limit on one page (ms); none for the informative cases. */
  limit?: number;
}

function cases(e: Engine): QueryCase[] {
  const dest3 = e.snapshot().services[0]!.dests.find((d) => d.label === '10.1.0.3:80')!.id;
  return [
    {figure: 'query: 40 rows of 1M sorted by expiry', q: {sort: 'expires', desc: true, limit: 40}, limit: 8},
    {figure: 'query: 40 rows of 1M sorted by expiry, soonest first', q: {sort: 'expires', limit: 40}, limit: 8},
    {figure: 'query: 40 rows of 1M filtered by real server, sorted by client',
      q: {text: '10.1.0.3', sort: 'client', offset: 200, limit: 40}, limit: 8},
    {figure: 'query: 40 rows of 1M filtered by real server id (rs=), sorted by client',
      q: {destId: dest3, sort: 'client', offset: 200, limit: 40}, limit: 8},
    {figure: 'query: 40 rows of 1M filtered by state, sorted by client',
      q: {state: 'SYN_RECV', sort: 'client', offset: 200, limit: 40}, limit: 8},
    {figure: 'query: 40 rows of 1M filtered by state, sorted by client, descending',
      q: {state: 'SYN_RECV', sort: 'client', desc: true, offset: 200, limit: 40}, limit: 8},
    {figure: 'query: 40 rows of 1M at offset 100k, sorted by client (deep page)',
      q: {sort: 'client', offset: 100_000, limit: 40}},
  ];
}

/** The query figures over `e`, an engine holding a million SYN_RECV entries (bench/engine.ts). */
export function queryFigures(e: Engine, log: (s: string) => void = () => {}): BenchFigure[] {
  const column = new Float64Array(M).map((_, i) => (i * 7919) % M);
  let sink = 0;
  const baseline = () => {
    let m = Infinity;
    for (let i = 0; i < M; i++) if (column[i]! < m) m = column[i]!;
    sink += m;
  };
  const list = cases(e);
  const runs: (() => void)[] = [baseline, ...list.map((c) => () => { sink += e.queryConns(c.q).total; })];
  // wall time (the frame's budget) and the process's CPU time (this box is shared: a query's wall
  // time also counts the time other processes held the core)
  const wall: number[][] = runs.map(() => []), cpu: number[][] = runs.map(() => []);
  gc();
  for (let r = 0; r < ROUNDS; r++) {
    runs.forEach((run, k) => {
      const c0 = process.cpuUsage(), t0 = performance.now();
      run();
      wall[k]!.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[k]!.push((c.user + c.system) / 1000);
    });
  }
  const w: Spread[] = wall.map(spread), u: Spread[] = cpu.map(spread);
  const out: BenchFigure[] = [
    spreadFigure('one pass over 1M typed-array values, keeping the minimum (baseline)', w[0]!, 'ms', {id: 'scan-1m'}),
    spreadFigure('one pass over 1M typed-array values, keeping the minimum, CPU time (baseline)', u[0]!, 'ms', {id: 'scan-1m-cpu'}),
  ];
  list.forEach((c, k) => {
    log(`${c.figure}: ${w[k + 1]!.median.toFixed(2)} ms wall, ${u[k + 1]!.median.toFixed(2)} ms CPU`);
    out.push(spreadFigure(c.figure, w[k + 1]!, 'ms', {baseline: 'scan-1m',
      ...(c.limit ? {target: {of: 'value', op: '<', limit: c.limit}} : {})}));
    out.push(spreadFigure(`${c.figure}, CPU time`, u[k + 1]!, 'ms', {baseline: 'scan-1m-cpu'}));
  });
  log(`baseline: ${w[0]!.median.toFixed(2)} ms wall, ${u[0]!.median.toFixed(2)} ms CPU`);
  void sink;
  return out;
}
