// The state every part of the engine shares, as the kernel's struct netns_ipvs (ip_vs.h): the
// tunables, the connection table, services and real servers, timers, counters and the reusable
// verdict, plus the few helpers all parts use (debug gating, labels, the per-state tally). Each
// kernel file's part is a class over it: conn.ts (ip_vs_conn.c), ctl.ts (ip_vs_ctl.c), xmit.ts
// (ip_vs_xmit.c), core.ts (ip_vs_core.c), view.ts (the /proc and UI views); engine.ts is the facade.
import {type Addr, type Af, formatAddrPort} from './addr.js';
import {
  CONN_F, CTPL_S, DEFENSE_PERIOD, ESTIMATOR_PERIOD, type FwdMethod, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP,
  IPPROTO_UDP, KERNEL_CONN_ENTRY_BYTES, PAGE_SIZE,
} from './constants.js';
import {ConnTable} from './conn-table.js';
import type {ConnQuery, ConnSortKey, QueryHost, TemplateSwitch} from './conn-query.js';
import {type ConnId, ConnReader, type ConnView} from './conn-view.js';
import {DebugLog} from './debug-log.js';
import {DefenseState} from './defense.js';
import {TCP_DEFAULT_TIMEOUTS, TCP_STATE_NAMES} from './proto/tcp.js';
import {UDP_DEFAULT_TIMEOUTS, UDP_STATE_NAMES} from './proto/udp.js';
import {SCTP_DEFAULT_TIMEOUTS, SCTP_STATE_NAMES} from './proto/sctp.js';
import {type Rng, seededRng} from './rng.js';
import {Stats, type StatsCounters, type StatsRates} from './stats.js';
import {Tunables} from './tunables.js';
import type {Dest, ProtoName, SchedContext, Service, Verdict, VerdictReason} from './types.js';

export const PROTO_NUM: Record<ProtoName, number> = {tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP};
export const PROTO_NAME: Record<number, ProtoName> = {
  [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_SCTP]: 'sctp',
};
export const FTPPORT = 21;
export const FTPDATA = 20;
/** ip_unprivileged_port_start default: the FTP fallback lookup applies to ports >= this (or 20). */
export const UNPRIVILEGED_PORT_START = 1024;

// ctInfo bits: what netfilter's TCP tracker would know about the flow (for conntrack reuse).
export const CT_FIN = 1, CT_RST_CLIENT = 2, CT_RST_SERVER = 4;

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
export interface StatsPair {
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

export const VERDICT_ACCEPT_NOT_IPVS = 'not-ipvs';

// Layout of the state tally: TCP states, then UDP, SCTP, then the two template states.
export const TALLY_TCP = 0, TALLY_UDP = 12, TALLY_SCTP = 14, TALLY_TPL = 29, TALLY_SIZE = 31;
export const TALLY_NAMES: readonly string[] = [
  ...TCP_STATE_NAMES, ...UDP_STATE_NAMES, ...SCTP_STATE_NAMES, 'TEMPLATE NONE', 'TEMPLATE ASSURED',
];

export abstract class IpvsNetns {
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
  protected syncHooks: SyncHook[] = [];

  protected services: Service[] = [];
  protected svcByAddr = new Map<number, Map<Addr, Service>>(); // key: af<<24 | proto<<16 | port
  protected svcByMark = new Map<number, Service>(); // key: mark * 2 + (af == 6)
  protected ftpServices = 0;
  protected port0Services = 0;
  protected enabled = false;
  protected nextSvcId = 1;
  protected nextDestId = 1;
  protected dests: (Dest | undefined)[] = [];
  protected trash: Dest[] = [];
  protected rsTable = new Map<string, Dest[]>();
  protected localAddrs: Set<Addr>;

  /** Protocol timeout tables (per netns copies, changed by --set). */
  readonly timeouts = {
    tcp: [...TCP_DEFAULT_TIMEOUTS],
    udp: [...UDP_DEFAULT_TIMEOUTS],
    sctp: [...SCTP_DEFAULT_TIMEOUTS],
  };

  memory: HostMemory;
  protected availOverride: number | null = null;
  readonly mtu: number;

  // periodic timers
  protected nextDefense: number;
  protected nextEstimate: number;
  protected nextTrash = Infinity;
  protected nodestFlushAt = Infinity;
  protected estimationRunning = true;

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
  protected readonly tally = new Int32Array(TALLY_SIZE);

