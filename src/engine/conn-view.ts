// The read-only face of the connection table for code outside the engine: counts, the three
// lookups, iteration and one entry at a time, all by connection id. Nothing outside src/engine/
// sees the table's storage, so its layout can change without touching any caller.
// (The kernel's /proc/net/ip_vs_conn walk, ip_vs_conn_seq_show in ip_vs_conn.c, is one user.)
import type {Addr, Af} from './addr.js';
import {CONN_F, type FwdMethod, FWD_BY_VALUE} from './constants.js';
import type {ConnTable} from './conn-table.js';

/**
 * A connection entry's identity: its slot and the slot's generation. Valid while the entry lives;
 * once it expires the id resolves to nothing, even if another entry reuses the slot.
 */
export type ConnId = number;

/** One entry's fields, read-only. A view from `ConnReader.view` or `forEach` is reused: copy what you keep. */
export interface ConnView {
  readonly id: ConnId;
  readonly af: Af;
  /** Address family of the real server (differs from `af` for a mixed-family tunnel). */
  readonly daf: Af;
  readonly proto: number;
  readonly flags: number;
  readonly fwd: FwdMethod;
  readonly template: boolean;
  /** A template of a fwmark service: `vaddr` is the mark (a number). */
  readonly fwmarkTemplate: boolean;
  readonly state: number;
  readonly caddr: Addr;
  readonly cport: number;
  readonly vaddr: Addr;
  readonly vport: number;
  readonly daddr: Addr;
  readonly dport: number;
  readonly fwmark: number;
  /** The timeout the timer is re-armed with (ms). */
  readonly timeout: number;
  /** Absolute expiry time (ms of virtual time). */
  readonly expires: number;
  readonly inPkts: number;
  readonly outPkts: number;
  /** The controlling entry's id (a persistence template), or -1. */
  readonly control: ConnId;
  readonly nControl: number;
  /** The bound destination's id, or -1. */
  readonly destId: number;
}

/** A view positioned on one slot; `ConnReader` moves it. */
class Cursor implements ConnView {
  slot = -1;
  constructor(private readonly t: ConnTable) {}
  get id(): ConnId { return this.t.idOf(this.slot); }
  get af(): Af { return this.t.af(this.slot); }
  get daf(): Af { return this.t.daf(this.slot); }
  get proto(): number { return this.t.protoOf(this.slot); }
  get flags(): number { return this.t.flagsOf(this.slot); }
  get fwd(): FwdMethod { return FWD_BY_VALUE[this.t.flagsOf(this.slot) & CONN_F.FWD_MASK] ?? 'masq'; }
  get template(): boolean { return (this.t.flagsOf(this.slot) & CONN_F.TEMPLATE) !== 0; }
  get fwmarkTemplate(): boolean { return this.t.isFwmarkTemplate(this.slot); }
  get state(): number { return this.t.stateOf(this.slot); }
  get caddr(): Addr { return this.t.clientAddr(this.slot); }
  get cport(): number { return this.t.clientPortOf(this.slot); }
  get vaddr(): Addr { return this.t.virtualAddr(this.slot); }
  get vport(): number { return this.t.virtualPortOf(this.slot); }
  get daddr(): Addr { return this.t.destAddr(this.slot); }
  get dport(): number { return this.t.destPortOf(this.slot); }
  get fwmark(): number { return this.t.fwmarkOf(this.slot); }
  get timeout(): number { return this.t.timeoutOf(this.slot); }
  get expires(): number { return this.t.expiresOf(this.slot); }
  get inPkts(): number { return this.t.inPktsOf(this.slot); }
  get outPkts(): number { return this.t.outPktsOf(this.slot); }
  get control(): ConnId {
    const c = this.t.controlOf(this.slot);
    return c >= 0 ? this.t.idOf(c) : -1;
  }
  get nControl(): number { return this.t.nControlOf(this.slot); }
  get destId(): number { return this.t.destIdOf(this.slot); }
}

/** Counts, lookups and iteration over the connection table, by id. */
export class ConnReader {
  private readonly cursor: Cursor;
  private readonly iter: Cursor;
  constructor(private readonly t: ConnTable) {
    this.cursor = new Cursor(t);
    this.iter = new Cursor(t);
  }

  /** Live entries: connections and templates. */
  get count(): number { return this.t.count; }
  get templates(): number { return this.t.templates; }
  get connections(): number { return this.t.count - this.t.templates; }
  /** The kernel's table size (1 << conn_tab_bits), as /proc/net/ip_vs shows it. */
  get kernelBuckets(): number { return this.t.kernelBuckets; }

  /** Whether `id` names a live entry. */
  has(id: ConnId): boolean {
    return this.t.slotOf(id) >= 0;
  }

  /** The entry as a (reused) view, or null when it is gone. */
  view(id: ConnId): ConnView | null {
    const i = this.t.slotOf(id);
    if (i < 0) return null;
    this.cursor.slot = i;
    return this.cursor;
  }

  /** ip_vs_conn_in_get: the entry a client -> virtual packet belongs to, or -1. */
  lookupIn(af: Af, proto: number, caddr: Addr, cport: number, vaddr: Addr, vport: number): ConnId {
    return this.idOrNone(this.t.inLookup(af, proto, caddr, cport, vaddr, vport));
  }

  /** ip_vs_conn_out_get: the entry a reply (real server or VIP -> client) belongs to, or -1. */
  lookupOut(af: Af, proto: number, src: Addr, sport: number, dst: Addr, dport: number): ConnId {
    return this.idOrNone(this.t.outLookup(af, proto, src, sport, dst, dport));
  }

  /** ip_vs_ct_in_get: a persistence template (client network, vaddr or mark, vport), or -1. */
  lookupTemplate(af: Af, proto: number, snet: Addr, vaddr: Addr, vport: number, fwmarkKey: boolean): ConnId {
    return this.idOrNone(this.t.templateLookup(af, proto, snet, vaddr, vport, fwmarkKey));
  }

  /**
   * Visit every entry with a (reused) view. `hashed`: only hashed entries, bucket by bucket, as
   * /proc/net/ip_vs_conn lists them (ONE_PACKET entries never appear); otherwise every live entry.
   * The callback must not change the table.
   */
  forEach(fn: (c: ConnView) => void, order: 'hashed' | 'all' = 'all'): void {
    const cur = this.iter;
    const visit = (i: number) => { cur.slot = i; fn(cur); };
    if (order === 'hashed') this.t.forEachHashed(visit);
    else this.t.forEachLive(visit);
  }

  private idOrNone(i: number): ConnId {
    return i >= 0 ? this.t.idOf(i) : -1;
  }
}

