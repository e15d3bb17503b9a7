// The narrow interface between a UI (or ssh session, or the CLI) and a running balancer. Three
// implementations are meant to sit behind it: the simulation (LocalBackend, below), a real packet
// data plane running the engine on wall-clock time, and the host kernel's own IPVS read through
// /proc and driven with ipvsadm. Everything crossing it is plain, serialisable data, so a backend
// may equally live in a worker or another process. docs/ARCHITECTURE.md ("Backends") describes it.
import {type SyncStatus, syncStatusOf} from './sync-status.js';
import type {ConnId, ConnInfo, ConnQuery, EngineSnapshot} from '../engine/engine.js';
import type {LogLine} from '../engine/debug-log.js';
import type {DestOptions, ServiceKey, ServiceOptions} from '../engine/types.js';
import type {WriteResult} from '../engine/tunables.js';
import {TUNABLES} from '../engine/tunables.js';
import {CONN_F} from '../engine/constants.js';
import type {GeneratorSpec, GeneratorStats} from '../traffic/generators.js';
import type {Simulation} from '../sim/simulation.js';
import {type Addr, type Af, formatAddrPort} from '../engine/addr.js';

export type {ConnId, ConnInfo, ConnQuery, EngineSnapshot, LogLine, ServiceKey, ServiceOptions, DestOptions, WriteResult};

/** Virtual-time control as the UI sees it. */
export interface ClockInfo {
  /** Requested speed (virtual ms per wall ms); 1 on a wall-clock backend. */
  speed: number;
  paused: boolean;
  /** Speed actually achieved over the last second (lower when the event budget ran out). */
  effective: number;
  /** True when the per-frame event budget could not keep up with the requested speed. */
  lagging: boolean;
}

/** The wall-clock driver of the simulation (src/app/clock.ts implements it). */
export interface ClockControl {
  info(): ClockInfo;
  setSpeed(x: number): void;
  setPaused(p: boolean): void;
  /** Advance virtual time by `ms` now (used while paused). */
  step(ms: number): void;
}

export interface TunableRow {
  name: string;
  value: string;
  defaultText: string;
  allowed: string;
  rule: string;
  summary: string;
  help: string;
  handler: string;
  category: string;
  differs: boolean;
}

export interface GeneratorRow {
  id: string;
  kind: string;
  to: string;
  rate: number;
  running: boolean;
  inFlight: number;
  stats: GeneratorStats;
}

export interface ConnDetail {
  info: ConnInfo;
  label: string;
  flagNames: string[];
  /** The controlling template's label, if any. */
  controller: string | null;
  destLabel: string | null;
  /** Recent debug-log lines that mention this entry's client address:port. */
  trace: LogLine[];
}

/** A page of the connection table: the number of matches and the requested window. */
export interface ConnPage {
  total: number;
  rows: ConnInfo[];
  /** How old the rows are (ms), when they come from an earlier scan rather than from now (kernel backend). */
  ageMs?: number;
}

export interface ServiceConfig {
  key: ServiceKey;
  opts: ServiceOptions;
}

export interface DestConfig {
  key: ServiceKey;
  af: Af;
  addr: Addr;
  port: number;
  opts: DestOptions;
  lastWeight: number;
}

/**
 * Every change a backend accepts, as data (what the UI's keys, forms and command bar build and the
 * audit log records). Commands a backend's capabilities exclude are refused with BackendUnsupported.
 */
export type Command =
  | {op: 'set-tunable'; name: string; value: string}
  | {op: 'add-service'; key: ServiceKey; opts: Partial<ServiceOptions>}
  | {op: 'edit-service'; key: ServiceKey; opts: Partial<ServiceOptions>}
  | {op: 'del-service'; key: ServiceKey}
  | {op: 'add-dest'; key: ServiceKey; af: Af; addr: Addr; port: number; opts: Partial<DestOptions>}
  | {op: 'edit-dest'; key: ServiceKey; addr: Addr; port: number; opts: Partial<DestOptions>}
  | {op: 'del-dest'; key: ServiceKey; addr: Addr; port: number}
  | {op: 'timeouts'; tcp: number; tcpfin: number; udp: number}
  | {op: 'zero'; key?: ServiceKey}
  | {op: 'flush'}
  | {op: 'traffic-add'; spec: GeneratorSpec}
  | {op: 'traffic-start'; id: string}
  | {op: 'traffic-stop'; id: string}
  | {op: 'traffic-rate'; id: string; rate: number}
  | {op: 'traffic-remove'; id: string}
  | {op: 'server-failed'; rs: string; failed: boolean}
  | {op: 'speed'; speed: number}
  | {op: 'pause'; paused: boolean}
  | {op: 'step'; ms: number}
  | {op: 'sync-start'; role: 'master' | 'backup'; syncId: number; mcastIfn?: string}
  | {op: 'sync-stop'; role: 'master' | 'backup'};

