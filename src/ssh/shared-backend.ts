// One backend shared by every UI session of a server. N sessions refreshing at the UI rate would
// each ask the backend for a snapshot (the engine walks its connection states; the kernel backend
// parses /proc) and the tunables; here they are computed once per instant and reused until time
// moves or a command runs. Any Backend works: the simulation, the data plane, the kernel's IPVS.
import type {Backend, BackendCapabilities, BackendKind, ClockInfo, Command, CommandResult, ConnQuery, EngineSnapshot, TunableRow} from '../store/backend.js';

type Cached<T> = {key: string; value: T} | null;

export interface SharedBackendOptions {
  /**
   * The backend's virtual time, when it has one that may stand still (a paused simulation): a
   * snapshot is reused for as long as it does not move. Without it only the wall clock keys the cache.
   */
  virtualNow?: () => number;
  /** Wall clock (tests). */
  wallNow?: () => number;
}

export class SharedBackend implements Backend {
  readonly kind: BackendKind;
  readonly capabilities: BackendCapabilities;
  private gen = 0;
  private snap: Cached<EngineSnapshot> = null;
  private tun: Cached<TunableRow[]> = null;
  private readonly virtualNow: () => number;
  private readonly wallNow: () => number;
  /** Snapshots computed / served (for the status file). */
  readonly stats = {snapshots: 0, served: 0};

  constructor(readonly inner: Backend, o: SharedBackendOptions = {}) {
    this.kind = inner.kind;
    this.capabilities = inner.capabilities;
    this.virtualNow = o.virtualNow ?? (() => 0);
    this.wallNow = o.wallNow ?? (() => performance.now());
  }

  /** Same virtual time, no command since, and at most 100 wall ms old (sync and real traffic move it too). */
  private key(): string {
    return `${this.virtualNow()}/${this.gen}/${Math.floor(this.wallNow() / 100)}`;
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
