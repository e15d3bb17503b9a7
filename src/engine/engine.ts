// The engine facade: configuration commands, the two packet entry points (ip_vs_in / ip_vs_out),
// tick(now) driving every timer on virtual time, and the queries a UI or a test needs.
// Pure and deterministic: time and randomness come from the caller.
import {type Addr, type Af, formatAddr, formatAddrPort, maskAddr, parseIPv6Groups} from './addr.js';
import {
  CONN_DEFER_TIMEOUT, CONN_F, CONN_INITIAL_TIMEOUT, CTPL_S, DEFENSE_PERIOD, DEST_F, DEST_TRASH_PERIOD,
  ESTIMATOR_PERIOD, type FwdMethod, fwdValue, FWD_BY_VALUE, INT_MAX, HZ, IPPROTO_ICMP, IPPROTO_ICMPV6,
  IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, KERNEL_CONN_ENTRY_BYTES, PAGE_SIZE, SCTP_CHUNK, SECOND,
  SVC_F, TCP_FLAG,
} from './constants.js';
import {ConnTable, type NewConn} from './conn-table.js';
import {type ConnQuery, type ConnSortKey, type QueryHost, queryConnIds} from './conn-query.js';
import {type ConnId, ConnReader, type ConnView} from './conn-view.js';
import {DBG, DebugLog} from './debug-log.js';
import {DefenseState, type DefenseName} from './defense.js';
import {IpvsError} from './errors.js';
import {DIR, TCP_ACTIVE, TCP_DEFAULT_TIMEOUTS, TCP_STATE, TCP_STATE_NAMES, tcpNextState} from './proto/tcp.js';
import {UDP_DEFAULT_TIMEOUTS, UDP_STATE_NAMES} from './proto/udp.js';
import {
  SCTP_ACTIVE, SCTP_DEFAULT_TIMEOUTS, SCTP_STATE, SCTP_STATE_NAMES, sctpEvent, sctpNextState,
} from './proto/sctp.js';
import {type Rng, seededRng} from './rng.js';
import {findScheduler} from './sched/index.js';
import {Stats, type StatsCounters, type StatsRates} from './stats.js';
import {buildSyncConn, type SyncConn} from './sync-conn.js';
import {syncConnEntries} from './sync-decision.js';
import {applySyncConn, type SyncApplyResult} from './sync-apply.js';
import {Tunables} from './tunables.js';
import type {
  Dest, DestOptions, Packet, ProtoName, SchedContext, SchedulerOps, Service, ServiceKey, ServiceOptions,
  Verdict, VerdictReason,
} from './types.js';

export const PROTO_NUM: Record<ProtoName, number> = {tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP};
export const PROTO_NAME: Record<number, ProtoName> = {
  [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_SCTP]: 'sctp',
};
const FTPPORT = 21;
const FTPDATA = 20;
/** ip_unprivileged_port_start default: the FTP fallback lookup applies to ports >= this (or 20). */
const UNPRIVILEGED_PORT_START = 1024;

// ctInfo bits: what netfilter's TCP tracker would know about the flow (for conntrack reuse).
const CT_FIN = 1, CT_RST_CLIENT = 2, CT_RST_SERVER = 4;

/** Simulated host memory (ip_vs_ctl.c, update_defense_level: si_meminfo's freeram + bufferram), in 4 KiB pages. */
export interface HostMemory {
  totalBytes: number;
  /** Memory in use by everything but IPVS connection entries. */
  usedBytes: number;
  /** Cost charged per connection entry (the kernel's slab object size). */
  entryBytes: number;
}

export interface EngineOptions {
  seed?: number;
  /** Virtual start time in ms. */
  now?: number;
  connTabBits?: number;
  cpuCount?: number;
  memory?: Partial<HostMemory>;
  /** Path MTU toward real servers and clients (pmtu_disc checks). */
  mtu?: number;
  /** Addresses local to the director besides the VIPs (cache_bypass treats others as non-local). */
  localAddrs?: Addr[];
  logCapacity?: number;
}

export const SYNC_STATE = {MASTER: 0x1, BACKUP: 0x2} as const;

/** A sync daemon's configuration (ipvs_sync_daemon_cfg), as --start-daemon records it. */
export interface SyncDaemonConfig {
  role: 'master' | 'backup';
  mcastIfn: string;
  syncId: number;
  /** Message size limit (UDP payload); 0 = the kernel's default for the role. */
  syncMaxLen: number;
  mcastGroup: string;
  mcastPort: number;
  mcastTtl: number;
}

export interface ConnInfo {
  id: number;
  af: Af;
  proto: number;
  protoName: string;
  caddr: Addr; cport: number;
  vaddr: Addr; vport: number;
  daddr: Addr; dport: number;
  /** For fwmark templates vaddr holds the mark. */
  fwmarkTemplate: boolean;
  fwd: FwdMethod;
  flags: number;
  state: number;
  stateName: string;
  template: boolean;
  timeout: number;
  /** ms until the timer fires. */
  expiresIn: number;
  inPkts: number;
  outPkts: number;
  destId: number;
  control: number;
  nControl: number;
  fwmark: number;
}

export type {ConnId, ConnQuery, ConnSortKey, ConnView};

/**
 * A sync hook: ip_vs_sync_conn's entry point, called from the packet path (with the entry's in_pkts
 * after the increment) and from deferred expiry (with sync_threshold), only while a master runs.
 */
export type SyncHook = (conn: ConnId, pkts: number) => void;

/** A service's or real server's counters and 2-second rates. */
interface StatsPair {
  stats: StatsCounters;
  rates: StatsRates;
}

export interface DestSnapshot extends StatsPair {
  id: number;
  label: string;
  fwd: FwdMethod;
  weight: number;
  activeConns: number;
  inactConns: number;
  persistConns: number;
  overloaded: boolean;
}

export interface ServiceSnapshot extends StatsPair {
  id: number;
  label: string;
  scheduler: string;
  persistent: boolean;
  dests: DestSnapshot[];
}

/** What one UI frame needs, computed without walking the connection table. Plain, serialisable data. */
export interface EngineSnapshot {
  /** Virtual (or wall-clock) time of the snapshot, ms. */
  now: number;
  conns: number;
  templates: number;
  totals: StatsCounters;
  rates: StatsRates;
  /** Share of the table in SYN_RECV (0..1). */
  synRecvShare: number;
  /** Live entries per state name ("ESTABLISHED", "UDP", "TEMPLATE ASSURED"...). */
  states: Record<string, number>;
  memory: {availablePages: number; amemthresh: number; totalPages: number};
  defense: {
    drop_entry: {mode: number; active: boolean};
    drop_packet: {mode: number; active: boolean; rate: number};
    secure_tcp: {mode: number; active: boolean};
  };
  counters: {
    packetsIn: number;
    packetsOut: number;
    connsCreated: number;
    connsExpired: number;
    dropped: Record<string, number>;
    dropEntry: Record<string, number>;
  };
  services: ServiceSnapshot[];
}

const VERDICT_ACCEPT_NOT_IPVS = 'not-ipvs';

// Layout of the state tally: TCP states, then UDP, SCTP, then the two template states.
const TALLY_TCP = 0, TALLY_UDP = 12, TALLY_SCTP = 14, TALLY_TPL = 29, TALLY_SIZE = 31;
const TALLY_NAMES: readonly string[] = [
  ...TCP_STATE_NAMES, ...UDP_STATE_NAMES, ...SCTP_STATE_NAMES, 'TEMPLATE NONE', 'TEMPLATE ASSURED',
];

export class Engine {
  readonly tunables: Tunables;
  /** The table itself: engine-internal (tests reach in; other code uses `conns`). */
  readonly table: ConnTable;
  /** The connection table, read-only and by id: counts, lookups, iteration. */
  readonly conns: ConnReader;
  readonly log: DebugLog;
  readonly totStats = new Stats();
  readonly defense: DefenseState;
  readonly rng: Rng;
  now: number;

  /** Sync daemon roles running (SYNC_STATE bits); set by the sync layer. */
  syncState = 0;
  /** Running sync daemons by role (start_sync_thread / stop_sync_thread). */
  readonly syncDaemons: {master?: SyncDaemonConfig; backup?: SyncDaemonConfig} = {};
  /** Sync hooks (ip_vs_sync_conn's callers): called while a master daemon runs; see onSyncConn. */
  private syncHooks: SyncHook[] = [];

  private services: Service[] = [];
  private svcByAddr = new Map<number, Map<Addr, Service>>(); // key: af<<24 | proto<<16 | port
  private svcByMark = new Map<number, Service>(); // key: mark * 2 + (af == 6)
  private ftpServices = 0;
  private port0Services = 0;
  private enabled = false;
  private nextSvcId = 1;
  private nextDestId = 1;
  private dests: (Dest | undefined)[] = [];
  private trash: Dest[] = [];
  private rsTable = new Map<string, Dest[]>();
  private localAddrs: Set<Addr>;

  /** Protocol timeout tables (per netns copies, changed by --set). */
  readonly timeouts = {
    tcp: [...TCP_DEFAULT_TIMEOUTS],
    udp: [...UDP_DEFAULT_TIMEOUTS],
    sctp: [...SCTP_DEFAULT_TIMEOUTS],
  };

  memory: HostMemory;
  private availOverride: number | null = null;
  readonly mtu: number;

  // periodic timers
  private nextDefense: number;
  private nextEstimate: number;
  private nextTrash = Infinity;
  private nodestFlushAt = Infinity;
  private estimationRunning = true;

  /** Counters of what the engine did, by cause. */
  readonly counters = {
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    connsCreated: 0,
    connsExpired: 0,
    dropped: new Map<VerdictReason, number>(),
    accepted: new Map<VerdictReason, number>(),
    /** drop_entry removals by cause: 'SYN_RECV', 'SYNACK', 'ESTABLISHED', 'template', 'udp', 'INIT'... */
    dropEntry: new Map<string, number>(),
    icmpSent: 0,
  };

  /** Live entries per (protocol, state), templates apart: kept on every change so no frame walks the table. */
  private readonly tally = new Int32Array(TALLY_SIZE);

  private readonly verdict: Verdict = {action: 'accept', reason: '', conn: -1, dest: null, created: false, icmpSent: null};
  private readonly due: number[] = [];
  private readonly syncScratch: number[] = [];
  private readonly schedCtx: SchedContext;
  private readonly queryHost: QueryHost;

