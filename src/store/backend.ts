// The narrow interface between the UI and a running balancer (docs/ARCHITECTURE.md): queries
// that return plain, serialisable data, and commands. LocalBackend serves it from a Simulation in
// this thread; the same interface can later be served by a worker, an ssh session sharing one
// engine, or an adapter driving the real kernel. UI code (store, components) uses only this.
import {type SyncStatus, syncStatusOf} from './sync-status.js';
import type {ConnInfo, ConnQuery, EngineSnapshot} from '../engine/engine.js';
import type {LogLine} from '../engine/debug-log.js';
import type {DestOptions, ServiceKey, ServiceOptions} from '../engine/types.js';
import type {WriteResult} from '../engine/tunables.js';
import {TUNABLES} from '../engine/tunables.js';
import {CONN_F} from '../engine/constants.js';
import type {GeneratorSpec, GeneratorStats} from '../traffic/generators.js';
import type {Simulation} from '../sim/simulation.js';
import {type Addr, type Af, formatAddrPort} from '../engine/addr.js';

export type {ConnInfo, ConnQuery, EngineSnapshot, LogLine, ServiceKey, ServiceOptions, DestOptions, WriteResult};

/** Virtual-time control as the UI sees it. */
export interface ClockInfo {
  /** Requested speed (virtual ms per wall ms). */
  speed: number;
  paused: boolean;
  /** Speed actually achieved over the last second (lower when the event budget ran out). */
  effective: number;
  /** True when the per-frame event budget could not keep up with the requested speed. */
  lagging: boolean;
}

/** The wall-clock driver of the simulation (src/ui/clock.ts implements it). */
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

export interface DeckBackend {
  // ---- queries
  snapshot(): EngineSnapshot;
  clock(): ClockInfo;
  queryConns(q: ConnQuery): {total: number; rows: ConnInfo[]};
  connDetail(id: number): ConnDetail | null;
  tunables(): TunableRow[];
  logSince(seq: number): LogLine[];
  generators(): GeneratorRow[];
  failedServers(): string[];
  // ---- commands (throw IpvsError / GeneratorError / Error with a message to show)
  setTunable(name: string, text: string): WriteResult;
  addService(key: ServiceKey, opts: Partial<ServiceOptions>): void;
  editService(key: ServiceKey, opts: Partial<ServiceOptions>): void;
  delService(key: ServiceKey): void;
  addDest(key: ServiceKey, af: Af, addr: Addr, port: number, opts: Partial<DestOptions>): void;
  editDest(key: ServiceKey, addr: Addr, port: number, opts: Partial<DestOptions>): void;
  delDest(key: ServiceKey, addr: Addr, port: number): void;
  /** Service key and options of a service by id (for edit forms and weight changes). */
  serviceConfig(id: number): {key: ServiceKey; opts: ServiceOptions} | null;
  destConfig(id: number): {key: ServiceKey; af: Af; addr: Addr; port: number; opts: DestOptions; lastWeight: number} | null;
  setTimeouts(tcp: number, tcpfin: number, udp: number): void;
  zero(key?: ServiceKey): void;
  flush(): void;
  addGenerator(spec: GeneratorSpec): string;
  startGenerator(id: string): void;
  stopGenerator(id: string): void;
  setGeneratorRate(id: string, rate: number): void;
  removeGenerator(id: string): void;
  setServerFailed(rs: string, failed: boolean): void;
  /** Connection sync: the daemons' status; start/stop a role (EEXIST / ESRCH as the kernel). */
  syncStatus(): SyncStatus;
  startSync(role: 'master' | 'backup', syncId: number, mcastIfn?: string): void;
  stopSync(role: 'master' | 'backup'): void;
  setSpeed(x: number): void;
  setPaused(p: boolean): void;
  step(ms: number): void;
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

export class LocalBackend implements DeckBackend {
  constructor(readonly sim: Simulation, private readonly clk: ClockControl) {}

  syncStatus(): SyncStatus {
    return syncStatusOf(this.sim);
  }

  startSync(role: 'master' | 'backup', syncId: number, mcastIfn?: string): void {
    // The engine records the role; the host's sync manager opens the sockets at its next poll.
    this.e.startDaemon({role, syncId, mcastIfn});
  }

  stopSync(role: 'master' | 'backup'): void {
    this.e.stopDaemon(role);
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

  queryConns(q: ConnQuery) {
    return this.e.queryConns(q);
  }

  connDetail(id: number): ConnDetail | null {
    const info = this.e.conn(id);
    if (!info) return null;
    const flagNames = FLAG_NAMES.filter(([bit]) => info.flags & bit).map(([, n]) => n);
    const label = this.e.connLabel(id);
    const controller = info.control >= 0 && this.e.table.isLive(info.control) ? this.e.connLabel(info.control) : null;
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

  setTunable(name: string, text: string): WriteResult {
    return this.e.setTunable(name, text);
  }

  addService(key: ServiceKey, opts: Partial<ServiceOptions>): void { this.e.addService(key, opts); }
  editService(key: ServiceKey, opts: Partial<ServiceOptions>): void { this.e.editService(key, opts); }
  delService(key: ServiceKey): void { this.e.delService(key); }
  addDest(key: ServiceKey, af: Af, addr: Addr, port: number, opts: Partial<DestOptions>): void {
    this.e.addDest(key, af, addr, port, opts);
  }
  editDest(key: ServiceKey, addr: Addr, port: number, opts: Partial<DestOptions>): void {
    this.e.editDest(key, addr, port, opts);
  }
  delDest(key: ServiceKey, addr: Addr, port: number): void { this.e.delDest(key, addr, port); }

  serviceConfig(id: number) {
    const svc = this.e.listServices().find((s) => s.id === id);
    if (!svc) return null;
    return {
      key: svc.key,
      opts: {scheduler: svc.scheduler, flags: svc.flags, persistTimeout: svc.flags & 1 ? svc.timeout : 0,
        netmask: svc.netmask, prefixLen: svc.prefixLen, pe: svc.pe},
    };
  }

  destConfig(id: number) {
    const d = this.e.getDest(id);
    if (!d || d.inTrash) return null;
    return {
      key: d.svc.key, af: d.af, addr: d.addr, port: d.port, lastWeight: d.lastWeight,
      opts: {fwd: d.fwd, weight: d.weight, uThreshold: d.uThreshold, lThreshold: d.lThreshold},
    };
  }

  setTimeouts(tcp: number, tcpfin: number, udp: number): void { this.e.setTimeouts(tcp, tcpfin, udp); }
  zero(key?: ServiceKey): void { this.e.zero(key); }
  flush(): void { this.e.flush(); }

  addGenerator(spec: GeneratorSpec): string {
    return this.sim.addTraffic(spec).id;
  }
  startGenerator(id: string): void { this.sim.traffic.get(id).start(this.e.now); }
  stopGenerator(id: string): void { this.sim.traffic.get(id).stop(); }
  setGeneratorRate(id: string, rate: number): void { this.sim.traffic.get(id).setRate(rate, this.e.now); }
  removeGenerator(id: string): void { this.sim.traffic.remove(id); }
  setServerFailed(rs: string, failed: boolean): void { this.sim.traffic.setServerFailed(rs, failed); }

  setSpeed(x: number): void { this.clk.setSpeed(x); }
  setPaused(p: boolean): void { this.clk.setPaused(p); }
  step(ms: number): void { this.clk.step(ms); }
}
