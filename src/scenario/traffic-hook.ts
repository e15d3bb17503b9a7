// The seam between scenario runs and traffic generators (attack generators, recorded captures,
// timed events), which live outside this module. A scenario's `traffic:` and `events:` entries
// are handed, unchanged and with their file positions, to a registered TrafficHook, which turns
// them into drivers that the runner merges with the scenario's own packets, sessions and actions
// on virtual time.
//
// Registration: call registerTrafficHook(hook), or ship src/traffic/index.ts exporting
// `trafficHook: TrafficHook`; the runner imports that module on demand when a scenario has
// traffic/events entries. Without a hook such a scenario fails with "traffic generators not
// available".
import type {Engine} from '../engine/engine.js';
import type {Rng} from '../engine/rng.js';
import type {Packet, Verdict} from '../engine/types.js';
import type {Pos, TrafficEntry} from './types.js';

export type {TrafficEntry} from './types.js';

export interface TrafficContext {
  engine: Engine;
  /** The scenario seed (derive per-generator seeds from it for determinism). */
  seed: number;
  /** A seeded random source dedicated to traffic (independent of the engine's). */
  rng: Rng;
  /** Virtual start time (ms, normally 0) and the run's end (ms) or null when it has none. */
  startMs: number;
  endMs: number | null;
  /**
   * Feed one packet through the runner: it is handed to engine.inbound/outbound, traced with
   * `tag` when --trace or --packets is on, and its verdict returned (a reused object: copy what
   * you keep). Generators may call the engine directly instead when they need no tracing.
   */
  send(dir: 'in' | 'out', packet: Packet, tag: string): Verdict;
  /** Add a free-form line to the trace (no-op when tracing is off). */
  note(tag: string, text: string): void;
  /** An error pointing at a position of the scenario file. */
  error(message: string, pos?: Pos): Error;
}

/** An event source on virtual time, merged by the runner with everything else in time order. */
export interface TrafficDriver {
  /** Virtual time (ms) of the next event, Infinity when none is left. */
  nextTime(): number;
  /** Run the next event; the engine has been ticked to `now` (== nextTime()). */
  fire(engine: Engine, now: number): void;
  /** Optional summary for the JSON output (plain data). */
  summary?(): unknown;
}

export type TrafficHook = (entries: readonly TrafficEntry[], ctx: TrafficContext) => TrafficDriver[];

let hook: TrafficHook | null = null;

export function registerTrafficHook(h: TrafficHook | null): void {
  hook = h;
}

export function getTrafficHook(): TrafficHook | null {
  return hook;
}

/**
 * Find the traffic module if it is installed (src/traffic/index.ts exporting `trafficHook`).
 * Returns the registered hook or null.
 */
export async function loadTrafficHook(): Promise<TrafficHook | null> {
  if (hook) return hook;
  const spec = '../traffic/index.js';
  try {
    const mod = (await import(spec)) as {trafficHook?: unknown};
    if (typeof mod.trafficHook === 'function' && !hook) hook = mod.trafficHook as TrafficHook;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      /traffic[\\/]index/.test(String((err as Error).message));
    if (!missing) throw err;
  }
  return hook;
}