  constructor(opts: EngineOptions = {}) {
    this.now = opts.now ?? 0;
    this.rng = seededRng(opts.seed ?? 1);
    const mem = opts.memory ?? {};
    this.memory = {
      totalBytes: mem.totalBytes ?? 4 * 2 ** 30,
      usedBytes: mem.usedBytes ?? 2 ** 30,
      entryBytes: mem.entryBytes ?? KERNEL_CONN_ENTRY_BYTES,
    };
    this.tunables = new Tunables({
      cpuCount: opts.cpuCount ?? 2,
      // nr_free_buffer_pages()/32 when the netns is created
      syncQlenMaxDefault: Math.floor(Math.max(0, this.memory.totalBytes - this.memory.usedBytes) / PAGE_SIZE / 32),
      onChange: (name) => this.onTunableChange(name),
    });
    this.table = new ConnTable({seed: opts.seed ?? 1, connTabBits: opts.connTabBits});
    this.conns = new ConnReader(this.table);
    this.queryHost = {table: this.table, connLabel: (i) => this.labelOf(i), stateName: (i) => this.stateNameOf(i)};
    this.log = new DebugLog(opts.logCapacity ?? 2000, () => this.tunables.v.debug_level!);
    this.defense = new DefenseState(this.tunables);
    this.mtu = opts.mtu ?? 1500;
    this.localAddrs = new Set(opts.localAddrs ?? []);
    this.nextDefense = this.now + DEFENSE_PERIOD;
    this.nextEstimate = this.now + ESTIMATOR_PERIOD;
    const engine = this;
    this.schedCtx = {
      get now() { return engine.now; },
      random32: () => this.rng.u32(),
      log: (level, msg) => this.log.log(this.now, level, msg),
      tunable: (name) => this.tunables.v[name] ?? 0,
    };
  }

  // =====================================================================================
  // Tunables
  // =====================================================================================

  /** Write a tunable as `sysctl -w` would; throws nothing, returns the handler's verdict. */
  setTunable(name: string, text: string) {
    return this.tunables.write(name, text);
  }

  readTunable(name: string): string {
    return this.tunables.read(name);
  }

  /** Whether a debug message of this level would be kept: checked before building it (hot paths). */
  private dbg(level: number): boolean {
    return level <= this.tunables.v.debug_level!;
  }

