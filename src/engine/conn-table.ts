// The connection table: every entry (connection or persistence template) lives in a slot of three
// fixed-stride Int32Arrays (its hash chain link and port word, its hot fields, its cold fields),
// chained into a hash table keyed like the kernel's ip_vs_conn_hashkey (protocol, client address,
// client port) and linked into a timer wheel.
//
// Why this shape: a flood fills the table with a million entries; objects per entry would cost
// ~300 B and GC pauses, typed arrays cost under 90 B and nothing to the collector. A chain walk
// reads only the compact chain array; the entry it finds has everything a packet reads or writes
// in one 64 B stride, where a typed array per field cost a cache line per field on a big table.
// Free slots form a free list through the chain array. IPv6 addresses are interned (refcounted)
// so every address field is one word: an IPv4 address itself, or an IPv6 pool id when the entry's
// family is 6.
import type {Addr, Af} from './addr.js';
import {CONN_F, DEFAULT_CONN_TAB_BITS} from './constants.js';

const AF6 = 1, DAF6 = 2; // bits of the entry's address-family field
/** Marks a template of a fwmark service (protocol IPPROTO_IP, vaddr = the mark). */
const FWM_TEMPLATE = 4;

/**
 * The hash chains live in their own array of two words a slot, [next, cport << 16 | vport]: a
 * lookup walks a chain there and compares the port word first, so a non-matching candidate
 * costs a read of that compact array, not a line of the entry; only a candidate whose ports
 * match is read further. The free list runs through `next` too.
 */
const CHAIN = 2;
/**
 * Word offsets within an entry's hot stride: 16 words, 64 B, everything a packet reads or writes
 * once its entry is found. The cold stride (COLD_*) holds what only creation, listings and sync touch.
 */
const CADDR = 0;
const VADDR = 1;
/**
 * proto (bits 0-7) | address families (8-10) | conntrack facts (11-13) | sync_endtime's low 2 bits
 * (14-15) | state (16-23) | old_state (24-31).
 */
const META = 2;
const FLAGS = 3;
const DEST = 4;
/** Current timeout in ms (what the timer is re-armed with). */
const TIMEOUT = 5;
/** Absolute wheel slot the entry is linked in, UNLINKED, or FREED. */
const TSLOT = 6;
/** Generation of the slot (bits 0-26, bumped on free: the high part of an entry's id) | sync_endtime's bits 34-38. */
const GEN = 7;
/** A connection's controller (-1: none); a template's count of controlled entries (only templates control). */
const LINK = 8;
/** Packets in (ip_vs_conn.in_pkts). */
const INPKTS = 9;
/** Absolute expiry time in ms, a Float64 over words 10-11: index (slot * HOT + EXPIRES) / 2. */
const EXPIRES = 10;
const TNEXT = 12;
const TPREV = 13;
const DADDR = 14;
/** dport (bits 0-15) | fwmark (16-31; MARK_ELSEWHERE: the mark is in `bigMarks`). */
const DPORT_MARK = 15;
/**
 * 16 words: one cache line's worth. Hash chains are singly linked: at a load of at most one entry
 * per bucket an unlink walks about 1.5 chain entries, and a back pointer would cost 4 B on every entry.
 */
const HOT = 16;
const COLD_OUTPKTS = 0;
/** sync_endtime's bits 2-33 (see syncEndOf). */
const COLD_SYNCEND = 1;
const COLD = 2;

const PROTO_KEY_MASK = 0xff | ((AF6 | FWM_TEMPLATE) << 8);
const CT_SHIFT = 11, SYNC_LOW_SHIFT = 14, STATE_SHIFT = 16, OLD_STATE_SHIFT = 24, SYNC_HIGH_SHIFT = 27;
/** sync_endtime is kept exactly below 2^39 ms (17 years of the engine's clock). */
const SYNC_END_LIMIT = 2 ** 39;
/** fwmarks up to 0xfffe sit in the stride; bigger ones (rare: a mark is a small rule number) in a map. */
const MARK_ELSEWHERE = 0xffff;

/** Timer wheel: slots of 2^SLOT_SHIFT ms, WHEEL_SIZE slots (≈ 35 minutes per revolution). */
const SLOT_SHIFT = 8;
const WHEEL_SIZE = 8192;
const WHEEL_MASK = WHEEL_SIZE - 1;
const UNLINKED = -1;
/** tSlot value of a free slot. */
const FREED = -2;

/**
 * A connection's public identity is its slot plus the slot's generation: `gen * ID_SPAN + slot`.
 * Freeing a slot bumps its generation, so an id held across the entry's expiry (a details window,
 * a trace, the sync layer) no longer resolves once the slot is reused. Ids of a slot's first
 * generation equal the slot. ID_SPAN bounds the table at 64 Mi slots; generations wrap at 2^27 so
 * every id stays an exact integer (2^26 * 2^27 = 2^53).
 */
