// The fuzz harness's core, shared by `npm run fuzz` (bench/fuzz/run.ts, one worker thread per
// target with a watchdog) and the smoke test in `npm test` (in-process, a few thousand cases).
// Every case gets its own generator, derived from (seed, target name, case index), so any case
// replays alone: `npm run fuzz -- --target NAME --seed S --case K`.
import {readdirSync} from 'node:fs';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {seededRng} from '../../src/engine/rng.js';

/** What a file in bench/fuzz/targets/ exports by default. */
export interface FuzzTarget {
  name: string;
  /**
   * One case: build an input from rng and feed it to the parser or entry point. Returning (or
   * resolving) means the input was handled; throwing anything else than an instance of one of
   * `expectedErrors` (the parser's documented error classes) is a crash.
   */
  run(rng: () => number, caseIndex: number): void | Promise<void>;
  /**
   * A case running longer than this is a hang, when more than the harness's default (2 s): a target
   * whose cases draw a UI on a shared machine. Set on `npm run fuzz --case-limit-ms` wins.
   */
  caseLimitMs?: number;
  /** Cases in the smoke run of `npm test` when fewer than the default (a target whose cases are costly). */
  smokeCases?: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  expectedErrors?: ReadonlyArray<abstract new (...args: any[]) => Error>;
}

export interface FuzzFailure {
  target: string;
  seed: number;
  caseIndex: number;
  kind: 'crash' | 'hang' | 'memory';
  message: string;
  stack?: string;
}

export interface WorkerJob {
  file: string;
  seed: number;
  from: number;
  to: number;
  /** Wall-clock ms (Date.now) after which no case is started (Infinity: none). */
  deadline: number;
  /** Int32 [current case, cases done], Float64 [case start ms] */
  progress: SharedArrayBuffer;
}

export type WorkerMessage =
  | {type: 'failure'; failure: FuzzFailure}
  | {type: 'done'; next: number; peakHeapBytes: number; peakRssBytes: number};

export const PROGRESS_BYTES = 16;

/** 32-bit FNV-1a of a string: mixes the target name into the per-case seed. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The case's generator: the engine's seeded generator, keyed by (seed, target, case index); floats in [0, 1). */
export function caseRng(seed: number, target: string, caseIndex: number): () => number {
  return seededRng((seed ^ fnv1a(target) ^ Math.imul(caseIndex + 1, 0x85ebca6b)) >>> 0).float;
}

export function isExpected(target: FuzzTarget, err: unknown): boolean {
  return (target.expectedErrors ?? []).some((cls) => err instanceof cls);
}

/** Run one case; a crash is returned, an expected error is not. Synchronous targets stay synchronous. */
export function runCase(target: FuzzTarget, seed: number, caseIndex: number): FuzzFailure | null | Promise<FuzzFailure | null> {
  const fail = (err: unknown): FuzzFailure | null => isExpected(target, err) ? null : {
    target: target.name, seed, caseIndex, kind: 'crash',
    message: err instanceof Error ? `${err.name}: ${err.message}` : `thrown non-error: ${String(err)}`,
    ...(err instanceof Error && err.stack ? {stack: err.stack} : {}),
  };
  try {
    const r = target.run(caseRng(seed, target.name, caseIndex), caseIndex);
    if (r && typeof (r as Promise<void>).then === 'function') return (r as Promise<void>).then(() => null, fail);
    return null;
  } catch (err) {
    return fail(err);
  }
}

export function replayHint(f: Pick<FuzzFailure, 'target' | 'seed' | 'caseIndex'>): string {
  return `npm run fuzz -- --target ${f.target} --seed ${f.seed} --case ${f.caseIndex}`;
}

export const TARGETS_DIR = fileURLToPath(new URL('./targets/', import.meta.url));

export function targetFiles(): string[] {
  return readdirSync(TARGETS_DIR).filter((f) => f.endsWith('.ts')).sort();
}

export async function loadTarget(file: string): Promise<FuzzTarget> {
  const mod = await import(pathToFileURL(`${TARGETS_DIR}${file}`).href) as {default?: FuzzTarget};
  const t = mod.default;
  if (!t || typeof t.name !== 'string' || typeof t.run !== 'function') {
    throw new Error(`bench/fuzz/targets/${file}: the default export must be {name, run(rng, caseIndex)}`);
  }
  return t;
}

export interface SmokeOptions {
  seed: number;
  /** Cases [from, cases) are run (from: 0 unless given). */
  cases: number;
  from?: number;
  /** A case slower than this counts as a hang (measured after the fact: the in-process run cannot interrupt). */
  caseLimitMs: number;
}

/** In-process run of `cases` cases (for the test suite); stops at the first failure. */
export async function smokeRun(target: FuzzTarget, o: SmokeOptions): Promise<{failures: FuzzFailure[]; slowestMs: number}> {
  let slowestMs = 0;
  for (let k = o.from ?? 0; k < o.cases; k++) {
    const t0 = performance.now();
    let f = runCase(target, o.seed, k);
    if (f instanceof Promise) {
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<FuzzFailure>((resolve) => {
        timer = setTimeout(() => resolve({target: target.name, seed: o.seed, caseIndex: k, kind: 'hang', message: `no result after ${o.caseLimitMs} ms`}), o.caseLimitMs);
      });
      f = await Promise.race([f, hang]);
      clearTimeout(timer);
    }
    const ms = performance.now() - t0;
    slowestMs = Math.max(slowestMs, ms);
    if (!f && ms > o.caseLimitMs) f = {target: target.name, seed: o.seed, caseIndex: k, kind: 'hang', message: `case took ${ms.toFixed(0)} ms (limit ${o.caseLimitMs} ms)`};
    if (f) return {failures: [f], slowestMs};
  }
  return {failures: [], slowestMs};
}
