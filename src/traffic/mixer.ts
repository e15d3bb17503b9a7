// Merges every generator's events in time order and feeds the engine, which is ticked to each
// event's time first so timers (expiry, defense, estimator) interleave exactly with packets.
import type {Engine} from '../engine/engine.js';
import {formatAddr, parseAddrPort} from '../engine/addr.js';
import {Generator, GeneratorError, type GeneratorSpec} from './generators.js';

export interface GeneratorInfo {
  id: string;
  spec: GeneratorSpec;
  running: boolean;
  inFlight: number;
  stats: Generator['stats'];
}

export class TrafficMixer {
  private gens: Generator[] = [];
  private nextId = 1;
  /** Real servers that stopped answering ("addr|port"): their sessions get no replies. */
  private readonly failed = new Set<string>();

  constructor(private readonly engine: Engine, private readonly seed: number) {}

  add(spec: GeneratorSpec, id?: string): Generator {
    const gid = id ?? `${spec.kind}-${this.nextId++}`;
    if (this.gens.some((g) => g.id === gid)) throw new GeneratorError(`generator ${gid} already exists`);
    // Derive a per-generator seed so adding one generator does not change another's stream.
    const seed = (this.seed * 1_000_003 + this.gens.length * 7919 + gid.length) >>> 0;
    const g = new Generator(gid, {...spec}, seed, this.engine.now, this.failed);
    this.gens.push(g);
    return g;
  }

  get(id: string): Generator {
    const g = this.gens.find((x) => x.id === id);
    if (!g) throw new GeneratorError(`no generator ${id}`);
    return g;
  }

  remove(id: string): void {
    this.get(id);
    this.gens = this.gens.filter((g) => g.id !== id);
  }

  list(): GeneratorInfo[] {
    return this.gens.map((g) => ({id: g.id, spec: g.spec, running: g.running, inFlight: g.inFlight, stats: g.stats}));
  }

  /** Mark a real server as dead (no replies) or alive again. */
  setServerFailed(rs: string, failed: boolean): void {
    const ap = parseAddrPort(rs);
    if (!ap) throw new GeneratorError(`bad server '${rs}' (want ADDR:PORT)`);
    const key = `${ap.addr}|${ap.port}`;
    if (failed) this.failed.add(key);
    else this.failed.delete(key);
  }

  failedServers(): string[] {
    return [...this.failed].map((k) => {
      const [a, p] = k.split('|');
      const n = Number(a);
      return `${Number.isNaN(n) ? a : formatAddr(n)}:${p}`;
    });
  }

  /**
   * Run every event up to `to` (ms). Returns the number of events processed; stops early (and
   * leaves the rest for the next call) after maxEvents so one frame cannot stall the UI.
   */
  advance(to: number, maxEvents = Infinity): number {
    const e = this.engine;
    let n = 0;
    for (;;) {
      let best: Generator | null = null;
      let bt = Infinity;
      for (const g of this.gens) {
        const t = g.nextTime();
        if (t < bt) { bt = t; best = g; }
      }
      if (!best || bt > to || n >= maxEvents) break;
      if (bt > e.now) e.tick(bt);
      best.fire(e, Math.max(bt, e.now));
      n++;
    }
    if (n < maxEvents) e.tick(to);
    return n;
  }
}
