// The wall-clock loop of the live app: every tick maps the wall time elapsed to virtual time
// (times the speed factor) and runs the simulation up to there, in slices of events, within a
// per-tick time budget. When a flood produces more events than the budget allows, virtual time
// falls behind (the effective speed drops, the header says so) instead of the UI freezing: the
// backlog is dropped, not carried over, so a burst cannot snowball.
import type {ClockControl, ClockInfo} from '../store/backend.js';
import type {Simulation} from '../sim/simulation.js';

export interface ClockOptions {
  /** Simulation ticks per wall second. */
  hz?: number;
  /** Wall ms the simulation may use per tick (the rest is left to the UI). */
  budgetMs?: number;
  /** Events per slice between budget checks. */
  slice?: number;
  speed?: number;
  paused?: boolean;
  /** Wall clock (tests pass a fake). */
  now?: () => number;
}

export class SimClock implements ClockControl {
  speed: number;
  paused: boolean;
  private readonly hz: number;
  private readonly budgetMs: number;
  private readonly slice: number;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastWall = 0;
  private effective = 0;
  private lagging = false;
  /** Wall ms spent simulating in the last tick. */
  lastTickMs = 0;

  constructor(private readonly sim: Simulation, o: ClockOptions = {}) {
    this.hz = o.hz ?? 20;
    this.budgetMs = o.budgetMs ?? 1000 / (o.hz ?? 20) * 0.6;
    this.slice = o.slice ?? 2000;
    this.speed = o.speed ?? 1;
    this.paused = o.paused ?? false;
    this.now = o.now ?? (() => performance.now());
    this.effective = this.paused ? 0 : this.speed;
  }

  start(): void {
    if (this.timer) return;
    this.lastWall = this.now();
    this.timer = setInterval(() => this.tick(), Math.round(1000 / this.hz));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One loop iteration; public so tests can drive it with a fake clock. */
  tick(): void {
    const wall = this.now();
    // a stalled event loop (debugger, suspended terminal) must not turn into a huge jump
    const dt = Math.min(wall - this.lastWall, 250);
    this.lastWall = wall;
    if (this.paused || dt <= 0) {
      this.effective = this.paused ? 0 : this.effective;
      return;
    }
    const from = this.sim.now;
    const target = from + dt * this.speed;
    const reached = this.runWithin(target, wall + this.budgetMs);
    const advanced = this.sim.now - from;
    this.lagging = !reached;
    const inst = advanced / dt;
    this.effective = this.effective * 0.8 + inst * 0.2;
    this.lastTickMs = this.now() - wall;
  }

  /** Run the simulation toward `target` in slices until it is reached or the deadline passes. */
  private runWithin(target: number, deadline: number): boolean {
    for (;;) {
      if (this.sim.runUntil(target, this.slice)) return true;
      if (this.now() >= deadline) return false;
    }
  }

  info(): ClockInfo {
    const eff = this.paused ? 0 : Math.abs(this.effective - this.speed) < this.speed * 0.05 ? this.speed : this.effective;
    return {speed: this.speed, paused: this.paused, effective: Math.round(eff * 100) / 100, lagging: !this.paused && this.lagging};
  }

  setSpeed(x: number): void {
    if (!(x > 0) || !Number.isFinite(x)) throw new Error(`bad speed ${x}`);
    this.speed = x;
    this.lagging = false;
  }

  setPaused(p: boolean): void {
    this.paused = p;
    this.lastWall = this.now();
    if (!p) this.effective = this.speed;
  }

  /** Advance by `ms` of virtual time at once (the step key); bounded to 1 s of wall time. */
  step(ms: number): void {
    const target = this.sim.now + ms;
    this.runWithin(target, this.now() + 1000);
  }
}
