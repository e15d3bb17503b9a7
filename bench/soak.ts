// A 10-minute virtual SYN flood (20k SYN/s against 256 MiB, defenses armed) beside normal
// clients: how fast it runs against the same simulation without the flood, the packet rate
// against the bare engine path, and the process's peak RSS, which must stay bounded.
import {performance} from 'node:perf_hooks';
import {buildDemo} from '../src/demo/default-config.js';
import {SECOND} from '../src/engine/constants.js';
import type {BenchFigure} from './common.js';

const SOAK_MEMORY = {totalBytes: 256 * 2 ** 20, usedBytes: 200 * 2 ** 20};

function soak(minutes: number, rate: number) {
  const sim = buildDemo(5, SOAK_MEMORY);
  if (rate > 0) sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate});
  let peakRss = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let t = SECOND; t <= minutes * 60 * SECOND; t += SECOND) {
    sim.runUntil(t);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const wall = (performance.now() - t0) / 1000;
  const e = sim.engine;
  return {speed: (minutes * 60) / wall, pps: (e.counters.packetsIn + e.counters.packetsOut) / wall, peakRss,
    dropped: [...e.counters.dropEntry.values()].reduce((a, b) => a + b, 0)};
}

export async function runSoakBench(minutes = 10, rate = 20_000): Promise<BenchFigure[]> {
  const calm = soak(minutes, 0);
  const rssStart = process.memoryUsage().rss;
  const flood = soak(minutes, rate);
  return [
    {id: 'soak-calm', figure: `soak baseline: ${minutes} min virtual, demo clients only (virtual s per wall s)`, value: calm.speed, unit: 'x real time'},
    {figure: `soak: ${minutes} min virtual, ${rate} SYN/s + demo clients, defenses armed (virtual s per wall s)`,
      value: flood.speed, unit: 'x real time', baseline: 'soak-calm', target: {of: 'value', op: '>=', limit: 1, why: 'keeps up with real time'}},
    {figure: 'soak: packets per wall second through the whole simulation', value: flood.pps, unit: 'pkts/s', baseline: 'engine-syn'},
    {id: 'rss-start', figure: 'RSS of the process before the flood soak (baseline)', value: rssStart / 2 ** 20, unit: 'MiB'},
    {figure: 'soak: peak RSS of the process during the flood', value: flood.peakRss / 2 ** 20, unit: 'MiB', baseline: 'rss-start',
      target: {of: 'value', op: '<=', limit: 512, why: 'bounded; the simulated host has 256 MiB'}},
    {figure: 'soak: entries dropped by drop_entry during the flood', value: flood.dropped, unit: 'entries'},
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runSoakBench()) console.log(f.figure, f.value.toFixed(1), f.unit);
}
