// A 10-minute virtual SYN flood (20k SYN/s against 256 MiB, defenses armed) beside normal
// clients: how fast it runs and the process's peak RSS, which must stay bounded.
import {performance} from 'node:perf_hooks';
import {buildDemo} from '../src/demo/default-config.js';
import {SECOND} from '../src/engine/constants.js';
import type {BenchFigure} from './common.js';

export async function runSoakBench(minutes = 10, rate = 20_000): Promise<BenchFigure[]> {
  const sim = buildDemo(5, {totalBytes: 256 * 2 ** 20, usedBytes: 200 * 2 ** 20});
  const flood = sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate});
  let peakRss = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let t = SECOND; t <= minutes * 60 * SECOND; t += SECOND) {
    sim.runUntil(t);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const wall = (performance.now() - t0) / 1000;
  const virt = minutes * 60;
  const e = sim.engine;
  const pkts = e.counters.packetsIn + e.counters.packetsOut;
  return [
    {figure: `soak: ${minutes} min virtual, ${rate} SYN/s + demo clients, defenses armed (virtual s per wall s)`,
      value: virt / wall, unit: 'x real time', baseline: 1, ratio: virt / wall},
    {figure: 'soak: packets per wall second through the full path', value: pkts / wall, unit: 'pkts/s', baseline: flood.stats.sessions / wall, ratio: pkts / flood.stats.sessions},
    {figure: 'soak: peak RSS of the process', value: peakRss / 2 ** 20, unit: 'MiB', baseline: 256, ratio: peakRss / 2 ** 20 / 256,
      target: 'bounded (simulated host: 256 MiB)'},
    {figure: 'soak: entries dropped by drop_entry, per entry left at the end', unit: 'entries',
      value: [...e.counters.dropEntry.values()].reduce((a, b) => a + b, 0), baseline: e.conns.count,
      ratio: [...e.counters.dropEntry.values()].reduce((a, b) => a + b, 0) / e.conns.count},
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runSoakBench()) console.log(f.figure, f.value.toFixed(1), f.unit);
}
