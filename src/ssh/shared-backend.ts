// One backend shared by every UI session of a server. N sessions refreshing at the UI rate would
// each ask the engine for a snapshot (which walks the connection states) and the tunables; here
// they are computed once per virtual instant and reused until the engine moves or a command runs.
import type {Simulation} from '../sim/simulation.js';
import type {ClockInfo, ConnQuery, DeckBackend, EngineSnapshot, TunableRow} from '../store/backend.js';
import {LocalBackend} from '../store/backend.js';
import type {ClockControl} from '../store/backend.js';

type Cached<T> = {key: string; value: T} | null;

export class SharedBackend implements DeckBackend {
  private readonly inner: LocalBackend;
  private gen = 0;
  private snap: Cached<EngineSnapshot> = null;
  private tun: Cached<TunableRow[]> = null;
  /** Snapshots computed / served (for the status file). */
  readonly stats = {snapshots: 0, served: 0};

  constructor(readonly sim: Simulation, clock: ClockControl, private readonly wallNow = () => performance.now()) {
    this.inner = new LocalBackend(sim, clock);
  }

  /** Same virtual time, no command since, and at most 100 wall ms old (sync may apply updates). */
  private key(): string {
    return `${this.sim.now}/${this.gen}/${Math.floor(this.wallNow() / 100)}`;
  }

  private cached<T>(slot: 'snap' | 'tun', make: () => T): T {
    const k = this.key();
    const c = this[slot] as Cached<T>;
    if (c && c.key === k) return c.value;
    const value = make();
    (this as unknown as Record<string, Cached<T>>)[slot] = {key: k, value};
    return value;
  }

  private changed<T>(fn: () => T): T {
    this.gen++;
    try {
      return fn();
    } finally {
      this.gen++;
    }
  }

  snapshot(): EngineSnapshot {
    this.stats.served++;
    return this.cached('snap', () => { this.stats.snapshots++; return this.inner.snapshot(); });
  }
  clock(): ClockInfo { return this.inner.clock(); }
  queryConns(q: ConnQuery) { return this.inner.queryConns(q); }
  connDetail(id: number) { return this.inner.connDetail(id); }
  tunables(): TunableRow[] { return this.cached('tun', () => this.inner.tunables()); }
  logSince(seq: number) { return this.inner.logSince(seq); }
  generators() { return this.inner.generators(); }
  failedServers() { return this.inner.failedServers(); }
  serviceConfig(id: number) { return this.inner.serviceConfig(id); }
  destConfig(id: number) { return this.inner.destConfig(id); }
  syncStatus() { return this.inner.syncStatus(); }
  startSync(...a: Parameters<DeckBackend['startSync']>) { this.changed(() => this.inner.startSync(...a)); }
  stopSync(...a: Parameters<DeckBackend['stopSync']>) { this.changed(() => this.inner.stopSync(...a)); }

  setTunable(...a: Parameters<DeckBackend['setTunable']>) { return this.changed(() => this.inner.setTunable(...a)); }
  addService(...a: Parameters<DeckBackend['addService']>) { this.changed(() => this.inner.addService(...a)); }
  editService(...a: Parameters<DeckBackend['editService']>) { this.changed(() => this.inner.editService(...a)); }
  delService(...a: Parameters<DeckBackend['delService']>) { this.changed(() => this.inner.delService(...a)); }
  addDest(...a: Parameters<DeckBackend['addDest']>) { this.changed(() => this.inner.addDest(...a)); }
  editDest(...a: Parameters<DeckBackend['editDest']>) { this.changed(() => this.inner.editDest(...a)); }
  delDest(...a: Parameters<DeckBackend['delDest']>) { this.changed(() => this.inner.delDest(...a)); }
  setTimeouts(...a: Parameters<DeckBackend['setTimeouts']>) { this.changed(() => this.inner.setTimeouts(...a)); }
  zero(...a: Parameters<DeckBackend['zero']>) { this.changed(() => this.inner.zero(...a)); }
  flush() { this.changed(() => this.inner.flush()); }
  addGenerator(...a: Parameters<DeckBackend['addGenerator']>) { return this.changed(() => this.inner.addGenerator(...a)); }
  startGenerator(id: string) { this.changed(() => this.inner.startGenerator(id)); }
  stopGenerator(id: string) { this.changed(() => this.inner.stopGenerator(id)); }
  setGeneratorRate(id: string, rate: number) { this.changed(() => this.inner.setGeneratorRate(id, rate)); }
  removeGenerator(id: string) { this.changed(() => this.inner.removeGenerator(id)); }
  setServerFailed(rs: string, failed: boolean) { this.changed(() => this.inner.setServerFailed(rs, failed)); }
  setSpeed(x: number) { this.changed(() => this.inner.setSpeed(x)); }
  setPaused(p: boolean) { this.changed(() => this.inner.setPaused(p)); }
  step(ms: number) { this.changed(() => this.inner.step(ms)); }
}