const ID_SPAN = 2 ** 26;
const GEN_MASK = 2 ** 27 - 1;
/** The most slots a table may hold (ids must stay below 2^53). */
export const MAX_SLOTS = ID_SPAN;

class V6Pool {
  private ids = new Map<string, number>();
  private addrs: string[] = [];
  private refs: number[] = [];
  private free: number[] = [];
  intern(a: string): number {
    let id = this.ids.get(a);
    if (id === undefined) {
      id = this.free.pop() ?? this.addrs.length;
      this.ids.set(a, id);
      this.addrs[id] = a;
      this.refs[id] = 0;
    }
    this.refs[id]!++;
    return id;
  }
  /** Id of an address already in the pool, or -1 (lookups must not intern). */
  find(a: string): number {
    return this.ids.get(a) ?? -1;
  }
  get(id: number): string {
    return this.addrs[id]!;
  }
  release(id: number): void {
    if (--this.refs[id]! === 0) {
      this.ids.delete(this.addrs[id]!);
      this.free.push(id);
    }
  }
  get size(): number {
    return this.ids.size;
  }
}

export interface NewConn {
  af: Af;
  daf: Af;
  proto: number;
  caddr: Addr;
  cport: number;
  vaddr: Addr;
  vport: number;
  daddr: Addr;
  dport: number;
  flags: number;
  fwmark: number;
  dest: number;
  /** Template of a fwmark service: vaddr holds the mark. */
  fwmarkTemplate?: boolean;
}

export class ConnTable {
  capacity: number;
  /** Live entries (connections + templates, hashed or not). */
  count = 0;
  templates = 0;
  private readonly seed: number;
  private readonly v6 = new V6Pool();
  /** log2 of the kernel's table size: drop_entry samples (size >> 5) of those buckets. */
  readonly kernelTabBits: number;

  /** Every entry's hot fields: slot i owns words [i * HOT, (i + 1) * HOT). */
  private s!: Int32Array;
  /** The same buffer as Float64 (EXPIRES). */
  private x!: Float64Array;
  /** Every entry's cold fields: slot i owns words [i * COLD, (i + 1) * COLD). */
  private c!: Int32Array;
  /** Hash chains and the free list: slot i owns words [i * CHAIN, (i + 1) * CHAIN). */
  private k!: Int32Array;
  /** fwmarks too big for the stride's 16 bits, by slot. */
  private readonly bigMarks = new Map<number, number>();

  /** Bumped by every write the column snapshots show (see `column`). */
  private changes = 0;
  /** Column snapshots by word offset (see `column`), with the `changes` they were taken at. */
  private readonly columns: Float64Array[] = [];
  private readonly columnsAt: number[] = [];

  private buckets: Int32Array;
  private bucketMask: number;
  private freeHead = -1;
  private used = 0; // slots ever handed out (high-water mark)

  private readonly wheel = new Int32Array(WHEEL_SIZE).fill(-1);
  /** Absolute slot up to which the wheel has been processed (the current slot is partly done). */
  private wheelCursor = 0;
  /** Entries linked in the wheel. */
  private linked = 0;

  constructor(opts: {initialCapacity?: number; seed?: number; connTabBits?: number} = {}) {
    this.capacity = Math.max(16, opts.initialCapacity ?? 1024);
    this.seed = (opts.seed ?? 0x5eed) >>> 0;
    this.kernelTabBits = opts.connTabBits ?? DEFAULT_CONN_TAB_BITS;
    this.allocate(this.capacity);
    const nb = Math.max(1 << this.kernelTabBits, 1024);
    this.buckets = new Int32Array(nb).fill(-1);
    this.bucketMask = nb - 1;
  }

  private allocate(cap: number): void {
    const s = new Int32Array(cap * HOT);
    const c = new Int32Array(cap * COLD);
    const k = new Int32Array(cap * CHAIN);
    if (this.s) {
      s.set(this.s);
      c.set(this.c);
      k.set(this.k);
    }
    this.s = s;
    this.x = new Float64Array(s.buffer);
    this.c = c;
    this.k = k;
    this.capacity = cap;
  }

  /** Bytes of typed-array storage per entry slot (for the memory report). */
  bytesPerSlot(): number {
    return (CHAIN + HOT + COLD) * Int32Array.BYTES_PER_ELEMENT;
  }

