// Shared benchmark plumbing: repeated timed runs reported as min/median/max, and the figure rows
// written to BENCHMARKS.md. Every throughput figure is paired with a baseline measured in the
// same run, because these machines are shared and noisy.
import {performance} from 'node:perf_hooks';

export interface BenchFigure {
  figure: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  /** Optional spread and target for the report. */
  min?: number;
  max?: number;
  target?: string;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return {min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]!};
}

/**
 * Run `setup` then time `body` (which processes `n` operations) `repeats` times; returns
 * operations per second for each repeat.
 */
export function opsPerSecond<T>(repeats: number, setup: () => T, body: (ctx: T) => number): Spread {
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const ctx = setup();
    const t0 = performance.now();
    const n = body(ctx);
    const dt = performance.now() - t0;
    rates.push((n / dt) * 1000);
  }
  return spread(rates);
}

/** Time one call in ms, `repeats` times. */
export function timeMs(repeats: number, fn: () => void): Spread {
  const xs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    fn();
    xs.push(performance.now() - t0);
  }
  return spread(xs);
}

export function gc(): void {
  const g = (globalThis as {gc?: () => void}).gc;
  if (g) { g(); g(); }
}

/** JS heap plus memory outside it (typed arrays live there); `external` already includes arrayBuffers. */
export function memoryInUse(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