  private onTunableChange(name: string): void {
    if (name === 'drop_entry' || name === 'drop_packet' || name === 'secure_tcp') {
      this.runDefenseUpdate();
    } else if (name === 'run_estimation' || name === 'est_cpulist') {
      this.updateEstimationState();
    }
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `sysctl ${name} = ${this.tunables.read(name)}`);
  }

  private updateEstimationState(): void {
    const run = this.tunables.v.run_estimation !== 0 && this.tunables.v.est_cpulist_count !== 0;
    this.estimationRunning = run;
  }

  // =====================================================================================
  // Memory model and defenses
  // =====================================================================================

  /** Available memory in pages: free + buffers of the simulated host minus the entries' slab. */
  availablePages(): number {
    if (this.availOverride !== null) return this.availOverride;
    const m = this.memory;
    const bytes = m.totalBytes - m.usedBytes - this.table.count * m.entryBytes;
    return Math.max(0, Math.floor(bytes / PAGE_SIZE));
  }

  /** Pin available memory to a value (tests, what-if); null returns to the simulated host. */
  setAvailablePages(pages: number | null): void {
    this.availOverride = pages;
  }

  setMemory(m: Partial<HostMemory>): void {
    this.memory = {...this.memory, ...m};
  }

  private runDefenseUpdate(): void {
    const before = {
      drop_entry: this.tunables.v.drop_entry, drop_packet: this.tunables.v.drop_packet,
      secure_tcp: this.tunables.v.secure_tcp,
    } as Record<DefenseName, number>;
    const switched = this.defense.update(this.availablePages());
    for (const name of ['drop_entry', 'drop_packet', 'secure_tcp'] as const) {
      if (before[name] !== this.tunables.v[name]) {
        if (this.dbg(DBG.ERROR)) this.log.put(this.now, DBG.ERROR, `defense: ${name} ${before[name]} -> ${this.tunables.v[name]}`);
      }
    }
    if (switched) {
      if (this.dbg(DBG.ERROR)) this.log.put(this.now, DBG.ERROR, `secure_tcp: TCP now uses the ${this.defense.secureTable ? 'secure (dos)' : 'normal'} state table`);
    }
  }

  /** One defense_work_handler run: update the levels, then the random drop pass if on. */
  private defenseTimer(): void {
    this.runDefenseUpdate();
    if (this.defense.dropEntryOn) this.randomDropEntry();
  }

  /** ip_vs_random_dropentry: visit (table size >> 5) random kernel buckets. */
  randomDropEntry(): void {
    const t = this.table;
    const mask = t.kernelBuckets - 1;
    const rounds = t.kernelBuckets >> 5;
    for (let r = 0; r < rounds; r++) {
      const bucket = this.rng.u32() & mask;
      t.forEachInKernelBucket(bucket, (i) => {
        if (!t.isLive(i) || t.nControl[i]! > 0) return;
        const cause = this.dropEntryCause(i);
        if (cause === null) return;
        if (this.dbg(DBG.DROP_ENTRY)) this.log.put(this.now, DBG.DROP_ENTRY, `drop connection ${this.labelOf(i)} (${cause})`);
        this.counters.dropEntry.set(cause, (this.counters.dropEntry.get(cause) ?? 0) + 1);
        this.connDel(i);
      });
    }
  }

  /** The eligibility rules of ip_vs_random_dropentry; returns the cause or null to keep. */
  private dropEntryCause(i: number): string | null {
    const t = this.table;
    const fl = t.flags[i]!;
    if (fl & CONN_F.TEMPLATE) {
      const dest = this.destOfSlot(i);
      if (dest && dest.svc.flags & SVC_F.ONEPACKET) return this.todropEntry(i) ? 'template' : null;
      return t.state[i]! & CTPL_S.ASSURED ? null : 'template';
    }
    const proto = t.proto[i]!, st = t.state[i]!;
    if (proto === IPPROTO_TCP) {
      if (st === TCP_STATE.SYN_RECV || st === TCP_STATE.SYNACK) return TCP_STATE_NAMES[st]!;
      if (st === TCP_STATE.ESTABLISHED) return this.todropEntry(i) ? 'ESTABLISHED' : null;
      return null;
    }
    if (proto === IPPROTO_SCTP) {
      if (st === SCTP_STATE.INIT1 || st === SCTP_STATE.INIT) return SCTP_STATE_NAMES[st]!;
      if (st === SCTP_STATE.ESTABLISHED) return this.todropEntry(i) ? 'ESTABLISHED' : null;
      return null;
    }
    return this.todropEntry(i) ? PROTO_NAME[proto] ?? 'other' : null;
  }

  /** todrop_entry: idle >= 60 s since the timer was last armed, then the per-count rate gate. */
  private todropEntry(i: number): boolean {
    const t = this.table;
    if (t.timeout[i]! + this.now < t.expires[i]! + 60 * SECOND) return false;
    return this.defense.todropEntry(t.inPkts[i]!);
  }

  // =====================================================================================
  // Services and destinations
  // =====================================================================================

  private svcAddrKey(af: Af, proto: number, port: number): number {
    return (af === 6 ? 1 << 24 : 0) | (proto << 16) | port;
  }

  private markKey(af: Af, mark: number): number {
    return mark * 2 + (af === 6 ? 1 : 0);
  }

  /** Find a service by its exact identity (no fallbacks). */
  getService(key: ServiceKey): Service | undefined {
    if (key.kind === 'fwmark') return this.svcByMark.get(this.markKey(key.af, key.fwmark));
    return this.svcByAddr.get(this.svcAddrKey(key.af, PROTO_NUM[key.proto], key.port))?.get(key.addr);
  }

  listServices(): readonly Service[] {
    return this.services;
  }

  getDest(id: number): Dest | undefined {
    return this.dests[id];
  }

  trashList(): readonly Dest[] {
    return this.trash;
  }

  serviceLabel(svc: Service): string {
    const k = svc.key;
    if (k.kind === 'fwmark') return `FWM ${k.fwmark}`;
    return `${k.proto.toUpperCase()} ${formatAddrPort(k.addr, k.port)}`;
  }

  private resolveScheduler(name: string): SchedulerOps | null {
    if (name === 'none') return null;
    if (name.length > 15) throw new IpvsError('EINVAL', `scheduler name too long: ${name}`);
    const ops = findScheduler(name);
    if (!ops) throw new IpvsError('ENOENT', `scheduler not found: ${name}`);
    return ops;
  }

  private validateServiceOptions(key: ServiceKey, o: ServiceOptions): void {
    if (o.pe && o.pe !== 'sip') throw new IpvsError('ENOENT', `persistence engine not found: ${o.pe}`);
    if (key.af === 6 && (o.prefixLen < 1 || o.prefixLen > 128)) {
      throw new IpvsError('EINVAL', `IPv6 persistence prefix length must be 1..128, got ${o.prefixLen}`);
    }
    if (o.persistTimeout < 0 || o.persistTimeout / HZ > INT_MAX / HZ) {
      throw new IpvsError('EINVAL', `persistence timeout out of range: ${o.persistTimeout / SECOND}`);
    }
  }

  /** ip_vs_add_service. */
  addService(key: ServiceKey, opts: Partial<ServiceOptions> = {}): Service {
    const o = withServiceDefaults(key, opts);
    if (this.getService(key)) throw new IpvsError('EEXIST', `service already exists: ${describeKey(key)}`);
    this.validateServiceOptions(key, o);
    const sched = this.resolveScheduler(o.scheduler);
    const svc: Service = {
      id: this.nextSvcId++,
      key,
      scheduler: o.scheduler,
      flags: (o.flags & ~(SVC_F.HASHED | SVC_F.PERSISTENT)) | (o.persistTimeout > 0 ? SVC_F.PERSISTENT : 0),
      timeout: o.persistTimeout,
      netmask: o.netmask >>> 0,
      prefixLen: o.prefixLen,
      pe: o.pe,
      dests: [],
      stats: new Stats(),
      schedData: undefined,
    };
    sched?.initService?.(svc, this.schedCtx);
    this.services.push(svc);
    if (key.kind === 'fwmark') this.svcByMark.set(this.markKey(key.af, key.fwmark), svc);
    else {
      const k = this.svcAddrKey(key.af, PROTO_NUM[key.proto], key.port);
      let m = this.svcByAddr.get(k);
      if (!m) this.svcByAddr.set(k, (m = new Map()));
      m.set(key.addr, svc);
      if (key.port === FTPPORT) this.ftpServices++;
      if (key.port === 0) this.port0Services++;
    }
    this.enabled = true;
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `add service ${this.serviceLabel(svc)} scheduler ${svc.scheduler}`);
    return svc;
  }

  /** ip_vs_edit_service: replaces scheduler, flags, timeout, netmask and PE as a whole. */
  editService(key: ServiceKey, opts: Partial<ServiceOptions> = {}): Service {
    const svc = this.requireService(key);
    const o = withServiceDefaults(key, opts);
    this.validateServiceOptions(key, o);
    const newSched = this.resolveScheduler(o.scheduler);
    if (o.scheduler !== svc.scheduler) {
      // Re-initialise scheduler state; existing connections keep their destinations.
      findScheduler(svc.scheduler)?.doneService?.(svc, this.schedCtx);
      svc.scheduler = o.scheduler;
      svc.schedData = undefined;
      newSched?.initService?.(svc, this.schedCtx);
    }
    svc.flags = (o.flags & ~(SVC_F.HASHED | SVC_F.PERSISTENT)) | (o.persistTimeout > 0 ? SVC_F.PERSISTENT : 0);
    svc.timeout = o.persistTimeout;
    svc.netmask = o.netmask >>> 0;
    svc.prefixLen = o.prefixLen;
    svc.pe = o.pe;
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `edit service ${this.serviceLabel(svc)}`);
    return svc;
  }

  /** ip_vs_del_service: its dests go to the trash; connections keep them until they expire. */
  delService(key: ServiceKey): void {
    const svc = this.requireService(key);
    for (const d of [...svc.dests]) this.unlinkDest(svc, d, true);
    findScheduler(svc.scheduler)?.doneService?.(svc, this.schedCtx);
    this.services = this.services.filter((s) => s !== svc);
    if (key.kind === 'fwmark') this.svcByMark.delete(this.markKey(key.af, key.fwmark));
    else {
      this.svcByAddr.get(this.svcAddrKey(key.af, PROTO_NUM[key.proto], key.port))?.delete(key.addr);
      if (key.port === FTPPORT) this.ftpServices--;
      if (key.port === 0) this.port0Services--;
    }
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `del service ${this.serviceLabel(svc)}`);
  }

  /** ipvsadm -C: delete every service. */
  flush(): void {
    for (const svc of [...this.services]) this.delService(svc.key);
  }

  /** ipvsadm -Z: zero one service (and its dests) or everything including the totals. */
  zero(key?: ServiceKey): void {
    if (key) {
      const svc = this.requireService(key);
      svc.stats.zero();
      for (const d of svc.dests) d.stats.zero();
      return;
    }
    for (const svc of this.services) {
      svc.stats.zero();
      for (const d of svc.dests) d.stats.zero();
    }
    this.totStats.zero();
  }

  private requireService(key: ServiceKey): Service {
    const svc = this.getService(key);
    if (!svc) throw new IpvsError('ESRCH', `no such service: ${describeKey(key)}`);
    return svc;
  }

  findDest(svc: Service, addr: Addr, port: number): Dest | undefined {
    return svc.dests.find((d) => d.addr === addr && d.port === port);
  }

  private validateDest(svc: Service, af: Af, o: DestOptions): void {
    if (o.weight < 0 || o.weight > INT_MAX) throw new IpvsError('ERANGE', `weight out of range: ${o.weight}`);
    if (o.uThreshold < 0 || o.lThreshold < 0) throw new IpvsError('ERANGE', 'connection thresholds must be >= 0');
    if (o.uThreshold > INT_MAX) throw new IpvsError('EINVAL', `upper threshold out of range: ${o.uThreshold}`);
    if (o.lThreshold > o.uThreshold) {
      throw new IpvsError('ERANGE', `lower threshold ${o.lThreshold} is above upper threshold ${o.uThreshold}`);
    }
    if (af !== svc.key.af) {
      if (o.fwd !== 'tunnel') {
        throw new IpvsError('EINVAL', 'a real server of another address family needs tunnel forwarding');
      }
      if (this.syncState) throw new IpvsError('EINVAL', 'mixed address families are not allowed while a sync daemon runs');
    }
  }

  /** ip_vs_add_dest (recovering the same dest from the trash when it is there). */
  addDest(key: ServiceKey, af: Af, addr: Addr, port: number, opts: Partial<DestOptions> = {}): Dest {
    const svc = this.requireService(key);
    const o = withDestDefaults(opts);
    this.validateDest(svc, af, o);
    if (this.findDest(svc, addr, port)) {
      throw new IpvsError('EEXIST', `destination already exists: ${formatAddrPort(addr, port)}`);
    }
    let dest = this.trash.find((d) => d.af === af && d.addr === addr && d.port === port && d.svc === svc);
    if (dest) {
      this.trash = this.trash.filter((d) => d !== dest);
      dest.inTrash = false;
      dest.idleStart = 0;
      if (this.dbg(DBG.DEST_TRASH)) this.log.put(this.now, DBG.DEST_TRASH, `move dest ${formatAddrPort(addr, port)} from trash`);
    } else {
      if (!usableDestAddr(addr, this.isLocalAddr(af, addr))) {
        throw new IpvsError('EINVAL', `${formatAddr(addr)} is not a unicast or local address`);
      }
      dest = {
        id: this.nextDestId++, af, addr, port, svc, weight: 0, lastWeight: 0, fwd: 'route', connFlags: 0,
        flags: 0, uThreshold: 0, lThreshold: 0, activeConns: 0, inactConns: 0, persistConns: 0,
        stats: new Stats(), refs: 0, idleStart: 0, inTrash: false,
      };
      this.dests[dest.id] = dest;
    }
    this.updateDest(svc, dest, o, true);
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `add dest ${formatAddrPort(addr, port)} to ${this.serviceLabel(svc)}`);
    return dest;
  }

  /** ip_vs_edit_dest. */
  editDest(key: ServiceKey, addr: Addr, port: number, opts: Partial<DestOptions> = {}): Dest {
    const svc = this.requireService(key);
    const dest = this.findDest(svc, addr, port);
    if (!dest) throw new IpvsError('ENOENT', `no such destination: ${formatAddrPort(addr, port)}`);
    const o = withDestDefaults(opts);
    this.validateDest(svc, dest.af, o);
    this.updateDest(svc, dest, o, false);
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `edit dest ${formatAddrPort(addr, port)} in ${this.serviceLabel(svc)}`);
    return dest;
  }

  /** __ip_vs_update_dest: flags, thresholds, weight, list insertion and scheduler hooks. */
  private updateDest(svc: Service, dest: Dest, o: DestOptions, add: boolean): void {
    this.rsUnhash(dest);
    let connFlags = (fwdValue(o.fwd) & CONN_F.DEST_MASK) | CONN_F.INACTIVE;
    if (o.fwd !== 'masq') connFlags |= CONN_F.NOOUTPUT;
    dest.fwd = o.fwd;
    dest.connFlags = connFlags;
    if (o.fwd === 'masq') this.rsHash(dest);
    // Clear OVERLOAD when the upper threshold is removed or raised (not when lowered).
    if (o.uThreshold === 0 || o.uThreshold > dest.uThreshold) dest.flags &= ~DEST_F.OVERLOAD;
    dest.uThreshold = o.uThreshold;
    dest.lThreshold = o.lThreshold;
    dest.weight = o.weight;
    if (o.weight > 0) dest.lastWeight = o.weight;
    dest.flags |= DEST_F.AVAILABLE;
    const sched = findScheduler(svc.scheduler);
    if (add) {
      svc.dests.unshift(dest); // newest first: list_add_rcu at the head
      sched?.addDest?.(svc, dest, this.schedCtx);
    } else {
      sched?.updDest?.(svc, dest, this.schedCtx);
    }
  }

  /** ip_vs_del_dest. */
  delDest(key: ServiceKey, addr: Addr, port: number): void {
    const svc = this.requireService(key);
    const dest = this.findDest(svc, addr, port);
    if (!dest) throw new IpvsError('ENOENT', `no such destination: ${formatAddrPort(addr, port)}`);
    this.unlinkDest(svc, dest, false);
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `del dest ${formatAddrPort(addr, port)} from ${this.serviceLabel(svc)}`);
  }

  private unlinkDest(svc: Service, dest: Dest, svcGoing: boolean): void {
    dest.flags &= ~DEST_F.AVAILABLE;
    findScheduler(svc.scheduler)?.delDest?.(svc, dest, this.schedCtx);
    svc.dests = svc.dests.filter((d) => d !== dest);
    this.rsUnhash(dest);
    dest.inTrash = true;
    dest.idleStart = 0;
    if (this.trash.length === 0) this.nextTrash = this.now + DEST_TRASH_PERIOD / 2;
    this.trash.push(dest);
    if (this.dbg(DBG.DEST_TRASH)) this.log.put(this.now, DBG.DEST_TRASH, `move dest ${formatAddrPort(dest.addr, dest.port)} into trash`);
    if (!svcGoing && this.tunables.v.expire_nodest_conn) this.nodestFlushAt = Math.min(this.nodestFlushAt, this.now + 1);
    if (svcGoing && this.tunables.v.expire_nodest_conn) this.nodestFlushAt = Math.min(this.nodestFlushAt, this.now + 1);
  }

  /** ip_vs_dest_trash_expire: free unreferenced dests 120-180 s after their last reference. */
  private trashTimer(): void {
    this.trash = this.trash.filter((d) => {
      if (d.refs > 0) return true;
      if (!d.idleStart) { d.idleStart = this.now; return true; }
      if (this.now < d.idleStart + DEST_TRASH_PERIOD) return true;
      if (this.dbg(DBG.DEST_TRASH)) this.log.put(this.now, DBG.DEST_TRASH, `removing dest ${formatAddrPort(d.addr, d.port)} from trash`);
      this.dests[d.id] = undefined;
      return false;
    });
    this.nextTrash = this.trash.length ? this.now + DEST_TRASH_PERIOD / 2 : Infinity;
  }

  /** ip_vs_expire_nodest_conn_flush: remove entries whose dest is gone (and their idle controllers). */
  private nodestFlush(): void {
    const t = this.table;
    const victims: number[] = [];
    t.forEachHashed((i) => {
      const d = this.destOfSlot(i);
      if (!d || d.flags & DEST_F.AVAILABLE || t.nControl[i]! > 0) return;
      victims.push(i);
    });
    for (const i of victims) {
      if (!t.isLive(i) || t.nControl[i]! > 0) continue;
      const ctl = t.control[i]!;
      if (this.dbg(DBG.DROP_ENTRY)) this.log.put(this.now, DBG.DROP_ENTRY, `del connection ${this.labelOf(i)} (destination gone)`);
      this.connDel(i);
      if (ctl >= 0 && t.isLive(ctl) && t.nControl[ctl] === 0) this.connDel(ctl);
    }
  }

  private rsKey(af: Af, addr: Addr, port: number): string {
    return `${af}|${addr}|${port}`;
  }
  private rsHash(d: Dest): void {
    const k = this.rsKey(d.af, d.addr, d.port);
    const list = this.rsTable.get(k) ?? [];
    if (!list.includes(d)) list.push(d);
    this.rsTable.set(k, list);
  }
  private rsUnhash(d: Dest): void {
    const k = this.rsKey(d.af, d.addr, d.port);
    const list = this.rsTable.get(k)?.filter((x) => x !== d);
    if (list && list.length) this.rsTable.set(k, list);
    else this.rsTable.delete(k);
  }
  /** ip_vs_has_real_service: a NAT real server with this address/port for the protocol. */
  private hasRealService(af: Af, proto: number, addr: Addr, port: number): boolean {
    const list = this.rsTable.get(this.rsKey(af, addr, port));
    if (!list) return false;
    return list.some((d) => d.svc.key.kind === 'fwmark' || PROTO_NUM[d.svc.key.proto] === proto);
  }

  /** start_sync_thread: EEXIST if the role runs; mixed-family tunnel dests forbid it (EINVAL). */
  startDaemon(cfg: Partial<SyncDaemonConfig> & {role: 'master' | 'backup'}): SyncDaemonConfig {
    if (this.syncDaemons[cfg.role]) throw new IpvsError('EEXIST', `sync daemon ${cfg.role} is already running`);
    const syncId = cfg.syncId ?? 0;
    if (!Number.isInteger(syncId) || syncId < 0 || syncId > 255) {
      throw new IpvsError('EINVAL', `syncid must be 0..255, got ${syncId}`);
    }
    for (const svc of this.services) {
      if (svc.dests.some((d) => d.af !== svc.key.af)) {
        throw new IpvsError('EINVAL', 'cannot start a sync daemon while real servers of another address family exist');
      }
    }
    const full: SyncDaemonConfig = {
      role: cfg.role,
      mcastIfn: cfg.mcastIfn ?? 'eth0',
      syncId,
      syncMaxLen: cfg.syncMaxLen ?? 0,
      mcastGroup: cfg.mcastGroup ?? '224.0.0.81',
      mcastPort: cfg.mcastPort ?? 8848,
      mcastTtl: cfg.mcastTtl ?? 1,
    };
    this.syncDaemons[cfg.role] = full;
    this.syncState |= cfg.role === 'master' ? SYNC_STATE.MASTER : SYNC_STATE.BACKUP;
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `sync daemon ${cfg.role} started (syncid ${syncId}, ${full.mcastIfn})`);
    return full;
  }

  /** stop_sync_thread: ESRCH if the role does not run. */
  stopDaemon(role: 'master' | 'backup'): void {
    if (!this.syncDaemons[role]) throw new IpvsError('ESRCH', `sync daemon ${role} is not running`);
    delete this.syncDaemons[role];
    this.syncState &= ~(role === 'master' ? SYNC_STATE.MASTER : SYNC_STATE.BACKUP);
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `sync daemon ${role} stopped`);
  }

  /**
   * Register a sync hook (the master daemon's ip_vs_sync_conn). Returns the function that removes
   * it. Hooks run only while SYNC_STATE.MASTER is set.
   */
  onSyncConn(hook: SyncHook): () => void {
    this.syncHooks = [...this.syncHooks, hook];
    return () => { this.syncHooks = this.syncHooks.filter((h) => h !== hook); };
  }

  private callSyncHook(i: number, pkts: number): void {
    const hooks = this.syncHooks;
    if (hooks.length === 0) return;
    const id = this.table.idOf(i);
    for (let k = 0; k < hooks.length; k++) hooks[k]!(id, pkts);
  }

  /**
   * The entries ip_vs_sync_conn appends for a hook call on `conn` (the entry, then its controllers
   * as the decision allows), as ids; runs the decision, updating sync_endtime and old_state.
   */
  syncEntries(conn: ConnId, pkts: number, version: number): ConnId[] {
    const i = this.table.slotOf(conn);
    if (i < 0) return [];
    const slots = syncConnEntries(this, i, pkts, version, this.syncScratch);
    return slots.map((s) => this.table.idOf(s));
  }

  /** An entry as the sync protocol carries it, or null when it is gone. */
  syncConnOf(conn: ConnId): SyncConn | null {
    const i = this.table.slotOf(conn);
    return i >= 0 ? buildSyncConn(this, i) : null;
  }

  /** ip_vs_proc_conn: apply one received entry (backup side); the result's `conn` is an id. */
  applySync(c: SyncConn, flags: number, timeoutS: number): SyncApplyResult {
    const r = applySyncConn(this, c, flags, timeoutS);
    return r.conn >= 0 ? {...r, conn: this.table.idOf(r.conn)} : r;
  }

  // ===== sync support =====
  // What ip_vs_proc_conn (src/engine/sync-apply.ts) needs of the connection machinery on a backup.
  // Only used by the sync layer; nothing on the packet path calls these.

  /**
   * ip_vs_conn_new for an entry received from a master: the real server address and port come from
   * the message (the dest may be null: the entry then stays unbound), `flags` already carry SYNC.
   * Returns the new entry; state 0, timeout 3 s, timer armed, as any new entry.
   */
  syncConnNew(c: {
    af: Af; proto: number; caddr: Addr; cport: number; vaddr: Addr; vport: number; daddr: Addr; dport: number;
    flags: number; fwmark: number; fwmarkTemplate: boolean;
  }, dest: Dest | null): number {
    return this.createConn({...c, daf: c.af, dest: -1}, dest, 'BACKUP, ');
  }

  /** ip_vs_try_bind_dest's binding step: bind an unbound entry (counters, flags from the dest). */
  syncBindDest(i: number, dest: Dest): void {
    if (this.table.dest[i]! >= 0) return;
    this.bindDest(i, dest);
  }

  /** Set an entry's state as a sync update does (keeps the per-state tally right). */
  syncSetState(i: number, state: number): void {
    const t = this.table;
    this.tally[this.tallyIndex(i)]!--;
    t.state[i] = state;
    this.tally[this.tallyIndex(i)]!++;
  }

  /** ip_vs_conn_expire_now on an entry a sync message replaces. */
  syncExpireNow(i: number): void {
    this.expireNow(i);
  }

  /** ip_vs_conn_put at the end of ip_vs_proc_conn: re-arm to now + timeout (ONE_PACKET: expire). */
  syncPut(i: number): void {
    this.connPut(i);
  }

  // ===== end of sync support =====

  /** ipvsadm --set tcp tcpfin udp (seconds; 0 keeps a value). All-or-nothing validation. */
  setTimeouts(tcp: number, tcpfin: number, udp: number): void {
    for (const [n, v] of [['tcp', tcp], ['tcpfin', tcpfin], ['udp', udp]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > Math.floor(INT_MAX / HZ)) {
        throw new IpvsError('EINVAL', `${n} timeout out of range: ${v}`);
      }
    }
    if (tcp) this.timeouts.tcp[TCP_STATE.ESTABLISHED] = tcp * SECOND;
    if (tcpfin) this.timeouts.tcp[TCP_STATE.FIN_WAIT] = tcpfin * SECOND;
    if (udp) this.timeouts.udp[0] = udp * SECOND;
  }

  getTimeouts(): {tcp: number; tcpfin: number; udp: number} {
    return {
      tcp: Math.floor(this.timeouts.tcp[TCP_STATE.ESTABLISHED]! / SECOND),
      tcpfin: Math.floor(this.timeouts.tcp[TCP_STATE.FIN_WAIT]! / SECOND),
      udp: Math.floor(this.timeouts.udp[0]! / SECOND),
    };
  }

  // =====================================================================================
  // Service lookup (ip_vs_service_find)
  // =====================================================================================

  serviceFind(af: Af, mark: number, proto: number, addr: Addr, port: number): Service | undefined {
    if (mark) {
      const s = this.svcByMark.get(this.markKey(af, mark));
      if (s) return s;
    }
    let s = this.svcByAddr.get(this.svcAddrKey(af, proto, port))?.get(addr);
    if (s) return s;
    if (proto === IPPROTO_TCP && this.ftpServices > 0 && (port === FTPDATA || port >= UNPRIVILEGED_PORT_START)) {
      s = this.svcByAddr.get(this.svcAddrKey(af, proto, FTPPORT))?.get(addr);
      if (s) return s;
    }
    if (this.port0Services > 0) s = this.svcByAddr.get(this.svcAddrKey(af, proto, 0))?.get(addr);
    return s;
  }

  // =====================================================================================
  // Packet path: incoming (ip_vs_in)
  // =====================================================================================

  private setVerdict(action: Verdict['action'], reason: VerdictReason, conn = -1, dest: Dest | null = null): Verdict {
    const v = this.verdict;
    v.action = action;
    v.reason = reason;
    v.conn = conn >= 0 ? this.table.idOf(conn) : -1;
    v.dest = dest;
    if (action === 'drop') this.counters.dropped.set(reason, (this.counters.dropped.get(reason) ?? 0) + 1);
    else if (action === 'accept') this.counters.accepted.set(reason, (this.counters.accepted.get(reason) ?? 0) + 1);
    return v;
  }

  private resetVerdict(): void {
    this.verdict.created = false;
    this.verdict.icmpSent = null;
  }

  /**
   * A packet addressed to the director (client -> virtual service). Returns a verdict object
   * that is reused by the next call: copy what you need to keep.
   */
  inbound(p: Packet): Verdict {
    this.resetVerdict();
    this.counters.packetsIn++;
    this.counters.bytesIn += p.len;
    if (this.backupOnly()) return this.setVerdict('accept', 'backup-only');
    if (!this.enabled) return this.setVerdict('accept', VERDICT_ACCEPT_NOT_IPVS);
    if (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6) return this.inIcmp(p);
    if (p.proto !== IPPROTO_TCP && p.proto !== IPPROTO_UDP && p.proto !== IPPROTO_SCTP) {
      // ignore_tunneled marks such packets (IPIP, GRE...) as IPVS-owned so that, decapsulated, they
      // are not processed again; either way they continue to the local stack.
      return this.setVerdict('accept', this.tunables.v.ignore_tunneled ? 'tunneled-ignored' : 'unsupported-proto');
    }
    const t = this.table;
    let cp = t.inLookup(p.af, p.proto, p.src, p.sport, p.dst, p.dport);
    if (this.dbg(DBG.PKT)) this.log.put(this.now, DBG.PKT, `ip_vs_in: ${describePacket(p)} ${cp >= 0 ? 'hit' : 'miss'}`);

    if (cp >= 0 && this.isNewConn(p)) {
      // Port reuse (ip_vs_core.c, ip_vs_in: conn_reuse_mode, is_new_conn)
      let resched = false, oldCt = false;
      const dest = this.destOfSlot(cp);
      if (this.tunables.v.expire_nodest_conn && dest && dest.weight === 0) {
        resched = true;
        oldCt = this.ctConfirmed(cp);
      } else if (this.tunables.v.conn_reuse_mode && this.isNewConnExpected(cp, this.tunables.v.conn_reuse_mode!)) {
        oldCt = this.ctConfirmed(cp);
        resched = t.nControl[cp] === 0 ? true : !oldCt;
      }
      if (resched) {
        if (!oldCt) t.flags[cp] &= ~CONN_F.NFCT;
        if (t.nControl[cp] === 0) this.expireNow(cp);
        if (oldCt) return this.setVerdict('drop', 'conntrack-reuse');
        cp = -1;
      }
    }

    if (cp >= 0) {
      const dest = this.destOfSlot(cp);
      if (dest && !(dest.flags & DEST_F.AVAILABLE)) {
        // Destination removed (ip_vs_core.c, ip_vs_in: expire_nodest_conn)
        if (this.tunables.v.expire_nodest_conn) {
          const oldCt = this.ctConfirmed(cp);
          if (!oldCt) t.flags[cp] &= ~CONN_F.NFCT;
          this.expireNow(cp);
          if (oldCt) return this.setVerdict('drop', 'conntrack-reuse');
          cp = -1;
        } else {
          if (this.dbg(DBG.SCHED)) this.log.put(this.now, DBG.SCHED, `drop packet of ${this.labelOf(cp)}: destination unavailable`);
          return this.setVerdict('drop', 'dest-unavailable', cp, dest);
        }
      }
    }

    if (cp < 0) {
      const r = this.connSchedule(p);
      if (r < 0) return this.verdict;
      cp = r;
      this.verdict.created = true;
    }
    return this.handleEntryInput(cp, p);
  }

  /** Stats, state transition, transmit, in_pkts, sync and timer re-arm for an incoming packet. */
  private handleEntryInput(cp: number, p: Packet): Verdict {
    const t = this.table;
    const dest = this.destOfSlot(cp);
    this.inStats(dest, p.len);
    this.setState(cp, DIR.INPUT, p);
    const created = this.verdict.created;
    const fl = t.flags[cp]!;
    const v = this.transmit(cp, p, dest);
    this.verdict.created = created;
    let pkts: number;
    if (fl & CONN_F.ONE_PACKET) pkts = this.tunables.v.sync_threshold!;
    else pkts = ++t.inPkts[cp]!;
    if (this.syncState & SYNC_STATE.MASTER) this.callSyncHook(cp, pkts);
    else if (fl & CONN_F.ONE_PACKET && t.control[cp]! >= 0) t.inPkts[t.control[cp]!]!++;
    this.connPut(cp);
    return v;
  }

  /** The entry's forwarding decision, with the pmtu_disc check of ip_vs_xmit.c. */
  private transmit(cp: number, p: Packet, dest: Dest | null): Verdict {
    const fwd = this.table.flags[cp]! & CONN_F.FWD_MASK;
    if (fwd === CONN_F.BYPASS) return this.setVerdict('bypass', '', cp, null);
    const overhead = fwd === CONN_F.TUNNEL ? (this.table.daf(cp) === 6 ? 40 : 20) : 0;
    if (p.len + overhead > this.mtu) {
      const mayFragment = fwd === CONN_F.TUNNEL && !this.tunables.v.pmtu_disc;
      if (p.df && !mayFragment) {
        this.sendIcmp(p.af === 4 ? 3 : 2, p.af === 4 ? 4 : 0);
        return this.setVerdict('drop', 'frag-needed', cp, dest);
      }
    }
    return this.setVerdict('forward', '', cp, dest);
  }

  private sendIcmp(type: number, code: number): void {
    this.verdict.icmpSent = {type, code};
    this.counters.icmpSent++;
  }

  /** ip_vs_conn_put: re-arm the timer to now + timeout; a ONE_PACKET entry expires at once. */
  private connPut(cp: number): void {
    const t = this.table;
    if (t.flags[cp]! & CONN_F.ONE_PACKET) {
      this.expireEntry(cp, this.now);
      return;
    }
    t.arm(cp, this.now + t.timeout[cp]!);
  }

  private backupOnly(): boolean {
    return (this.syncState & SYNC_STATE.BACKUP) !== 0 && this.tunables.v.backup_only !== 0;
  }

  /** is_new_conn: TCP with SYN, SCTP whose first chunk is INIT. */
  private isNewConn(p: Packet): boolean {
    if (p.proto === IPPROTO_TCP) return (p.tcpFlags & TCP_FLAG.SYN) !== 0;
    if (p.proto === IPPROTO_SCTP) return p.sctpChunk === SCTP_CHUNK.INIT;
    return false;
  }

  /** is_new_conn_expected. */
  private isNewConnExpected(cp: number, mode: number): boolean {
    const t = this.table;
    if (t.control[cp]! >= 0) return false;
    const st = t.state[cp]!;
    switch (t.proto[cp]) {
      case IPPROTO_TCP:
        return st === TCP_STATE.TIME_WAIT || st === TCP_STATE.CLOSE ||
          ((mode & 2) !== 0 && st === TCP_STATE.FIN_WAIT && (t.flags[cp]! & CONN_F.NOOUTPUT) !== 0);
      case IPPROTO_SCTP:
        return st === SCTP_STATE.CLOSED;
      default:
        return false;
    }
  }

  /**
   * Whether a reused tuple is pinned by a confirmed netfilter conntrack (ip_vs_core.c, ip_vs_in's is_new_conn_expected / nf_ct_is_confirmed; docs/kernel-behaviour.md, "Port reuse"). Only entries
   * with NFCT are tracked, and 6.1 tracks IPVS flows only while an FTP (port 21) service exists.
   * A SYN meeting a TIME_WAIT/CLOSE flow that saw a FIN, or whose last packet was a client RST,
   * gets a fresh unconfirmed conntrack.
   */
  private ctConfirmed(cp: number): boolean {
    const t = this.table;
    if (!(t.flags[cp]! & CONN_F.NFCT) || this.ftpServices === 0) return false;
    const st = t.state[cp]!;
    if (t.proto[cp] === IPPROTO_TCP && (st === TCP_STATE.TIME_WAIT || st === TCP_STATE.CLOSE) &&
        t.ctInfo[cp]! & (CT_FIN | CT_RST_CLIENT)) {
      return false;
    }
    return true;
  }

  // =====================================================================================
  // Creating connections (*_conn_schedule, ip_vs_schedule, ip_vs_sched_persist, ip_vs_leave)
  // =====================================================================================

  /**
   * Returns the new entry, or -1 with this.verdict set. `p` is the packet as the client sent it;
   * for an ICMP-embedded one, `schedView` is the embedded packet as carried (inverse), which is
   * what the kernel hands the schedulers (dh/lblc/lblcr then key on its destination: the client).
   */
  private connSchedule(p: Packet, icmpEmbedded = false, schedView: Packet = p): number {
    const v = this.tunables.v;
    if (!icmpEmbedded) {
      if (p.proto === IPPROTO_TCP) {
        if (p.tcpFlags & TCP_FLAG.RST || !(v.sloppy_tcp || p.tcpFlags & TCP_FLAG.SYN)) {
          this.setVerdict('accept', 'first-packet-filter');
          return -1;
        }
      } else if (p.proto === IPPROTO_SCTP) {
        const ok = p.sctpChunk === SCTP_CHUNK.INIT || (v.sloppy_sctp !== 0 && p.sctpChunk !== SCTP_CHUNK.ABORT);
        if (!ok) {
          this.setVerdict('accept', 'first-packet-filter');
          return -1;
        }
      }
    }
    const svc = this.serviceFind(p.af, p.fwmark, p.proto, p.dst, p.dport);
    if (this.dbg(DBG.SVC_LOOKUP)) this.log.put(this.now, DBG.SVC_LOOKUP, `lookup service: ${formatAddrPort(p.dst, p.dport)} -> ${svc ? this.serviceLabel(svc) : 'not found'}`);
    if (!svc) {
      this.setVerdict('accept', VERDICT_ACCEPT_NOT_IPVS);
      return -1;
    }
    if (this.defense.todrop()) {
      if (this.dbg(DBG.PKT)) this.log.put(this.now, DBG.PKT, `drop_packet: dropping ${describePacket(p)}`);
      this.setVerdict('drop', 'drop-packet-defense');
      return -1;
    }
    const r = this.ipvsSchedule(svc, p, schedView);
    if (r >= 0) return r;
    if (r === -1) this.leave(svc, p, icmpEmbedded); // no destination
    else if (r === -2) this.setVerdict('accept', 'ftp-data-ignored');
    return -1;
  }

  /** ip_vs_schedule: >= 0 entry; -1 no destination (ignored 0); -2 deliberately ignored (1). */
  private ipvsSchedule(svc: Service, p: Packet, schedView: Packet): number {
    if (p.sport === FTPDATA) return -2;
    if (svc.flags & SVC_F.PERSISTENT) return this.schedPersist(svc, p, schedView);
    if (svc.key.kind === 'addr' && p.dport !== svc.key.port) {
      if (svc.key.port === 0) {
        if (this.dbg(DBG.ERROR)) this.log.put(this.now, DBG.ERROR, 'Schedule: port zero only supported in persistent services, check your ipvs configuration');
      }
      return -1;
    }
    const dest = this.runScheduler(svc, schedView);
    if (!dest) return -1;
    const flags = svc.flags & SVC_F.ONEPACKET && p.proto === IPPROTO_UDP ? CONN_F.ONE_PACKET : 0;
    const cp = this.connNew(p.af, p.proto, p.src, p.sport, p.dst, p.dport, dest, dest.port || p.dport, flags, p.fwmark);
    this.connStats(svc, dest);
    return cp;
  }

  private runScheduler(svc: Service, p: Packet): Dest | null {
    const sched = findScheduler(svc.scheduler);
    const dest = sched ? sched.schedule(svc, p, this.schedCtx) : null;
    if (!dest) {
      if (this.dbg(DBG.ERROR)) this.log.put(this.now, DBG.ERROR, `${svc.scheduler}: ${this.serviceLabel(svc)} - no destination available`);
    } else {
      if (this.dbg(DBG.SCHED)) this.log.put(this.now, DBG.SCHED, `${svc.scheduler}: ${describePacket(p)} -> ${formatAddrPort(dest.addr, dest.port)} ` +
        `activeconns ${dest.activeConns} inactconns ${dest.inactConns} weight ${dest.weight}`);
    }
    return dest;
  }

  /** ip_vs_sched_persist (ip_vs_core.c). */
  private schedPersist(svc: Service, p: Packet, schedView: Packet): number {
    const t = this.table;
    const snet = maskAddr(p.src, svc.netmask, svc.prefixLen);
    const svcPort = svc.key.kind === 'addr' ? svc.key.port : 0;
    let tplProto = p.proto, tplVaddr: Addr = p.dst, tplVport: number, fwmarkKey = false;
    if (svc.key.kind === 'addr' && p.dport === svcPort) {
      tplVport = svcPort !== FTPPORT ? p.dport : 0;
    } else if (svc.key.kind === 'fwmark') {
      // For fwmark services "dport != svc->port" always holds (svc->port is 0).
      tplProto = IPPROTO_IP;
      tplVaddr = svc.key.fwmark;
      tplVport = 0;
      fwmarkKey = true;
    } else {
      tplVport = 0;
    }
    let ct = t.templateLookup(p.af, tplProto, snet, tplVaddr, tplVport, fwmarkKey);
    let dest: Dest | null;
    if (ct < 0 || !this.checkTemplate(ct, null)) {
      dest = this.runScheduler(svc, schedView);
      if (!dest) return -1;
      const dport = svc.key.kind === 'addr' && p.dport === svcPort && svcPort !== FTPPORT ? dest.port : 0;
      ct = this.connNew(p.af, tplProto, snet, 0, tplVaddr, tplVport, dest, dport, CONN_F.TEMPLATE, p.fwmark, fwmarkKey);
      t.timeout[ct] = svc.timeout;
      if (this.dbg(DBG.BIND)) this.log.put(this.now, DBG.BIND, `new template ${this.labelOf(ct)}`);
    } else {
      dest = this.destOfSlot(ct)!;
    }
    let dport = p.dport;
    if (svc.key.kind === 'addr' && p.dport === svcPort && dest.port) dport = dest.port;
    const flags = svc.flags & SVC_F.ONEPACKET && p.proto === IPPROTO_UDP ? CONN_F.ONE_PACKET : 0;
    const cp = this.connNew(p.af, p.proto, p.src, p.sport, p.dst, p.dport, dest, dport, flags, p.fwmark);
    t.control[cp] = ct;
    t.nControl[ct]!++;
    this.connPut(ct); // re-arms the template with its own timeout
    this.connStats(svc, dest);
    return cp;
  }

  /** ip_vs_check_template: invalidate (ports 0xffff) a template whose dest is unusable. */
  private checkTemplate(ct: number, cdest: Dest | null): boolean {
    const t = this.table;
    const dest = this.destOfSlot(ct);
    const quiescent = dest !== null && this.tunables.v.expire_quiescent_template !== 0 && dest.weight === 0;
    if (!dest || !(dest.flags & DEST_F.AVAILABLE) || quiescent || (cdest && dest !== cdest)) {
      if (t.vport[ct] !== 0xffff) {
        t.rehash(ct, () => {
          t.dport[ct] = 0xffff;
          t.vport[ct] = 0xffff;
          t.cport[ct] = 0;
        });
      }
      if (this.dbg(DBG.BIND)) this.log.put(this.now, DBG.BIND, `template ${this.labelOf(ct)} invalidated`);
      return false;
    }
    return true;
  }

  /** ip_vs_leave: cache bypass, FTP fallback accept, ICMP port unreachable and drop. */
  private leave(svc: Service, p: Packet, icmpEmbedded: boolean): void {
    const dstLocal = this.isLocalAddr(p.af, p.dst);
    if (this.tunables.v.cache_bypass && svc.key.kind === 'fwmark' && !icmpEmbedded && !dstLocal &&
        !isMulticastOrBroadcast(p.dst)) {
      const flags = CONN_F.BYPASS | (svc.flags & SVC_F.ONEPACKET && p.proto === IPPROTO_UDP ? CONN_F.ONE_PACKET : 0);
      const cp = this.connNew(p.af, p.proto, p.src, p.sport, p.dst, p.dport, null, 0, flags, 0);
      this.verdict.created = true;
      this.handleEntryInput(cp, p);
      return;
    }
    if (svc.key.kind === 'addr' && svc.key.port === FTPPORT && p.dport !== FTPPORT) {
      this.setVerdict('accept', 'ftp-data-ignored');
      return;
    }
    if (icmpEmbedded) {
      this.setVerdict('drop', 'icmp-embedded-no-dest');
      return;
    }
    this.sendIcmp(p.af === 4 ? 3 : 1, p.af === 4 ? 3 : 4);
    this.setVerdict('drop', 'no-destination');
  }

  private isLocalAddr(af: Af, a: Addr): boolean {
    if (this.localAddrs.has(a)) return true;
    for (const svc of this.services) if (svc.key.kind === 'addr' && svc.key.af === af && svc.key.addr === a) return true;
    return false;
  }

  /** ip_vs_conn_new + ip_vs_bind_dest. */
  private connNew(af: Af, proto: number, caddr: Addr, cport: number, vaddr: Addr, vport: number,
    dest: Dest | null, dport: number, flags: number, fwmark: number, fwmarkTemplate = false): number {
    const daddr: Addr = dest ? dest.addr : (af === 4 ? 0 : '::');
    return this.createConn({af, daf: dest ? dest.af : af, proto, caddr, cport, vaddr, vport, daddr, dport, flags, fwmark,
      fwmarkTemplate, dest: -1}, dest, '');
  }

  /** The common part of ip_vs_conn_new: allocate and hash, bind the dest, arm the first 3 s timer. */
  private createConn(c: NewConn, dest: Dest | null, note: string): number {
    const t = this.table;
    // c is the caller's fresh literal: adjusting it in place spares an allocation per connection
    const flags = c.flags = this.tunables.v.conntrack ? c.flags | CONN_F.NFCT : c.flags;
    const i = t.create(c, this.now, !(flags & CONN_F.ONE_PACKET)); // bindDest sets the dest
    if (dest) this.bindDest(i, dest);
    this.tally[this.tallyIndex(i)]!++;
    t.timeout[i] = CONN_INITIAL_TIMEOUT;
    t.arm(i, this.now + CONN_INITIAL_TIMEOUT);
    if (!(flags & CONN_F.TEMPLATE)) this.counters.connsCreated++;
    if (this.dbg(DBG.CONN)) this.log.put(this.now, DBG.CONN, `${note}new conn ${this.labelOf(i)}`);
    return i;
  }

  /** ip_vs_bind_dest: flags from the dest, counters, OVERLOAD. */
  private bindDest(i: number, dest: Dest): void {
    const t = this.table;
    let connFlags = dest.connFlags;
    if (t.proto[i] !== IPPROTO_UDP) connFlags &= ~CONN_F.ONE_PACKET;
    if (t.flags[i]! & CONN_F.SYNC) {
      if (!(t.flags[i]! & CONN_F.TEMPLATE)) connFlags &= ~CONN_F.INACTIVE;
      t.flags[i] &= ~(CONN_F.FWD_MASK | CONN_F.NOOUTPUT);
    }
    t.flags[i] |= connFlags;
    t.dest[i] = dest.id;
    dest.refs++;
    if (t.flags[i]! & CONN_F.TEMPLATE) dest.persistConns++;
    else if (t.flags[i]! & CONN_F.INACTIVE) dest.inactConns++;
    else dest.activeConns++;
    if (dest.uThreshold !== 0 && dest.activeConns + dest.inactConns >= dest.uThreshold) {
      dest.flags |= DEST_F.OVERLOAD;
    }
  }

  /** ip_vs_unbind_dest. */
  private unbindDest(i: number): void {
    const t = this.table;
    const dest = this.destOfSlot(i);
    if (!dest) return;
    if (t.flags[i]! & CONN_F.TEMPLATE) dest.persistConns--;
    else if (t.flags[i]! & CONN_F.INACTIVE) dest.inactConns--;
    else dest.activeConns--;
    const total = dest.activeConns + dest.inactConns;
    if (dest.lThreshold !== 0) {
      if (total < dest.lThreshold) dest.flags &= ~DEST_F.OVERLOAD;
    } else if (dest.uThreshold !== 0) {
      if (total * 4 < dest.uThreshold * 3) dest.flags &= ~DEST_F.OVERLOAD;
    } else {
      dest.flags &= ~DEST_F.OVERLOAD;
    }
    dest.refs--;
    t.dest[i] = -1;
  }

  /** The destination an entry is bound to, by entry id (null: unbound or the entry is gone). */
  destOf(id: ConnId): Dest | null {
    const i = this.table.slotOf(id);
    return i >= 0 ? this.destOfSlot(i) : null;
  }

  /** The destination of the entry in slot `i` (engine-internal: slots, not ids). */
  destOfSlot(i: number): Dest | null {
    const id = this.table.dest[i]!;
    return id >= 0 ? this.dests[id] ?? null : null;
  }

  /** ip_vs_conn_stats: one new connection for dest, service and total. */
  private connStats(svc: Service, dest: Dest): void {
    dest.stats.conns++;
    svc.stats.conns++;
    this.totStats.conns++;
  }

  /** ip_vs_in_stats / ip_vs_out_stats: one packet for the dest, its service and the total. */
  private inStats(dest: Dest | null, len: number): void {
    if (!dest || !(dest.flags & DEST_F.AVAILABLE)) return;
    countIn(dest.stats, len);
    countIn(dest.svc.stats, len);
    countIn(this.totStats, len);
  }

  private outStats(dest: Dest | null, len: number): void {
    if (!dest || !(dest.flags & DEST_F.AVAILABLE)) return;
    countOut(dest.stats, len);
    countOut(dest.svc.stats, len);
    countOut(this.totStats, len);
  }

  // =====================================================================================
  // State transitions (set_tcp_state, udp_state_transition, set_sctp_state)
  // =====================================================================================

  private setState(cp: number, dir: number, p: Packet): void {
    const t = this.table;
    const proto = t.proto[cp]!;
    if (proto === IPPROTO_UDP) {
      t.timeout[cp] = this.timeouts.udp[0]!;
      if (dir === DIR.OUTPUT) this.assureController(cp);
      return;
    }
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_SCTP) return;
    let d = dir;
    if (t.flags[cp]! & CONN_F.NOOUTPUT) {
      if (dir === DIR.OUTPUT) t.flags[cp] &= ~CONN_F.NOOUTPUT;
      else d = DIR.INPUT_ONLY;
    }
    const cur = t.state[cp]!;
    let next: number, active: readonly boolean[], timeouts: readonly number[], names: readonly string[], established: number;
    if (proto === IPPROTO_TCP) {
      if (t.flags[cp]! & CONN_F.NFCT) this.trackConntrack(cp, dir, p.tcpFlags);
      next = tcpNextState(this.defense.secureTable, d, p.tcpFlags, cur);
      active = TCP_ACTIVE; timeouts = this.timeouts.tcp; names = TCP_STATE_NAMES; established = TCP_STATE.ESTABLISHED;
    } else {
      next = sctpNextState(d, sctpEvent(p.sctpChunk, p.sctpChunkLen, p.sctpNextChunk), cur);
      active = SCTP_ACTIVE; timeouts = this.timeouts.sctp; names = SCTP_STATE_NAMES; established = SCTP_STATE.ESTABLISHED;
    }
    if (next !== cur) {
      const dest = this.destOfSlot(cp);
      if (dest) {
        const inactive = (t.flags[cp]! & CONN_F.INACTIVE) !== 0;
        if (!inactive && !active[next]) {
          dest.activeConns--;
          dest.inactConns++;
          t.flags[cp] |= CONN_F.INACTIVE;
        } else if (inactive && active[next]) {
          dest.activeConns++;
          dest.inactConns--;
          t.flags[cp] &= ~CONN_F.INACTIVE;
        }
      }
      if (next === established) this.assureController(cp);
      if (this.dbg(DBG.STATE)) this.log.put(this.now, DBG.STATE, `${PROTO_NAME[proto]!.toUpperCase()} ${['input', 'output', 'input only'][d]} ` +
        `${names[cur]}->${names[next]} ${this.labelOf(cp)}`);
    }
    if (next !== cur) {
      this.tally[this.tallyIndex(cp)]!--;
      t.state[cp] = next;
      this.tally[this.tallyIndex(cp)]!++;
    }
    t.timeout[cp] = timeouts[next]!;
  }

  /** ip_vs_control_assure_ct: mark the controlling template ASSURED. */
  private assureController(cp: number): void {
    const t = this.table;
    const ct = t.control[cp]!;
    if (ct >= 0 && t.flags[ct]! & CONN_F.TEMPLATE && !(t.state[ct]! & CTPL_S.ASSURED)) {
      this.tally[TALLY_TPL]!--;
      t.state[ct] |= CTPL_S.ASSURED;
      this.tally[TALLY_TPL + 1]!++;
    }
  }

  private tallyIndex(i: number): number {
    const t = this.table;
    if (t.flags[i]! & CONN_F.TEMPLATE) return TALLY_TPL + (t.state[i]! & CTPL_S.ASSURED);
    const st = t.state[i]!;
    switch (t.proto[i]) {
      case IPPROTO_TCP: return TALLY_TCP + Math.min(st, 11);
      case IPPROTO_UDP: return TALLY_UDP + Math.min(st, 1);
      default: return TALLY_SCTP + Math.min(st, 14);
    }
  }

  private trackConntrack(cp: number, dir: number, flags: number): void {
    const t = this.table;
    let ct = t.ctInfo[cp]!;
    if (flags & TCP_FLAG.FIN) ct |= CT_FIN;
    if (flags & TCP_FLAG.RST) ct = (ct & CT_FIN) | (dir === DIR.OUTPUT ? CT_RST_SERVER : CT_RST_CLIENT);
    else ct &= CT_FIN;
    t.ctInfo[cp] = ct;
  }

  // =====================================================================================
  // Packet path: replies (ip_vs_out)
  // =====================================================================================

  /** A packet from a real server (or the VIP for DR/TUN replies routed back) to a client. */
  outbound(p: Packet): Verdict {
    this.resetVerdict();
    this.counters.packetsOut++;
    this.counters.bytesOut += p.len;
    if (!this.enabled) return this.setVerdict('accept', VERDICT_ACCEPT_NOT_IPVS);
    if (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6) return this.outIcmp(p);
    if (p.proto !== IPPROTO_TCP && p.proto !== IPPROTO_UDP && p.proto !== IPPROTO_SCTP) {
      return this.setVerdict('accept', 'unsupported-proto');
    }
    const t = this.table;
    const cp = t.outLookup(p.af, p.proto, p.src, p.sport, p.dst, p.dport);
    if (cp >= 0) {
      const dest = this.destOfSlot(cp);
      this.outStats(dest, p.len);
      this.setState(cp, DIR.OUTPUT, p);
      t.outPkts[cp]!++;
      const v = this.setVerdict('forward', '', cp, dest);
      this.connPut(cp);
      return v;
    }
    if (this.tunables.v.nat_icmp_send && this.hasRealService(p.af, p.proto, p.src, p.sport)) {
      const isReset = (p.proto === IPPROTO_TCP && (p.tcpFlags & TCP_FLAG.RST) !== 0) ||
        (p.proto === IPPROTO_SCTP && p.sctpChunk === SCTP_CHUNK.ABORT);
      if (!isReset) {
        this.sendIcmp(p.af === 4 ? 3 : 1, p.af === 4 ? 3 : 4);
        return this.setVerdict('drop', 'nat-icmp-send');
      }
    }
    return this.setVerdict('accept', 'no-entry');
  }

  // =====================================================================================
  // ICMP (ip_vs_in_icmp, ip_vs_out_icmp)
  // =====================================================================================

  private icmpRelated(p: Packet): boolean {
    const icmp = p.icmp;
    if (!icmp) return false;
    if (p.af === 4) return icmp.type === 3 || icmp.type === 4 || icmp.type === 11;
    return icmp.type < 128;
  }

  private inIcmp(p: Packet): Verdict {
    if (!this.icmpRelated(p)) return this.setVerdict('accept', 'icmp-unrelated');
    const inner = p.icmp!.inner;
    if (inner.proto !== IPPROTO_TCP && inner.proto !== IPPROTO_UDP && inner.proto !== IPPROTO_SCTP) {
      return this.setVerdict('accept', 'icmp-unrelated');
    }
    // The embedded packet went director -> client; look it up with the addresses swapped back.
    let cp = this.table.inLookup(inner.af, inner.proto, inner.dst, inner.dport, inner.src, inner.sport);
    if (cp < 0) {
      if (!this.tunables.v.schedule_icmp) return this.setVerdict('accept', 'icmp-unrelated');
      const asClient: Packet = {...inner, src: inner.dst, sport: inner.dport, dst: inner.src, dport: inner.sport, fwmark: p.fwmark};
      const r = this.connSchedule(asClient, true, {...inner, fwmark: p.fwmark, inverse: true});
      if (r < 0) return this.verdict;
      cp = r;
      this.verdict.created = true;
      this.table.arm(cp, this.now + this.table.timeout[cp]!);
    }
    if (!p.icmp!.checksumOk) return this.setVerdict('drop', 'icmp-bad-checksum', cp);
    const dest = this.destOfSlot(cp);
    this.inStats(dest, p.len);
    // No state transition and no timer re-arm for ICMP about an existing entry (ip_vs_core.c, ip_vs_in_icmp).
    return this.setVerdict('forward', '', cp, dest);
  }

  private outIcmp(p: Packet): Verdict {
    if (!this.icmpRelated(p)) return this.setVerdict('accept', 'icmp-unrelated');
    const inner = p.icmp!.inner;
    // The embedded packet went client -> real server (or VIP); find it as a reply would be found.
    const cp = this.table.outLookup(inner.af, inner.proto, inner.dst, inner.dport, inner.src, inner.sport);
    if (cp < 0) return this.setVerdict('accept', 'icmp-unrelated');
    if ((this.table.flags[cp]! & CONN_F.FWD_MASK) === CONN_F.MASQ && !p.icmp!.checksumOk) {
      return this.setVerdict('drop', 'icmp-bad-checksum', cp);
    }
    const dest = this.destOfSlot(cp);
    this.outStats(dest, p.len);
    return this.setVerdict('forward', '', cp, dest);
  }

  // =====================================================================================
  // Expiry (ip_vs_conn_expire, ip_vs_conn_del, ip_vs_conn_expire_now)
  // =====================================================================================

  private expireEntry(i: number, firedAt: number): void {
    const t = this.table;
    if (t.nControl[i]! > 0) {
      // Still controls others: expire later, in 60-second steps, and the timeout stays 60 s.
      t.timeout[i] = CONN_DEFER_TIMEOUT;
      if (this.syncState & SYNC_STATE.MASTER) this.callSyncHook(i, this.tunables.v.sync_threshold!);
      t.arm(i, firedAt + CONN_DEFER_TIMEOUT);
      if (this.dbg(DBG.CONN)) this.log.put(this.now, DBG.CONN, `delayed: conn ${this.labelOf(i)} controls ${t.nControl[i]}`);
      return;
    }
    const ctl = t.control[i]!;
    if (ctl >= 0) {
      const hasRef = t.timeout[i] === 0;
      t.nControl[ctl]!--;
      t.control[i] = -1;
      if (hasRef && t.nControl[ctl] === 0 &&
          (!(t.flags[ctl]! & CONN_F.TEMPLATE) || !(t.state[ctl]! & CTPL_S.ASSURED))) {
        if (this.dbg(DBG.DROP_ENTRY)) this.log.put(this.now, DBG.DROP_ENTRY, 'drop controlling connection');
        this.connDel(ctl);
      }
    }
    if (this.dbg(DBG.CONN)) this.log.put(this.now, DBG.CONN, `expire conn ${this.labelOf(i)}`);
    this.unbindDest(i);
    if (!(t.flags[i]! & CONN_F.TEMPLATE)) this.counters.connsExpired++;
    this.tally[this.tallyIndex(i)]!--;
    t.free(i);
  }

  /** ip_vs_conn_del on an entry by id (nothing if it is gone). */
  delEntry(id: ConnId): void {
    const i = this.table.slotOf(id);
    if (i >= 0) this.connDel(i);
  }

  /** ip_vs_conn_del: cancel a pending timer and expire now, dropping the chain's idle controller. */
  private connDel(i: number): void {
    const t = this.table;
    if (!t.isLive(i) || !t.disarm(i)) return;
    if (t.control[i]! >= 0) t.timeout[i] = 0;
    this.expireEntry(i, this.now);
  }

  /** ip_vs_conn_expire_now: the pending timer fires at once. */
  private expireNow(i: number): void {
    const t = this.table;
    if (t.disarm(i)) this.expireEntry(i, this.now);
  }

  // =====================================================================================
  // Time
  // =====================================================================================

  /** Advance virtual time to `to` (ms), running every timer due on the way in time order. */
  tick(to: number): void {
    if (to < this.now) return;
    for (;;) {
      const next = Math.min(this.nextDefense, this.nextEstimate, this.nextTrash, this.nodestFlushAt);
      if (next > to) break;
      this.expireUntil(next);
      if (this.nodestFlushAt === next) { this.nodestFlushAt = Infinity; this.nodestFlush(); }
      if (this.nextDefense === next) {
        this.nextDefense += DEFENSE_PERIOD;
        this.defenseTimer();
        this.schedulerTicks();
      }
      if (this.nextEstimate === next) {
        this.nextEstimate += ESTIMATOR_PERIOD;
        if (this.estimationRunning) this.estimate();
      }
      if (this.nextTrash === next) this.trashTimer();
    }
    this.expireUntil(to);
  }

  private expireUntil(t: number): void {
    this.now = t;
    const due = this.due;
    due.length = 0;
    this.table.collectDue(t, due);
    for (const i of due) {
      // A due entry may have been freed or re-armed by an earlier one's expiry in this batch.
      if (!this.table.isLive(i) || this.table.timerPending(i)) continue;
      this.expireEntry(i, this.table.expires[i]!);
    }
  }

  private schedulerTicks(): void {
    for (const svc of this.services) findScheduler(svc.scheduler)?.tick?.(svc, this.schedCtx);
  }

  private estimate(): void {
    this.totStats.estimate();
    for (const svc of this.services) {
      svc.stats.estimate();
      for (const d of svc.dests) d.stats.estimate();
    }
  }

  // =====================================================================================
  // Queries
  // =====================================================================================

  /** "TCP client -> virtual -> real" of an entry by id ("" when the entry is gone). */
  connLabel(id: ConnId): string {
    const i = this.table.slotOf(id);
    return i >= 0 ? this.labelOf(i) : '';
  }

  /** The state name of an entry by id ("" when the entry is gone). */
  stateName(id: ConnId): string {
    const i = this.table.slotOf(id);
    return i >= 0 ? this.stateNameOf(i) : '';
  }

  private labelOf(i: number): string {
    const t = this.table;
    const proto = t.proto[i] === IPPROTO_IP ? 'IP' : (PROTO_NAME[t.proto[i]!] ?? String(t.proto[i])).toUpperCase();
    const v = t.isFwmarkTemplate(i) ? `FWM ${t.vaddr[i]}` : formatAddrPort(t.virtualAddr(i), t.vport[i]!);
    return `${proto} ${formatAddrPort(t.clientAddr(i), t.cport[i]!)} -> ${v} -> ${formatAddrPort(t.destAddr(i), t.dport[i]!)}`;
  }

  private stateNameOf(i: number): string {
    const t = this.table;
    const st = t.state[i]!;
    if (t.flags[i]! & CONN_F.TEMPLATE) return st & CTPL_S.ASSURED ? 'ASSURED' : 'NONE';
    switch (t.proto[i]) {
      case IPPROTO_TCP: return TCP_STATE_NAMES[st] ?? 'ERR!';
      case IPPROTO_UDP: return UDP_STATE_NAMES[st] ?? 'ERR!';
      case IPPROTO_SCTP: return SCTP_STATE_NAMES[st] ?? 'ERR!';
      default: return 'ERR!';
    }
  }

  /**
   * An entry by id, or null when it is gone: expired, deleted, or its slot reused by another entry
   * (ids carry the slot's generation, so a stale id never shows a different connection).
   */
  conn(id: ConnId): ConnInfo | null {
    const i = this.table.slotOf(id);
    return i >= 0 ? this.infoOf(i) : null;
  }

  private infoOf(i: number): ConnInfo {
    const t = this.table;
    const proto = t.proto[i]!;
    const ctl = t.control[i]!;
    return {
      id: t.idOf(i),
      af: t.af(i),
      proto,
      protoName: proto === IPPROTO_IP ? 'IP' : (PROTO_NAME[proto] ?? String(proto)).toUpperCase(),
      caddr: t.clientAddr(i), cport: t.cport[i]!,
      vaddr: t.virtualAddr(i), vport: t.vport[i]!,
      daddr: t.destAddr(i), dport: t.dport[i]!,
      fwmarkTemplate: t.isFwmarkTemplate(i),
      fwd: FWD_BY_VALUE[t.flags[i]! & CONN_F.FWD_MASK] ?? 'masq',
      flags: t.flags[i]!,
      state: t.state[i]!,
      stateName: this.stateNameOf(i),
      template: (t.flags[i]! & CONN_F.TEMPLATE) !== 0,
      timeout: t.timeout[i]!,
      expiresIn: Math.max(0, t.expires[i]! - this.now),
      inPkts: t.inPkts[i]!,
      outPkts: t.outPkts[i]!,
      destId: t.dest[i]!,
      control: ctl >= 0 ? t.idOf(ctl) : -1,
      nControl: t.nControl[i]!,
      fwmark: t.fwmark[i]!,
    };
  }

  /** Find the connection entry of a tuple as the input lookup would (tests, UI "goto"). */
  findConn(af: Af, proto: ProtoName, caddr: Addr, cport: number, vaddr: Addr, vport: number): ConnInfo | null {
    const i = this.table.inLookup(af, PROTO_NUM[proto], caddr, cport, vaddr, vport);
    return i >= 0 ? this.infoOf(i) : null;
  }

  /** Every live entry (connections and templates), in slot order. */
  allConns(): ConnInfo[] {
    const out: ConnInfo[] = [];
    this.table.forEachLive((i) => out.push(this.infoOf(i)));
    return out;
  }

  /** A window of connections, filtered and sorted: what a UI table shows (see conn-query.ts). */
  queryConns(q: ConnQuery = {}): {total: number; rows: ConnInfo[]} {
    const {total, ids} = queryConnIds(this.queryHost, q);
    return {total, rows: ids.map((i) => this.infoOf(i))};
  }

  /**
   * Live entries per state name, for the states mix ("SYN_RECV", "UDP", "TEMPLATE ASSURED"...).
   * TCP and SCTP share names like ESTABLISHED: their counts add up. Zero counts are left out.
   */
  stateCounts(): Map<string, number> {
    const m = new Map<string, number>();
    this.tally.forEach((n, k) => {
      if (n) m.set(TALLY_NAMES[k]!, (m.get(TALLY_NAMES[k]!) ?? 0) + n);
    });
    return m;
  }

  /** Share of the table in SYN_RECV (0..1): how much of it a SYN flood occupies. */
  synRecvShare(): number {
    const n = this.table.count;
    return n ? this.tally[TALLY_TCP + TCP_STATE.SYN_RECV]! / n : 0;
  }

  /** Aggregates for a UI frame: cheap (no walk over the connection table). */
  snapshot(): EngineSnapshot {
    const v = this.tunables.v;
    return {
      now: this.now,
      conns: this.table.count - this.table.templates,
      templates: this.table.templates,
      totals: this.totStats.read(),
      rates: this.totStats.rates(),
      synRecvShare: this.synRecvShare(),
      states: Object.fromEntries(this.stateCounts()),
      memory: {
        availablePages: this.availablePages(),
        amemthresh: v.amemthresh!,
        totalPages: Math.floor(this.memory.totalBytes / PAGE_SIZE),
      },
      defense: {
        drop_entry: {mode: v.drop_entry!, active: this.defense.dropEntryOn},
        drop_packet: {mode: v.drop_packet!, active: this.defense.dropRate > 0, rate: this.defense.dropRate},
        secure_tcp: {mode: v.secure_tcp!, active: this.defense.secureTable},
      },
      counters: {
        packetsIn: this.counters.packetsIn,
        packetsOut: this.counters.packetsOut,
        connsCreated: this.counters.connsCreated,
        connsExpired: this.counters.connsExpired,
        dropped: Object.fromEntries(this.counters.dropped),
        dropEntry: Object.fromEntries(this.counters.dropEntry),
      },
      services: this.services.map((svc) => ({
        id: svc.id,
        label: this.serviceLabel(svc),
        scheduler: svc.scheduler,
        persistent: (svc.flags & SVC_F.PERSISTENT) !== 0,
        stats: svc.stats.read(),
        rates: svc.stats.rates(),
        dests: svc.dests.map((d) => ({
          id: d.id,
          label: formatAddrPort(d.addr, d.port),
          fwd: d.fwd,
          weight: d.weight,
          activeConns: d.activeConns,
          inactConns: d.inactConns,
          persistConns: d.persistConns,
          overloaded: (d.flags & DEST_F.OVERLOAD) !== 0,
          stats: d.stats.read(),
          rates: d.stats.rates(),
        })),
      })),
    };
  }
}