  // --- addresses ---
  private encode(af: Af, a: Addr): number {
    return af === 4 ? (a as number) | 0 : this.v6.intern(a as string);
  }
  private encodeLookup(af: Af, a: Addr): number {
    return af === 4 ? (a as number) | 0 : this.v6.find(a as string);
  }
  private decode(af: Af, v: number): Addr {
    return af === 4 ? v >>> 0 : this.v6.get(v);
  }
  private afBits(i: number): number {
    return (this.s[i * HOT + META]! >>> 8) & 7;
  }
  af(i: number): Af {
    return this.afBits(i) & AF6 ? 6 : 4;
  }
  daf(i: number): Af {
    return this.afBits(i) & DAF6 ? 6 : 4;
  }
  isFwmarkTemplate(i: number): boolean {
    return (this.afBits(i) & FWM_TEMPLATE) !== 0;
  }
  clientAddr(i: number): Addr {
    return this.decode(this.af(i), this.s[i * HOT + CADDR]!);
  }
  /** The virtual address; for a fwmark template, the mark as a number. */
  virtualAddr(i: number): Addr {
    const v = this.s[i * HOT + VADDR]!;
    return this.isFwmarkTemplate(i) ? v >>> 0 : this.decode(this.af(i), v);
  }
  destAddr(i: number): Addr {
    return this.decode(this.daf(i), this.s[i * HOT + DADDR]!);
  }
  /**
   * The raw address words, for scans that compare without decoding: an IPv4 address as an
   * unsigned number when the matching family is 4 (af / daf), an IPv6 pool id otherwise.
   */
  clientAddrWord(i: number): number {
    return this.s[i * HOT + CADDR]! >>> 0;
  }
  virtualAddrWord(i: number): number {
    return this.s[i * HOT + VADDR]! >>> 0;
  }
  destAddrWord(i: number): number {
    return this.s[i * HOT + DADDR]! >>> 0;
  }
  isLive(i: number): boolean {
    return i >= 0 && i < this.used && this.s[i * HOT + TSLOT] !== FREED;
  }
  // Per-slot reads, one field each, small enough for V8 to inline: the engine and the scans in
  // conn-query.ts read through them, so nothing outside this file depends on the layout.
  /** Whether any entry holds an IPv6 address (every one is interned while its entry lives). */
  get hasIpv6(): boolean {
    return this.v6.size > 0;
  }
  /** Whether slot `i` (below highWater) holds no entry; a free slot keeps stale field values. */
  isFreeSlot(i: number): boolean {
    return this.s[i * HOT + TSLOT] === FREED;
  }
  isClient6(i: number): boolean {
    return (this.afBits(i) & AF6) !== 0;
  }
  isDest6(i: number): boolean {
    return (this.afBits(i) & DAF6) !== 0;
  }

  // --- column snapshots (tests and debugging; the engine reads through the accessors) ---
  /**
   * One packed field of every slot below highWater as an array (`table.flags[slot]`): a snapshot,
   * rebuilt on first use after the table changed, so read it afresh rather than keep it.
   */
  private column(word: number, shift: number, mask: number, signed: boolean): Readonly<Float64Array> {
    let c = this.columns[word];
    if (c && this.columnsAt[word] === this.changes && c.length === this.used) return c;
    if (!c || c.length !== this.used) c = this.columns[word] = new Float64Array(this.used);
    const s = this.s;
    for (let i = 0, o = word; i < c.length; i++, o += HOT) {
      const w = s[o]!;
      c[i] = signed ? w : ((w >>> shift) & mask) >>> 0;
    }
    this.columnsAt[word] = this.changes;
    return c;
  }
  get flags(): Readonly<Float64Array> { return this.column(FLAGS, 0, -1, false); }
  get state(): Readonly<Float64Array> { return this.column(META, STATE_SHIFT, 0xff, false); }
  get dest(): Readonly<Float64Array> { return this.column(DEST, 0, -1, true); }
  get timeout(): Readonly<Float64Array> { return this.column(TIMEOUT, 0, -1, false); }
  get inPkts(): Readonly<Float64Array> { return this.column(INPKTS, 0, -1, false); }
  get expires(): Readonly<Float64Array> { return this.snapshot(HOT + 2, (i) => this.expiresOf(i)); }
  /** LINK as controlOf / nControlOf read it, per slot. */
  get control(): Readonly<Float64Array> { return this.linkColumn(true); }
  get nControl(): Readonly<Float64Array> { return this.linkColumn(false); }
  private linkColumn(control: boolean): Float64Array {
    return control ? this.snapshot(HOT, (i) => this.controlOf(i)) : this.snapshot(HOT + 1, (i) => this.nControlOf(i));
  }
  /** A snapshot column computed by `read` (`key` past the word offsets). */
  private snapshot(key: number, read: (i: number) => number): Float64Array {
    let c = this.columns[key];
    if (c && this.columnsAt[key] === this.changes && c.length === this.used) return c;
    if (!c || c.length !== this.used) c = this.columns[key] = new Float64Array(this.used);
    for (let i = 0; i < c.length; i++) c[i] = read(i);
    this.columnsAt[key] = this.changes;
    return c;
  }
  private changed(): void {
    this.changes = (this.changes + 1) & 0x3fffffff;
  }

