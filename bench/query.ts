// The UI's window queries over a million entries (issues #12, #15: a Connections frame in 8 ms):
// one 40-row page, filtered and sorted, against one plain pass over a million typed-array values
// measured in the same rounds. `npm run bench -- --only engine --engine-cases query` runs them alone.
import {performance} from 'node:perf_hooks';
import type {ConnQuery} from '../src/engine/conn-query.js';
import type {Engine} from '../src/engine/engine.js';
import {type BenchFigure, type Spread, spread, spreadFigure} from './common.js';

const M = 1_000_000;
/** Rounds of every case in turn, so the baseline and the queries see the same load. */
const ROUNDS = 11;

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
  const times: number[][] = runs.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    runs.forEach((run, k) => {
      const t0 = performance.now();
      run();
      times[k]!.push(performance.now() - t0);
    });
  }
  const spreads: Spread[] = times.map(spread);
  const out: BenchFigure[] = [spreadFigure('one pass over 1M typed-array values, keeping the minimum (baseline)',
    spreads[0]!, 'ms', {id: 'scan-1m'})];
  list.forEach((c, k) => {
    const s = spreads[k + 1]!;
    log(`${c.figure}: ${s.median.toFixed(2)} ms (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})`);
    out.push(spreadFigure(c.figure, s, 'ms', {baseline: 'scan-1m',
      ...(c.limit ? {target: {of: 'value', op: '<', limit: c.limit}} : {})}));
  });
  log(`baseline: ${spreads[0]!.median.toFixed(2)} ms`);
  void sink;
  return out;
}
