// Scheduler throughput: decisions per second of each of the 14 schedulers on the same service
// (8 dests of varied weights, clients from a seeded generator, connection counts moving as an
// engine would: each decision opens an active connection, which later turns inactive and then
// expires). rr is the in-run baseline. Run: node --import tsx bench/sched.ts
import {performance} from 'node:perf_hooks';
import {seededRng} from '../src/engine/rng.js';
import type {BenchFigure} from './common.js';
import type {Dest, Packet} from '../src/engine/types.js';
import {SchedFixture, packet} from '../src/engine/sched/harness.js';


const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'dh', 'sh', 'mh', 'fo', 'ovf', 'twos', 'lblc', 'lblcr'];
const WEIGHTS = [5, 1, 3, 8, 2, 7, 4, 6];
const REPEATS = 5;
const REPEAT_MS = 200;
const BATCH = 1024;
/** Connections that stay active, then inactive, before expiring (ring sizes). */
const ACTIVE_RING = 512;
const INACTIVE_RING = 2048;

interface Rig {
  run(n: number): void;
}

function makeRig(name: string): Rig {
  const f = new SchedFixture(name, {seed: 7});
  WEIGHTS.forEach((w, i) => f.add(((10 << 24) | (1 << 8) | (i + 1)) >>> 0, {weight: w}));
  const rng = seededRng(42);
  const pkts: Packet[] = Array.from({length: 4096}, () => packet(rng.u32(), 1024 + (rng.u32() % 60000), '10.0.0.80'));
  const active: (Dest | null)[] = new Array<Dest | null>(ACTIVE_RING).fill(null);
  const inactive: (Dest | null)[] = new Array<Dest | null>(INACTIVE_RING).fill(null);
  let ai = 0, ii = 0, pi = 0;
  return {
    run(n) {
      for (let k = 0; k < n; k++) {
        const d = f.schedule(pkts[pi]!);
        pi = (pi + 1) & 4095;
        if (d === null) continue;
        d.activeConns++;
        const old = active[ai];
        active[ai] = d;
        ai = (ai + 1) % ACTIVE_RING;
        if (old) {
          old.activeConns--;
          old.inactConns++;
          const gone = inactive[ii];
          inactive[ii] = old;
          ii = (ii + 1) % INACTIVE_RING;
          if (gone) gone.inactConns--;
        }
      }
    },
  };
}

function measure(rig: Rig, ms: number): number {
  let count = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    rig.run(BATCH);
    count += BATCH;
    t = performance.now();
  }
  return (count * 1000) / (t - t0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

interface Row {
  name: string;
  runs: number[];
}

async function collect(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const name of SCHEDULERS) {
    const rig = makeRig(name);
    measure(rig, 50); // warm-up: let the JIT settle
    const runs: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      runs.push(measure(rig, REPEAT_MS));
      await new Promise((res) => setImmediate(res));
    }
    rows.push({name, runs});
  }
  return rows;
}

function figures(rows: Row[]): BenchFigure[] {
  return rows.map(({name, runs}) => {
    const sorted = [...runs].sort((a, b) => a - b);
    const f: BenchFigure = {figure: `sched.${name}.decisions${name === 'rr' ? ' (baseline)' : ''}`, value: median(runs),
      min: sorted[0], max: sorted[sorted.length - 1], unit: 'decisions/s'};
    if (name === 'rr') f.id = 'sched-rr';
    else f.baseline = 'sched-rr';
    return f;
  });
}

/** Median decisions per second of every scheduler, with rr's median as the baseline. */
export async function runSchedBench(): Promise<BenchFigure[]> {
  return figures(await collect());
}

async function main(): Promise<void> {
  const rows = await collect();
  const figs = figures(rows);
  const fmt = (x: number) => (x / 1e6).toFixed(2).padStart(7);
  console.log(`scheduler decisions per second (millions): ${REPEATS} repeats of ${REPEAT_MS} ms, 8 dests, baseline rr`);
  console.log('sched      min  median     max  ratio');
  rows.forEach((r, i) => {
    const sorted = [...r.runs].sort((a, b) => a - b);
    console.log(`${r.name.padEnd(6)}${fmt(sorted[0]!)} ${fmt(figs[i]!.value)} ${fmt(sorted[sorted.length - 1]!)}  ${(figs[i]!.value / figs[0]!.value).toFixed(2).padStart(5)}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
