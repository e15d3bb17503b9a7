// A tiny harness for scheduler tests: a Service whose dests are inserted newest first and whose
// scheduler hooks are called in the engine's order (addDest after linking at the head, delDest
// before unlinking with AVAILABLE already cleared, updDest after an in-place edit), a deterministic
// SchedContext (virtual clock, seeded or scripted random32, captured log) and packet builders.
// Free of vitest: the scheduler tests and bench/sched.ts share it.
import {parseAddr, type Addr, type Af} from '../addr.js';
import {DEST_F, IPPROTO_TCP} from '../constants.js';
import {seededRng} from '../rng.js';
import {Stats} from '../stats.js';
import './index.js';
import {findScheduler} from './registry.js';
import type {Dest, Packet, SchedContext, SchedulerOps, Service} from '../types.js';
import {DEFAULT_EXPIRATION} from './locality.js';

export interface TestCtx extends SchedContext {
  now: number;
  /** Messages logged, as [level, text]. */
  readonly logs: Array<[number, string]>;
  readonly tunables: Map<string, number>;
  /** Queue of values random32() returns first, before falling back to the seeded generator. */
  readonly scripted: number[];
  /** How many random32() draws were made. */
  draws: number;
}

export function makeCtx(seed = 1): TestCtx {
  const rng = seededRng(seed);
  const ctx: TestCtx = {
    now: 0,
    logs: [],
    tunables: new Map([
      ['lblc_expiration', DEFAULT_EXPIRATION],
      ['lblcr_expiration', DEFAULT_EXPIRATION],
    ]),
    scripted: [],
    draws: 0,
    random32() {
      ctx.draws++;
      const v = ctx.scripted.shift();
      return v === undefined ? rng.u32() : v >>> 0;
    },
    log(level, msg) {
      ctx.logs.push([level, msg()]);
    },
    tunable(name) {
      const v = ctx.tunables.get(name);
      if (v === undefined) throw new Error(`unknown tunable ${name}`);
      return v;
    },
  };
  return ctx;
}

function toAddr(a: Addr | string): {af: Af; addr: Addr} {
  if (typeof a === 'number') return {af: 4, addr: a >>> 0};
  const p = parseAddr(a);
  if (!p) throw new Error(`bad address ${a}`);
  return p;
}

/** A packet from src:sport to dst:dport (addresses as text or IPv4 numbers). */
export function packet(src: Addr | string, sport = 40000, dst: Addr | string = '10.0.0.1', dport = 80, proto = IPPROTO_TCP): Packet {
  const s = toAddr(src), d = toAddr(dst);
  return {
    af: s.af, proto, src: s.addr, sport, dst: d.addr, dport, tcpFlags: 0x02,
    sctpChunk: -1, sctpChunkLen: 0, sctpNextChunk: -1, len: 60, fwmark: 0, df: false, icmp: null,
  };
}

export interface DestSpec {
  weight?: number;
  uThreshold?: number;
  lThreshold?: number;
  active?: number;
  inactive?: number;
}

let nextId = 1;

export class SchedFixture {
  readonly svc: Service;
  readonly ctx: TestCtx;
  ops: SchedulerOps;

  constructor(scheduler: string, opts: {flags?: number; af?: Af; seed?: number; ctx?: TestCtx} = {}) {
    this.ctx = opts.ctx ?? makeCtx(opts.seed ?? 1);
    const af = opts.af ?? 4;
    this.svc = {
      id: nextId++,
      key: {kind: 'addr', af, proto: 'tcp', addr: af === 4 ? 0x0a000001 : '2001:db8::1', port: 80},
      scheduler,
      flags: opts.flags ?? 0,
      timeout: 0,
      netmask: 0xffffffff,
      prefixLen: 128,
      pe: '',
      dests: [],
      stats: new Stats(),
      schedData: null,
    };
    this.ops = lookup(scheduler);
    this.ops.initService?.(this.svc, this.ctx);
  }

