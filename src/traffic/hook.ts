// The seam between scenario runs and traffic generators: a scenario's `traffic:` and `events:`
// entries are handed, unchanged and with their file positions, to a TrafficHook that turns them
// into drivers the scenario runner merges with everything else on virtual time. The types live
// here, below the scenario layer, so generators implement them without importing the runner.
import type {Engine} from '../engine/engine.js';
import type {Rng} from '../engine/rng.js';
import type {Packet, Verdict} from '../engine/types.js';

/** A position in a scenario file (1-based line and column). */
export interface Pos {
  line: number;
  col: number;
}

/** An entry of `traffic:` or `events:`, handed unchanged to the traffic hook. */
export interface TrafficEntry {
  key: 'traffic' | 'events';
  index: number;
  /** The entry as plain data (YAML converted to JS). */
  spec: unknown;
  pos: Pos;
  /** Positions of the entry's own keys (for errors pointing at a field). */
  keyPos: Record<string, Pos>;
}

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