/** What a command did: `error` when a tunable's handler refused the value, `id` of a new generator. */
export interface CommandResult {
  error?: string;
  /** set-tunable: whether the value changed. */
  changed?: boolean;
  /** traffic-add: the new generator's id. */
  id?: string;
}

/**
 * What a backend can do beyond the core (services, real servers, tunables, connections, counters,
 * the debug log). The UI shows a missing one as "not available with this backend".
 */
export interface BackendCapabilities {
  /** Speed, pause and single steps of the clock (only a simulation has virtual time). */
  virtualTime: boolean;
  /** Built-in traffic generators and simulated real-server failures. */
  traffic: boolean;
  /** Starting and stopping connection-sync daemons. */
  sync: boolean;
}

export type BackendKind = 'simulation' | 'dataplane' | 'kernel';

/** Which capability a command needs (none: every backend accepts it). */
export function capabilityOf(cmd: Command): keyof BackendCapabilities | null {
  switch (cmd.op) {
    case 'speed': case 'pause': case 'step': return 'virtualTime';
    case 'traffic-add': case 'traffic-start': case 'traffic-stop': case 'traffic-rate': case 'traffic-remove':
    case 'server-failed': return 'traffic';
    case 'sync-start': case 'sync-stop': return 'sync';
    default: return null;
  }
}

/** A command the backend cannot carry out at all (its kind lacks the capability). */
export class BackendUnsupported extends Error {
  constructor(readonly backend: BackendKind, readonly capability: keyof BackendCapabilities) {
    super(`not available with the ${backend} backend (no ${CAPABILITY_TEXT[capability]})`);
    this.name = 'BackendUnsupported';
  }
}

const CAPABILITY_TEXT: Record<keyof BackendCapabilities, string> = {
  virtualTime: 'virtual time', traffic: 'traffic generators', sync: 'sync daemons',
};

/** Throw BackendUnsupported if `b` lacks what `cmd` needs. */
export function checkCapability(b: Pick<Backend, 'kind' | 'capabilities'>, cmd: Command): void {
  const need = capabilityOf(cmd);
  if (need && !b.capabilities[need]) throw new BackendUnsupported(b.kind, need);
}

export interface Backend {
  readonly kind: BackendKind;
  readonly capabilities: BackendCapabilities;
  // ---- queries: plain data, cheap enough for every UI frame unless noted
  snapshot(): EngineSnapshot;
  /** The clock (a wall-clock backend reports speed 1, never paused). */
  clock(): ClockInfo;
  /** A filtered, sorted window of the connection table (one pass over it). */
  queryConns(q: ConnQuery): ConnPage;
  /** One entry by id; null once it is gone (expired, or deleted), never another entry. */
  connDetail(id: ConnId): ConnDetail | null;
  /** A service's key and options by snapshot id (edit forms, weight changes). */
  serviceConfig(id: number): ServiceConfig | null;
  destConfig(id: number): DestConfig | null;
  tunables(): TunableRow[];
  logSince(seq: number): LogLine[];
  /** Traffic generators ([] without the traffic capability). */
  generators(): GeneratorRow[];
  /** Real servers marked failed ("addr:port"; [] without the traffic capability). */
  failedServers(): string[];
  syncStatus(): SyncStatus;
  // ---- the one command entry point (throws IpvsError, GeneratorError, BackendUnsupported...)
  apply(cmd: Command): CommandResult;
}

const FLAG_NAMES: [number, string][] = [
  [CONN_F.TEMPLATE, 'TEMPLATE'], [CONN_F.INACTIVE, 'INACTIVE'], [CONN_F.NOOUTPUT, 'NOOUTPUT'],
  [CONN_F.HASHED, 'HASHED'], [CONN_F.SYNC, 'SYNC'], [CONN_F.NO_CPORT, 'NO_CPORT'], [CONN_F.ONE_PACKET, 'ONE_PACKET'],
  [CONN_F.NFCT, 'NFCT'], [CONN_F.IN_SEQ, 'IN_SEQ'], [CONN_F.OUT_SEQ, 'OUT_SEQ'],
];

/** A clock that does nothing (tests drive the simulation by hand). */
export class ManualClock implements ClockControl {
  speed = 1;
  paused = false;
  constructor(private readonly sim: Simulation) {}
  info(): ClockInfo {
    return {speed: this.speed, paused: this.paused, effective: this.paused ? 0 : this.speed, lagging: false};
  }
  setSpeed(x: number): void { this.speed = x; }
  setPaused(p: boolean): void { this.paused = p; }
  step(ms: number): void { this.sim.advance(ms); }
}

/** The simulation in this thread: every capability. */
export class LocalBackend implements Backend {
  readonly kind: BackendKind = 'simulation';
  readonly capabilities: BackendCapabilities = {virtualTime: true, traffic: true, sync: true};

  constructor(readonly sim: Simulation, private readonly clk: ClockControl) {}

  syncStatus(): SyncStatus {
    return syncStatusOf(this.sim);
  }

  private get e() {
    return this.sim.engine;
  }