  // --- fields ---
  protoOf(i: number): number {
    return this.s[i * HOT + META]! & 0xff;
  }
  stateOf(i: number): number {
    return (this.s[i * HOT + META]! >>> STATE_SHIFT) & 0xff;
  }
  setState(i: number, state: number): void {
    this.changed();
    const o = i * HOT + META;
    this.s[o] = (this.s[o]! & ~(0xff << STATE_SHIFT)) | ((state & 0xff) << STATE_SHIFT);
  }
  /** old_state: the state last synced (ip_vs_sync_conn_needed). */
  oldStateOf(i: number): number {
    return this.s[i * HOT + META]! >>> OLD_STATE_SHIFT;
  }
  setOldState(i: number, state: number): void {
    const o = i * HOT + META;
    this.s[o] = (this.s[o]! & 0x00ffffff) | ((state & 0xff) << OLD_STATE_SHIFT);
  }
  /** Netfilter-conntrack facts the reuse logic needs (CT_* bits, 3 of them). */
  ctInfoOf(i: number): number {
    return (this.s[i * HOT + META]! >>> CT_SHIFT) & 7;
  }
  setCtInfo(i: number, ct: number): void {
    const o = i * HOT + META;
    this.s[o] = (this.s[o]! & ~(7 << CT_SHIFT)) | ((ct & 7) << CT_SHIFT);
  }
  flagsOf(i: number): number {
    return this.s[i * HOT + FLAGS]! >>> 0;
  }
  /** Set the entry's flags; TEMPLATE is fixed at creation (LINK means something else for templates). */
  setFlags(i: number, flags: number): void {
    this.changed();
    const o = i * HOT + FLAGS;
    if ((this.s[o]! ^ flags) & CONN_F.TEMPLATE) throw new RangeError(`entry ${i}: TEMPLATE is fixed at creation`);
    this.s[o] = flags;
  }
  clientPortOf(i: number): number {
    return this.k[i * CHAIN + 1]! >>> 16;
  }
  virtualPortOf(i: number): number {
    return this.k[i * CHAIN + 1]! & 0xffff;
  }
  destPortOf(i: number): number {
    return this.s[i * HOT + DPORT_MARK]! & 0xffff;
  }
  fwmarkOf(i: number): number {
    const m = this.s[i * HOT + DPORT_MARK]! >>> 16;
    return m === MARK_ELSEWHERE ? this.bigMarks.get(i)! : m;
  }
  /** The bound destination's id, or -1. */
  destIdOf(i: number): number {
    return this.s[i * HOT + DEST]!;
  }
  setDestId(i: number, dest: number): void {
    this.changed();
    this.s[i * HOT + DEST] = dest;
  }
  timeoutOf(i: number): number {
    return this.s[i * HOT + TIMEOUT]! >>> 0;
  }
  setTimeout(i: number, ms: number): void {
    this.changed();
    this.s[i * HOT + TIMEOUT] = ms;
  }
  expiresOf(i: number): number {
    return this.x[(i * HOT + EXPIRES) >> 1]!;
  }
  inPktsOf(i: number): number {
    return this.s[i * HOT + INPKTS]! >>> 0;
  }
  /** Count one packet in; returns the new in_pkts. */
  countInPkt(i: number): number {
    this.changed();
    return ++this.s[i * HOT + INPKTS]! >>> 0;
  }
  setInPkts(i: number, n: number): void {
    this.changed();
    this.s[i * HOT + INPKTS] = n;
  }
  outPktsOf(i: number): number {
    return this.c[i * COLD + COLD_OUTPKTS]! >>> 0;
  }
  countOutPkt(i: number): void {
    this.c[i * COLD + COLD_OUTPKTS]!++;
  }
  /** The entry controlling this one (ip_vs_conn.control), or -1. Templates are never controlled. */
  controlOf(i: number): number {
    const o = i * HOT;
    return this.s[o + FLAGS]! & CONN_F.TEMPLATE ? -1 : this.s[o + LINK]!;
  }
  /** How many entries this one controls (ip_vs_conn.n_control): only templates control. */
  nControlOf(i: number): number {
    const o = i * HOT;
    return this.s[o + FLAGS]! & CONN_F.TEMPLATE ? this.s[o + LINK]! : 0;
  }
  /** ip_vs_control_add / ip_vs_control_del: link connection `i` to template `ct`, or unlink it (-1). */
  setControl(i: number, ct: number): void {
    this.changed();
    const o = i * HOT;
    if (this.s[o + FLAGS]! & CONN_F.TEMPLATE) throw new RangeError(`entry ${i} is a template: templates are never controlled`);
    if (ct >= 0 && !(this.s[ct * HOT + FLAGS]! & CONN_F.TEMPLATE)) {
      throw new RangeError(`entry ${ct} is not a template: only templates control`);
    }
    const old = this.s[o + LINK]!;
    if (old >= 0) this.s[old * HOT + LINK]!--;
    if (ct >= 0) this.s[ct * HOT + LINK]!++;
    this.s[o + LINK] = ct;
  }
  /**
   * sync_endtime (jiffies rounded to 4, low bits = retry count), an integer number of ms: its
   * 39 bits are spread over the spare bits of META (2), SYNCEND (32) and GEN (5).
   */
  syncEndOf(i: number): number {
    const o = i * HOT;
    const q = (this.c[i * COLD + COLD_SYNCEND]! >>> 0) + (this.s[o + GEN]! >>> SYNC_HIGH_SHIFT) * 2 ** 32;
    return q * 4 + ((this.s[o + META]! >>> SYNC_LOW_SHIFT) & 3);
  }
  setSyncEnd(i: number, v: number): void {
    if (!(v >= 0 && v < SYNC_END_LIMIT) || !Number.isInteger(v)) {
      throw new RangeError(`sync_endtime ${v} is outside 0..2^39 ms`);
    }
    const o = i * HOT;
    const low = v % 4, q = (v - low) / 4;
    this.s[o + META] = (this.s[o + META]! & ~(3 << SYNC_LOW_SHIFT)) | (low << SYNC_LOW_SHIFT);
    this.c[i * COLD + COLD_SYNCEND] = q % 2 ** 32;
    this.s[o + GEN] = (this.s[o + GEN]! & GEN_MASK) | (Math.floor(q / 2 ** 32) << SYNC_HIGH_SHIFT);
  }