  /** Add a dest (linked at the head of the list, then the add_dest hook). */
  add(addr: Addr | string, spec: DestSpec = {}, port = 80): Dest {
    const a = toAddr(addr);
    const weight = spec.weight ?? 1;
    const d: Dest = {
      id: nextId++, af: a.af, addr: a.addr, port, svc: this.svc, weight, lastWeight: weight,
      fwd: 'masq', connFlags: 0, flags: DEST_F.AVAILABLE, uThreshold: spec.uThreshold ?? 0,
      lThreshold: spec.lThreshold ?? 0, activeConns: spec.active ?? 0, inactConns: spec.inactive ?? 0,
      persistConns: 0, stats: new Stats(), refs: 0, idleStart: 0, inTrash: false,
    };
    this.svc.dests.unshift(d);
    this.ops.addDest?.(this.svc, d, this.ctx);
    return d;
  }

  /** Re-add a deleted dest object (trash recovery): AVAILABLE again, at the head, add_dest. */
  readd(d: Dest, weight = d.weight): Dest {
    d.weight = weight;
    if (weight > 0) d.lastWeight = weight;
    d.flags |= DEST_F.AVAILABLE;
    this.svc.dests.unshift(d);
    this.ops.addDest?.(this.svc, d, this.ctx);
    return d;
  }

  /** Delete: clear AVAILABLE, del_dest while still linked, then unlink. */
  del(d: Dest): void {
    d.flags &= ~DEST_F.AVAILABLE;
    this.ops.delDest?.(this.svc, d, this.ctx);
    const i = this.svc.dests.indexOf(d);
    if (i >= 0) this.svc.dests.splice(i, 1);
  }

  /** Edit in place: weight (last_weight follows if non-zero), then upd_dest. */
  edit(d: Dest, weight: number): void {
    d.weight = weight;
    if (weight > 0) d.lastWeight = weight;
    this.ops.updDest?.(this.svc, d, this.ctx);
  }

  setConns(d: Dest, active: number, inactive = d.inactConns): void {
    d.activeConns = active;
    d.inactConns = inactive;
  }

  overload(d: Dest, on = true): void {
    if (on) d.flags |= DEST_F.OVERLOAD;
    else d.flags &= ~DEST_F.OVERLOAD;
  }

  /** Switch scheduler the way ipvsadm -E does: done_service on the old, init_service on the new. */
  rebind(scheduler: string): void {
    this.ops.doneService?.(this.svc, this.ctx);
    this.svc.scheduler = scheduler;
    this.ops = lookup(scheduler);
    this.ops.initService?.(this.svc, this.ctx);
  }

  schedule(pkt: Packet): Dest | null {
    return this.ops.schedule(this.svc, pkt, this.ctx);
  }

  /** Schedule a packet from `src` (text or number) and return the chosen dest. */
  pick(src: Addr | string, sport = 40000, dst: Addr | string = '10.0.0.1', proto = IPPROTO_TCP): Dest | null {
    return this.schedule(packet(src, sport, dst, 80, proto));
  }

  /** Advance virtual time, calling tick like the engine's timer does (every `step` ms). */
  advance(ms: number, step = 1000): void {
    const end = this.ctx.now + ms;
    while (this.ctx.now < end) {
      this.ctx.now = Math.min(end, this.ctx.now + step);
      this.ops.tick?.(this.svc, this.ctx);
    }
  }
}

function lookup(name: string): SchedulerOps {
  const ops = findScheduler(name);
  if (!ops) throw new Error(`no scheduler ${name}`);
  return ops;
}

/** Label of a dest for readable assertions: its address text. */
export function label(d: Dest | null): string {
  if (d === null) return '-';
  return typeof d.addr === 'number'
    ? `${d.addr >>> 24}.${(d.addr >>> 16) & 255}.${(d.addr >>> 8) & 255}.${d.addr & 255}`
    : d.addr;
}

/** Build a fixture with dests added in the given order (so the list is the reverse). */
export function withDests(scheduler: string, added: Array<[string, DestSpec?]>, opts: {flags?: number; seed?: number} = {}): {f: SchedFixture; d: Dest[]} {
  const f = new SchedFixture(scheduler, opts);
  const d = added.map(([a, s]) => f.add(a, s ?? {}));
  return {f, d};
}