  protected readonly verdict: Verdict = {action: 'accept', reason: '', conn: -1, dest: null, created: false, icmpSent: null};
  protected readonly due: number[] = [];
  protected readonly syncScratch: number[] = [];
  protected readonly schedCtx: SchedContext;
  protected readonly queryHost: QueryHost;

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
    this.queryHost = {table: this.table, connLabel: (i) => this.labelOf(i), stateName: (i) => this.stateNameOf(i),
      stateCount: (name, templates) => this.stateCountOf(name, templates)};
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

  /** Whether a debug message of this level would be kept: checked before building it (hot paths). */
  protected dbg(level: number): boolean {
    return level <= this.tunables.v.debug_level!;
  }

  protected labelOf(i: number): string {
    const t = this.table;
    const proto = t.protoOf(i) === IPPROTO_IP ? 'IP' : (PROTO_NAME[t.protoOf(i)] ?? String(t.protoOf(i))).toUpperCase();
    const v = t.isFwmarkTemplate(i) ? `FWM ${t.virtualAddr(i)}` : formatAddrPort(t.virtualAddr(i), t.virtualPortOf(i));
    return `${proto} ${formatAddrPort(t.clientAddr(i), t.clientPortOf(i))} -> ${v} -> ${formatAddrPort(t.destAddr(i), t.destPortOf(i))}`;
  }

  protected stateNameOf(i: number): string {
    const t = this.table;
    const st = t.stateOf(i);
    if (t.flagsOf(i) & CONN_F.TEMPLATE) return st & CTPL_S.ASSURED ? 'ASSURED' : 'NONE';
    switch (t.protoOf(i)) {
      case IPPROTO_TCP: return TCP_STATE_NAMES[st] ?? 'ERR!';
      case IPPROTO_UDP: return UDP_STATE_NAMES[st] ?? 'ERR!';
      case IPPROTO_SCTP: return SCTP_STATE_NAMES[st] ?? 'ERR!';
      default: return 'ERR!';
    }
  }

  /** The destination of the entry in slot `i` (engine-internal: slots, not ids). */
  destOfSlot(i: number): Dest | null {
    const id = this.table.destIdOf(i);
    return id >= 0 ? this.dests[id] ?? null : null;
  }

  /**
   * Live entries whose state name (stateNameOf) is `name`, from the tally, or -1 where the tally's
   * clamped last state of each protocol ('BUG!') may hold states stateNameOf names otherwise.
   */
  protected stateCountOf(name: string, templates: TemplateSwitch): number {
    if (name === 'BUG!') return -1;
    let n = 0;
    for (let k = 0; k < TALLY_SIZE; k++) {
      const template = k >= TALLY_TPL;
      if (templates !== 'include' && template !== (templates === 'only')) continue;
      if ((template ? TALLY_NAMES[k]!.slice('TEMPLATE '.length) : TALLY_NAMES[k]) === name) n += this.tally[k]!;
    }
    return n;
  }

  protected tallyIndex(i: number): number {
    const t = this.table;
    if (t.flagsOf(i) & CONN_F.TEMPLATE) return TALLY_TPL + (t.stateOf(i) & CTPL_S.ASSURED);
    const st = t.stateOf(i);
    switch (t.protoOf(i)) {
      case IPPROTO_TCP: return TALLY_TCP + Math.min(st, 11);
      case IPPROTO_UDP: return TALLY_UDP + Math.min(st, 1);
      default: return TALLY_SCTP + Math.min(st, 14);
    }
  }

  protected callSyncHook(i: number, pkts: number): void {
    const hooks = this.syncHooks;
    if (hooks.length === 0) return;
    const id = this.table.idOf(i);
    for (let k = 0; k < hooks.length; k++) hooks[k]!(id, pkts);
  }

  protected isLocalAddr(af: Af, a: Addr): boolean {
    if (this.localAddrs.has(a)) return true;
    for (const svc of this.services) if (svc.key.kind === 'addr' && svc.key.af === af && svc.key.addr === a) return true;
    return false;
  }

  serviceLabel(svc: Service): string {
    const k = svc.key;
    if (k.kind === 'fwmark') return `FWM ${k.fwmark}`;
    return `${k.proto.toUpperCase()} ${formatAddrPort(k.addr, k.port)}`;
  }

  /** Re-evaluates what depends on a sysctl after a write (the proc handlers of ip_vs_ctl.c). */
  protected abstract onTunableChange(name: string): void;
}