  snapshot(): EngineSnapshot {
    return this.e.snapshot();
  }

  clock(): ClockInfo {
    return this.clk.info();
  }

  queryConns(q: ConnQuery): ConnPage {
    return this.e.queryConns(q);
  }

  connDetail(id: ConnId): ConnDetail | null {
    const info = this.e.conn(id);
    if (!info) return null;
    const flagNames = FLAG_NAMES.filter(([bit]) => info.flags & bit).map(([, n]) => n);
    const label = this.e.connLabel(id);
    const controller = info.control >= 0 ? this.e.connLabel(info.control) || null : null;
    const dest = this.e.getDest(info.destId);
    const destLabel = dest ? `${formatAddrPort(dest.addr, dest.port)} (${dest.fwd}, weight ${dest.weight})` : null;
    // The trace: log lines naming this entry's client endpoint (debug_level >= 7 records them).
    const needle = label.split(' ')[1] ?? '';
    const trace = needle ? this.e.log.since(0).filter((l) => l.msg.includes(needle)).slice(-12) : [];
    return {info, label, flagNames, controller, destLabel, trace};
  }

  tunables(): TunableRow[] {
    return TUNABLES.map((d) => {
      const value = this.e.readTunable(d.name);
      const defaultText = this.e.tunables.defaultText(d.name);
      return {
        name: d.name, value, defaultText, allowed: d.allowed, rule: d.rule, summary: d.summary,
        help: d.help, handler: d.handler, category: d.category, differs: value !== defaultText,
      };
    });
  }

  logSince(seq: number): LogLine[] {
    return this.e.log.since(seq);
  }

  generators(): GeneratorRow[] {
    return this.sim.traffic.list().map((g) => ({
      id: g.id, kind: g.spec.kind, to: g.spec.to, rate: g.spec.rate, running: g.running, inFlight: g.inFlight,
      stats: {...g.stats},
    }));
  }

  failedServers(): string[] {
    return this.sim.traffic.failedServers();
  }

  serviceConfig(id: number): ServiceConfig | null {
    const svc = this.e.listServices().find((s) => s.id === id);
    if (!svc) return null;
    return {
      key: svc.key,
      opts: {scheduler: svc.scheduler, flags: svc.flags, persistTimeout: svc.flags & 1 ? svc.timeout : 0,
        netmask: svc.netmask, prefixLen: svc.prefixLen, pe: svc.pe},
    };
  }

  destConfig(id: number): DestConfig | null {
    const d = this.e.getDest(id);
    if (!d || d.inTrash) return null;
    return {
      key: d.svc.key, af: d.af, addr: d.addr, port: d.port, lastWeight: d.lastWeight,
      opts: {fwd: d.fwd, weight: d.weight, uThreshold: d.uThreshold, lThreshold: d.lThreshold},
    };
  }

  apply(cmd: Command): CommandResult {
    checkCapability(this, cmd);
    const e = this.e;
    switch (cmd.op) {
      case 'set-tunable': {
        const r = e.setTunable(cmd.name, cmd.value);
        return r.ok ? {changed: r.changed} : {error: r.error};
      }
      case 'add-service': e.addService(cmd.key, cmd.opts); break;
      case 'edit-service': e.editService(cmd.key, cmd.opts); break;
      case 'del-service': e.delService(cmd.key); break;
      case 'add-dest': e.addDest(cmd.key, cmd.af, cmd.addr, cmd.port, cmd.opts); break;
      case 'edit-dest': e.editDest(cmd.key, cmd.addr, cmd.port, cmd.opts); break;
      case 'del-dest': e.delDest(cmd.key, cmd.addr, cmd.port); break;
      case 'timeouts': e.setTimeouts(cmd.tcp, cmd.tcpfin, cmd.udp); break;
      case 'zero': e.zero(cmd.key); break;
      case 'flush': e.flush(); break;
      case 'traffic-add': return {id: this.sim.addTraffic(cmd.spec).id};
      case 'traffic-start': this.sim.traffic.get(cmd.id).start(e.now); break;
      case 'traffic-stop': this.sim.traffic.get(cmd.id).stop(); break;
      case 'traffic-rate': this.sim.traffic.get(cmd.id).setRate(cmd.rate, e.now); break;
      case 'traffic-remove': this.sim.traffic.remove(cmd.id); break;
      case 'server-failed': this.sim.traffic.setServerFailed(cmd.rs, cmd.failed); break;
      case 'speed': this.clk.setSpeed(cmd.speed); break;
      case 'pause': this.clk.setPaused(cmd.paused); break;
      case 'step': this.clk.step(cmd.ms); break;
      // The engine records the role; the host's sync manager opens the sockets at its next poll.
      case 'sync-start': e.startDaemon({role: cmd.role, syncId: cmd.syncId, mcastIfn: cmd.mcastIfn}); break;
      case 'sync-stop': e.stopDaemon(cmd.role); break;
    }
    return {};
  }
}