/**
 * ip_vs_new_dest's address check: IPv4 must be unicast or local (inet_addr_type: 0.0.0.0/8,
 * 255.255.255.255 and multicast are refused); IPv6 must be unicast and not link-local, unless local.
 */
function usableDestAddr(a: Addr, local: boolean): boolean {
  if (typeof a === 'number') {
    if (local) return true;
    return a >>> 24 !== 0 && a !== 0xffffffff && a >>> 28 !== 0xe;
  }
  if (local) return true;
  const g = parseIPv6Groups(a)!;
  const multicast = g[0]! >>> 8 === 0xff;
  const unspecified = g.every((x) => x === 0);
  const linkLocal = (g[0]! & 0xffc0) === 0xfe80;
  return !multicast && !unspecified && !linkLocal;
}

function countIn(s: Stats, len: number): void {
  s.inpkts++;
  s.inbytes += len;
}

function countOut(s: Stats, len: number): void {
  s.outpkts++;
  s.outbytes += len;
}

function withServiceDefaults(key: ServiceKey, o: Partial<ServiceOptions>): ServiceOptions {
  return {
    scheduler: o.scheduler ?? 'wlc',
    flags: o.flags ?? 0,
    persistTimeout: o.persistTimeout ?? 0,
    netmask: o.netmask ?? 0xffffffff,
    prefixLen: o.prefixLen ?? (key.af === 6 ? 128 : 32),
    pe: o.pe ?? '',
  };
}

function withDestDefaults(o: Partial<DestOptions>): DestOptions {
  return {fwd: o.fwd ?? 'route', weight: o.weight ?? 1, uThreshold: o.uThreshold ?? 0, lThreshold: o.lThreshold ?? 0};
}

export function describeKey(key: ServiceKey): string {
  if (key.kind === 'fwmark') return `FWM ${key.fwmark}${key.af === 6 ? ' IPv6' : ''}`;
  return `${key.proto.toUpperCase()} ${formatAddrPort(key.addr, key.port)}`;
}

function describePacket(p: Packet): string {
  const proto = PROTO_NAME[p.proto]?.toUpperCase() ?? `proto ${p.proto}`;
  return `${proto} ${formatAddrPort(p.src, p.sport)}->${formatAddrPort(p.dst, p.dport)}`;
}

function isMulticastOrBroadcast(a: Addr): boolean {
  if (typeof a === 'number') return a >>> 28 === 0xe || a === 0xffffffff;
  return a.startsWith('ff');
}

export {formatAddr};