  /** The id of the live entry in slot `i` (stable until the entry is freed). */
  idOf(i: number): number {
    return (this.s[i * HOT + GEN]! & GEN_MASK) * ID_SPAN + i;
  }

  /** The slot of a live entry's id, or -1 when the entry is gone (its slot freed or reused). */
  slotOf(id: number): number {
    if (!(id >= 0) || !Number.isInteger(id)) return -1;
    const i = id % ID_SPAN;
    if (i >= this.used || this.s[i * HOT + TSLOT] === FREED || this.idOf(i) !== id) return -1;
    return i;
  }

  // --- hashing ---
  private hashKey(proto: number, caddr: number, cport: number): number {
    // A seeded integer mix (murmur3 finalizer); the kernel's jhash with a boot-random seed is
    // not reproducible either, only the lookup semantics matter (ip_vs_conn.c, ip_vs_conn_hashkey).
    let h = (caddr ^ this.seed) >>> 0;
    h = Math.imul(h ^ ((cport << 8) | proto), 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  }

  private bucketOf(i: number): number {
    const o = i * HOT;
    return this.hashKey(this.s[o + META]! & 0xff, this.s[o + CADDR]!, this.k[i * CHAIN + 1]! >>> 16) & this.bucketMask;
  }

  /** Link `i` at the head of bucket `b` (new entries go first, as in the kernel). */
  private chainPush(i: number, b: number): void {
    this.k[i * CHAIN] = this.buckets[b]!;
    this.buckets[b] = i;
  }

  private hashInsert(i: number): void {
    this.chainPush(i, this.bucketOf(i));
    this.s[i * HOT + FLAGS] |= CONN_F.HASHED;
  }

  private hashRemove(i: number): boolean {
    const s = this.s, o = i * HOT;
    if (!(s[o + FLAGS]! & CONN_F.HASHED)) return false;
    const b = this.bucketOf(i);
    let p = this.buckets[b]!;
    if (p === i) this.buckets[b] = this.k[i * CHAIN]!;
    else {
      while (p >= 0 && this.k[p * CHAIN] !== i) p = this.k[p * CHAIN]!;
      if (p >= 0) this.k[p * CHAIN] = this.k[i * CHAIN]!;
    }
    s[o + FLAGS] &= ~CONN_F.HASHED;
    return true;
  }

  private maybeGrowBuckets(): void {
    if (this.count <= this.buckets.length) return;
    const old = this.buckets;
    const nb = old.length * 2;
    this.buckets = new Int32Array(nb).fill(-1);
    this.bucketMask = nb - 1;
    const chain: number[] = [];
    for (let b = 0; b < old.length; b++) {
      chain.length = 0;
      for (let e = old[b]!; e >= 0; e = this.k[e * CHAIN]!) chain.push(e);
      // Re-insert oldest first so each bucket keeps newest-first order.
      for (let k = chain.length - 1; k >= 0; k--) this.chainPush(chain[k]!, this.bucketOf(chain[k]!));
    }
  }

  // --- create / free ---
  /** Allocate and fill an entry; `hash` false for ONE_PACKET entries (never in the table). */
  create(c: NewConn, now: number, hash: boolean): number {
    return this.createEntry(c.af, c.daf, c.proto, c.caddr, c.cport, c.vaddr, c.vport, c.daddr, c.dport, c.flags,
      c.fwmark, c.fwmarkTemplate === true, c.dest, now, hash);
  }

  /** `create` with the fields as arguments: the packet path builds no object per connection. */
  createEntry(af: Af, daf: Af, proto: number, caddr: Addr, cport: number, vaddr: Addr, vport: number, daddr: Addr,
    dport: number, flags: number, fwmark: number, fwmarkTemplate: boolean, dest: number, now: number,
    hash: boolean): number {
    let i = this.freeHead;
    if (i >= 0) this.freeHead = this.k[i * CHAIN]!;
    else {
      if (this.used === this.capacity) {
        if (this.capacity >= MAX_SLOTS) throw new RangeError(`connection table full (${MAX_SLOTS} entries)`);
        // 1.5x: a quarter less slack on average than doubling (at 10M entries a doubled table
        // would sit at 16.8M slots), for a few more copies, amortised O(1) either way.
        this.allocate(Math.min(Math.ceil(this.capacity * 1.5), MAX_SLOTS));
      }
      i = this.used++;
    }
    this.changed();
    const s = this.s, o = i * HOT;
    const afBits = (af === 6 ? AF6 : 0) | (daf === 6 ? DAF6 : 0) | (fwmarkTemplate ? FWM_TEMPLATE : 0);
    s[o + META] = (proto & 0xff) | (afBits << 8);
    s[o + FLAGS] = flags & ~CONN_F.HASHED;
    s[o + CADDR] = this.encode(af, caddr);
    s[o + VADDR] = fwmarkTemplate ? (vaddr as number) : this.encode(af, vaddr);
    s[o + DADDR] = this.encode(daf, daddr);
    this.k[i * CHAIN + 1] = ((cport & 0xffff) << 16) | (vport & 0xffff);
    const mark = fwmark >>> 0;
    if (mark >= MARK_ELSEWHERE) this.bigMarks.set(i, mark);
    s[o + DPORT_MARK] = (dport & 0xffff) | (Math.min(mark, MARK_ELSEWHERE) << 16);
    s[o + TIMEOUT] = 0;
    s[o + DEST] = dest;
    s[o + LINK] = flags & CONN_F.TEMPLATE ? 0 : -1;
    this.c[i * COLD + COLD_OUTPKTS] = 0;
    s[o + TSLOT] = UNLINKED;
    s[o + INPKTS] = 0;
    this.x[(o + EXPIRES) >> 1] = now;
    this.setSyncEnd(i, now - (now % 4));
    this.count++;
    if (flags & CONN_F.TEMPLATE) this.templates++;
    if (hash) {
      this.hashInsert(i);
      this.maybeGrowBuckets();
    }
    return i;
  }

  /** Unhash, unlink from the wheel and return the slot to the free list. */
  free(i: number): void {
    this.changed();
    this.hashRemove(i);
    this.timerUnlink(i);
    const s = this.s, o = i * HOT;
    if (s[o + FLAGS]! & CONN_F.TEMPLATE) this.templates--;
    const bits = this.afBits(i);
    if (bits & AF6) {
      this.v6.release(s[o + CADDR]!);
      if (!(bits & FWM_TEMPLATE)) this.v6.release(s[o + VADDR]!);
    }
    if (bits & DAF6) this.v6.release(this.s[i * HOT + DADDR]!);
    if (this.s[i * HOT + DPORT_MARK]! >>> 16 === MARK_ELSEWHERE) this.bigMarks.delete(i);
    s[o + META] = 0;
    s[o + TSLOT] = FREED;
    s[o + GEN] = ((s[o + GEN]! & GEN_MASK) + 1) & GEN_MASK;
    this.k[i * CHAIN] = this.freeHead;
    this.freeHead = i;
    this.count--;
  }

  /** Re-key an entry's ports in place (template invalidation), keeping it hashed if it was. */
  setPorts(i: number, cport: number, vport: number, dport: number): void {
    this.changed();
    const was = this.hashRemove(i);
    const o = i * HOT;
    this.k[i * CHAIN + 1] = ((cport & 0xffff) << 16) | (vport & 0xffff);
    this.s[o + DPORT_MARK] = (this.s[o + DPORT_MARK]! & ~0xffff) | (dport & 0xffff);
    if (was) this.hashInsert(i);
  }

  // --- lookups (ip_vs_conn.c: ip_vs_conn_in_get, ip_vs_ct_in_get, ip_vs_conn_out_get) ---
  /** ip_vs_conn_in_get: proto, client addr:port, virtual addr:port; never matches templates. */
  inLookup(af: Af, proto: number, caddr: Addr, cport: number, vaddr: Addr, vport: number): number {
    const c = this.encodeLookup(af, caddr);
    const v = this.encodeLookup(af, vaddr);
    if (c < 0 && af === 6 || v < 0 && af === 6) return -1;
    const s = this.s;
    const ports = ((cport & 0xffff) << 16) | (vport & 0xffff);
    const key = proto | ((af === 6 ? AF6 : 0) << 8);
    // an entry with a client port never matches cport 0 and vice versa (NO_CPORT rule)
    const noCport = cport === 0 ? CONN_F.NO_CPORT : 0;
    for (let i = this.buckets[this.hashKey(proto, c, cport) & this.bucketMask]!; i >= 0; i = this.k[i * CHAIN]!) {
      const o = i * HOT;
      if (this.k[i * CHAIN + 1] === ports && s[o + CADDR] === c && s[o + VADDR] === v &&
          (s[o + META]! & PROTO_KEY_MASK) === key && (s[o + FLAGS]! & CONN_F.NO_CPORT) === noCport) {
        return i;
      }
    }
    return -1;
  }

  /** ip_vs_ct_in_get: a template keyed (proto, masked client, 0, vaddr or mark, vport). */
  templateLookup(af: Af, proto: number, snet: Addr, vaddr: Addr, vport: number, fwmarkKey: boolean): number {
    const c = this.encodeLookup(af, snet);
    const v = fwmarkKey ? (vaddr as number) | 0 : this.encodeLookup(af, vaddr);
    if (af === 6 && (c < 0 || (!fwmarkKey && v < 0))) return -1;
    const s = this.s;
    const ports = vport & 0xffff;
    const key = proto | (((af === 6 ? AF6 : 0) | (fwmarkKey ? FWM_TEMPLATE : 0)) << 8);
    for (let i = this.buckets[this.hashKey(proto, c, 0) & this.bucketMask]!; i >= 0; i = this.k[i * CHAIN]!) {
      const o = i * HOT;
      if (this.k[i * CHAIN + 1] === ports && s[o + CADDR] === c && s[o + VADDR] === v &&
          (s[o + META]! & PROTO_KEY_MASK) === key && (s[o + FLAGS]! & CONN_F.TEMPLATE)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * ip_vs_conn_out_get: a reply from src (real server, or the VIP for non-NAT methods) to the
   * client dst. Matches on the client side and on (daddr, dport) for NAT, (vaddr, vport) otherwise.
   */
  outLookup(af: Af, proto: number, src: Addr, sport: number, dst: Addr, dport: number): number {
    const c = this.encodeLookup(af, dst);
    if (c < 0 && af === 6) return -1;
    const sw = this.encodeLookup(af, src);
    if (sw < 0 && af === 6) return -1;
    const s = this.s;
    const key = proto | ((af === 6 ? AF6 : 0) << 8);
    for (let i = this.buckets[this.hashKey(proto, c, dport) & this.bucketMask]!; i >= 0; i = this.k[i * CHAIN]!) {
      const o = i * HOT;
      const fl = s[o + FLAGS]!;
      if (this.k[i * CHAIN + 1]! >>> 16 !== dport || s[o + CADDR] !== c || (s[o + META]! & PROTO_KEY_MASK) !== key ||
          (fl & CONN_F.TEMPLATE)) continue;
      if ((fl & CONN_F.FWD_MASK) === CONN_F.MASQ) {
        if (this.daf(i) === af && s[o + DADDR] === sw && (s[o + DPORT_MARK]! & 0xffff) === sport) return i;
      } else if (s[o + VADDR] === sw && (this.k[i * CHAIN + 1]! & 0xffff) === sport) {
        return i;
      }
    }
    return -1;
  }

  // --- kernel-sized buckets, for drop_entry's random sweep ---
  get kernelBuckets(): number {
    return 1 << this.kernelTabBits;
  }

  /** Entries that would sit in kernel bucket `kb` (our table is a power-of-two multiple of it). */
  forEachInKernelBucket(kb: number, fn: (i: number) => void): void {
    const step = 1 << this.kernelTabBits;
    const list: number[] = [];
    for (let b = kb & this.bucketMask; b < this.buckets.length; b += step) {
      for (let i = this.buckets[b]!; i >= 0; i = this.k[i * CHAIN]!) list.push(i);
    }
    for (const i of list) fn(i); // collected first: fn may delete entries
  }

  /** Every hashed entry, bucket by bucket (the /proc/net/ip_vs_conn walk). */
  forEachHashed(fn: (i: number) => void): void {
    for (let b = 0; b < this.buckets.length; b++) {
      for (let i = this.buckets[b]!; i >= 0; i = this.k[i * CHAIN]!) fn(i);
    }
  }

  /** Every live slot index in slot order (cheap scan for queries). */
  forEachLive(fn: (i: number) => void): void {
    for (let i = 0; i < this.used; i++) if (this.s[i * HOT + TSLOT] !== FREED) fn(i);
  }

  get highWater(): number {
    return this.used;
  }

  // --- timer wheel ---
  /** Entries linked in the wheel (a pending timer); `count` less this is the live entries disarmed. */
  get pendingTimers(): number {
    return this.linked;
  }

  /** The absolute wheel slot timers are due from: no pending entry sits in an earlier one. */
  get timerCursor(): number {
    return this.wheelCursor;
  }

  /**
   * The first entry linked at wheel position `s` (an absolute slot; the position holds every
   * revolution's entries), or -1; follow with `timerNextOf`. An entry linked in an absolute slot
   * after `timerCursor` expires at or after that slot's start (`timerSlotStart`): `arm` links at
   * the expiry's slot and moves an entry only earlier, a later expiry waits in its old slot.
   */
  timerHeadAt(s: number): number {
    return this.wheel[s & WHEEL_MASK]!;
  }
  timerNextOf(i: number): number {
    return this.s[i * HOT + TNEXT]!;
  }
  timerSlotStart(s: number): number {
    return s * (1 << SLOT_SHIFT);
  }
  get timerWheelSlots(): number {
    return WHEEL_SIZE;
  }

  private timerLink(i: number, slot: number): void {
    this.linked++;
    const s = this.s;
    const idx = slot & WHEEL_MASK;
    const head = this.wheel[idx]!;
    s[i * HOT + TNEXT] = head;
    s[i * HOT + TPREV] = -1;
    if (head >= 0) s[head * HOT + TPREV] = i;
    this.wheel[idx] = i;
    s[i * HOT + TSLOT] = slot;
  }

  private timerUnlink(i: number): void {
    const s = this.s, o = i * HOT;
    const slot = s[o + TSLOT]!;
    if (slot < 0) return;
    this.linked--;
    const n = s[o + TNEXT]!, p = s[o + TPREV]!;
    if (p >= 0) s[p * HOT + TNEXT] = n;
    else this.wheel[slot & WHEEL_MASK] = n;
    if (n >= 0) s[n * HOT + TPREV] = p;
    s[o + TSLOT] = UNLINKED;
  }

  /**
   * (Re-)arm an entry's timer to fire at `at`. Moving it later is lazy (only `expires` changes;
   * the wheel moves it when its old slot comes round), so the per-packet re-arm of a busy
   * connection costs a store and a compare. An entry still at the head of its slot's list (just
   * linked: a new connection's first 3 s timer, re-armed by its first packet) moves at once: its
   * neighbours are the entries linked just before it, in cache now, not when the slot comes round.
   */
  arm(i: number, at: number): void {
    this.x[(i * HOT + EXPIRES) >> 1] = at;
    this.changed();
    const slot = Math.max(Math.floor(at / (1 << SLOT_SHIFT)), this.wheelCursor);
    const o = i * HOT;
    const cur = this.s[o + TSLOT]!;
    if (cur >= 0 && slot >= cur && (slot === cur || this.s[o + TPREV]! >= 0)) return;
    this.timerUnlink(i);
    this.timerLink(i, slot);
  }

  /** Whether the entry's timer is pending (armed and not yet fired). */
  timerPending(i: number): boolean {
    return this.s[i * HOT + TSLOT]! >= 0;
  }

  /** Remove from the wheel without freeing (the kernel's del_timer). Returns whether it was pending. */
  disarm(i: number): boolean {
    if (this.s[i * HOT + TSLOT]! < 0) return false;
    this.timerUnlink(i);
    return true;
  }

  /**
   * Collect every entry whose timer is due at `now` (expires <= now), in firing order, unlinked
   * from the wheel. Cost: the slots between the last call and now, i.e. proportional to what
   * expires plus what was lazily re-armed, never the whole table.
   */
  collectDue(now: number, out: number[]): void {
    const s = this.s;
    const target = Math.floor(now / (1 << SLOT_SHIFT));
    const last = Math.min(target, this.wheelCursor + WHEEL_SIZE - 1);
    for (let slot = this.wheelCursor; slot <= last; slot++) {
      const idx = slot & WHEEL_MASK;
      let i = this.wheel[idx]!;
      while (i >= 0) {
        const next = s[i * HOT + TNEXT]!;
        const exp = this.x[(i * HOT + EXPIRES) >> 1]!;
        if (exp <= now) {
          this.timerUnlink(i);
          out.push(i);
        } else {
          const want = Math.floor(exp / (1 << SLOT_SHIFT));
          if (want !== s[i * HOT + TSLOT]) {
            this.timerUnlink(i);
            this.timerLink(i, Math.max(want, target));
          }
        }
        i = next;
      }
    }
    this.wheelCursor = target;
    // Fire in time order, then by slot index: deterministic and close to the kernel's order.
    const x = this.x;
    out.sort((a, b) => x[(a * HOT + EXPIRES) >> 1]! - x[(b * HOT + EXPIRES) >> 1]! || a - b);
  }
}
