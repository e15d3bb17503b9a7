// Shared benchmark plumbing: repeated timed runs reported as min/median/max, and the figure rows
// written to BENCHMARKS.md. Ratios are only ever taken against a figure measured in the same run,
// because these machines are shared and noisy.
import {performance} from 'node:perf_hooks';

/**
 * One row of BENCHMARKS.md. A ratio exists only where `baseline` names another figure measured in
 * the same run (bench/run.ts resolves it and computes value ÷ baseline); a target is a separate
 * limit on the value or on that ratio, reported as met or missed. Constants are never baselines.
 */
export interface BenchFigure {
  /** Short stable key other figures use as their `baseline`. */
  id?: string;
  figure: string;
  value: number;
  unit: string;
  /** Spread of the repeats (value is their median). */
  min?: number;
  max?: number;
  /** The id of the figure this one is divided by (same unit, same run). */
  baseline?: string;
  target?: BenchTarget;
}

export interface BenchTarget {
  /** What the limit applies to: the figure's value (in its unit) or its ratio to the baseline. */
  of: 'value' | 'ratio';
  op: '<' | '<=' | '>=' | '>';
  limit: number;
  /** Why this limit, shown beside it. */
  why?: string;
}

export function meets(t: BenchTarget, x: number): boolean {
  switch (t.op) {
    case '<': return x < t.limit;
    case '<=': return x <= t.limit;
    case '>=': return x >= t.limit;
    case '>': return x > t.limit;
  }
}

/** A figure from a spread of repeats. */
export function spreadFigure(figure: string, s: Spread, unit: string, extra: Partial<BenchFigure> = {}): BenchFigure {
  return {figure, value: s.median, min: s.min, max: s.max, unit, ...extra};
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

/**
 * JS heap plus memory outside it (typed arrays live there); `external` already includes arrayBuffers.
 * After a collection V8 releases dead ArrayBuffers' memory on a background sweep, so `external`
 * drops a little later: read again, a macrotask apart, until two readings agree. Read at once, a
 * figure taken after other engines were dropped counted their buffers as still in use.
 */
export async function memoryInUse(): Promise<number> {
  let last = -1;
  for (let k = 0; k < 20; k++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    const m = process.memoryUsage();
    const now = m.heapUsed + m.external;
    if (now === last) return now;
    last = now;
  }
  return last;
}
