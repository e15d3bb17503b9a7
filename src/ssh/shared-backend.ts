// One backend shared by every UI session of a server. N sessions refreshing at the UI rate would
// each ask the engine for a snapshot (which walks the connection states) and the tunables; here
// they are computed once per virtual instant and reused until the engine moves or a command runs.
import type {Simulation} from '../sim/simulation.js';
import type {Backend, BackendCapabilities, BackendKind, ClockInfo, Command, CommandResult, ConnQuery, EngineSnapshot, TunableRow} from '../store/backend.js';
import {LocalBackend} from '../store/backend.js';
import type {ClockControl} from '../store/backend.js';

type Cached<T> = {key: string; value: T} | null;

export class SharedBackend implements Backend {
  readonly kind: BackendKind;
  readonly capabilities: BackendCapabilities;
  private readonly inner: LocalBackend;
  private gen = 0;
  private snap: Cached<EngineSnapshot> = null;
  private tun: Cached<TunableRow[]> = null;
  /** Snapshots computed / served (for the status file). */
  readonly stats = {snapshots: 0, served: 0};

  constructor(readonly sim: Simulation, clock: ClockControl, private readonly wallNow = () => performance.now()) {
    this.inner = new LocalBackend(sim, clock);
    this.kind = this.inner.kind;
    this.capabilities = this.inner.capabilities;
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
  apply(cmd: Command): CommandResult { return this.changed(() => this.inner.apply(cmd)); }
}
