// A simulation: one engine, its traffic, and scheduled actions on virtual time. This is the
// narrow object the UI, the demo and the scenario runner drive.
import {Engine, type EngineOptions} from '../engine/engine.js';
import {TimeHeap} from '../traffic/heap.js';
import type {GeneratorSpec} from '../traffic/generators.js';
import {TrafficMixer} from '../traffic/mixer.js';
import type {SyncManager} from '../sync/manager.js';

export interface SimulationOptions extends EngineOptions {
  seed?: number;
}

export class Simulation {
  readonly engine: Engine;
  /** The process's sync daemons, when a host attached them (stats for the UI). */
  sync: SyncManager | null = null;
  readonly traffic: TrafficMixer;
  private readonly actions = new TimeHeap<(sim: Simulation) => void>();
  /** Called after every advance with the new virtual time (a sync manager polls here). */
  private readonly afterAdvance: ((now: number) => void)[] = [];

  constructor(opts: SimulationOptions = {}) {
    this.engine = new Engine(opts);
    this.traffic = new TrafficMixer(this.engine, opts.seed ?? 1);
  }

  get now(): number {
    return this.engine.now;
  }

  /** Run `fn` when virtual time reaches `at` (ms). */
  at(at: number, fn: (sim: Simulation) => void): void {
    this.actions.push(at, fn);
  }

  onAdvance(fn: (now: number) => void): void {
    this.afterAdvance.push(fn);
  }

  addTraffic(spec: GeneratorSpec, id?: string) {
    return this.traffic.add(spec, id);
  }

  /**
   * Advance virtual time to `to` (ms): traffic, timers and scheduled actions in time order.
   * With maxEvents, stops early once that many traffic events ran; returns whether `to` was reached.
   */
  runUntil(to: number, maxEvents = Infinity): boolean {
    const reached = this.run(to, maxEvents);
    for (const fn of this.afterAdvance) fn(this.engine.now);
    return reached;
  }

  private run(to: number, maxEvents: number): boolean {
    let budget = maxEvents;
    while (this.actions.peekTime() <= to) {
      const t = this.actions.peekTime();
      budget -= this.traffic.advance(t, budget);
      if (budget <= 0) return false;
      this.engine.tick(Math.max(t, this.engine.now));
      this.actions.pop()!(this);
    }
    budget -= this.traffic.advance(to, budget);
    return budget > 0 || this.engine.now >= to;
  }

  advance(ms: number, maxEvents = Infinity): boolean {
    return this.runUntil(this.engine.now + ms, maxEvents);
  }
}
