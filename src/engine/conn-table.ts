// The connection table: every entry (connection or persistence template) lives in parallel typed
// arrays indexed by a slot number, chained into a hash table keyed like the kernel's
// ip_vs_conn_hashkey (protocol, client address, client port), and linked into a timer wheel.
//
// Why this shape: a flood fills the table with a million entries; objects per entry would cost
// ~300 B and GC pauses, typed arrays cost ~90 B and nothing to the collector. Free slots form a
// free list through `hashNext`. IPv6 addresses are interned (refcounted) so every address field
// is one uint32: an IPv4 address itself, or an IPv6 pool id when the entry's family is 6.
import type {Addr, Af} from './addr.js';
import {CONN_F, DEFAULT_CONN_TAB_BITS} from './constants.js';

const AF6 = 1, DAF6 = 2; // bits of `afBits`
/** Marks a template of a fwmark service (protocol IPPROTO_IP, vaddr = the mark). */
const FWM_TEMPLATE = 4;

/** Timer wheel: slots of 2^SLOT_SHIFT ms, WHEEL_SIZE slots (≈ 35 minutes per revolution). */
const SLOT_SHIFT = 8;
const WHEEL_SIZE = 8192;
const WHEEL_MASK = WHEEL_SIZE - 1;
const UNLINKED = -1;
/** tSlot value of a free slot. */
const FREED = -2;
export const FREE_SLOT = FREED;

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

  // --- per-entry fields ---
  proto!: Uint8Array;
  afBits!: Uint8Array;
  state!: Uint8Array;
  oldState!: Uint8Array;
  /** Netfilter-conntrack facts the reuse logic needs (CT_* bits). */
  ctInfo!: Uint8Array;
  flags!: Uint32Array;
  caddr!: Uint32Array;
  vaddr!: Uint32Array;
  daddr!: Uint32Array;
  cport!: Uint16Array;
  vport!: Uint16Array;
  dport!: Uint16Array;
  fwmark!: Uint32Array;
  /** Current timeout in ms (what the timer is re-armed with). */
  timeout!: Uint32Array;
  /** Absolute expiry time in ms. */
  expires!: Float64Array;
  dest!: Int32Array;
  control!: Int32Array;
  nControl!: Uint32Array;
  inPkts!: Uint32Array;
  outPkts!: Uint32Array;
  /** sync_endtime (jiffies rounded to 4, low bits = retry count), for the sync decision. */
  syncEnd!: Float64Array;
  private hashNext!: Int32Array;
  private tNext!: Int32Array;
  private tPrev!: Int32Array;
  /** Absolute wheel slot the entry is linked in, or UNLINKED. */
  private tSlot!: Int32Array;
  /** Generation of each slot (bumped on free): the high part of an entry's id. */
  private gen!: Uint32Array;

  private buckets: Int32Array;
  private bucketMask: number;
  private freeHead = -1;
  private used = 0; // slots ever handed out (high-water mark)

  private readonly wheel = new Int32Array(WHEEL_SIZE).fill(-1);
  /** Absolute slot up to which the wheel has been processed (the current slot is partly done). */
  private wheelCursor = 0;

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
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(
      old: T | undefined, make: (n: number) => T): T => {
      const a = make(cap);
      if (old) a.set(old);
      return a;
    };
    this.proto = grow(this.proto, (n) => new Uint8Array(n));
    this.afBits = grow(this.afBits, (n) => new Uint8Array(n));
    this.state = grow(this.state, (n) => new Uint8Array(n));
    this.oldState = grow(this.oldState, (n) => new Uint8Array(n));
    this.ctInfo = grow(this.ctInfo, (n) => new Uint8Array(n));
    this.flags = grow(this.flags, (n) => new Uint32Array(n));
    this.caddr = grow(this.caddr, (n) => new Uint32Array(n));
    this.vaddr = grow(this.vaddr, (n) => new Uint32Array(n));
    this.daddr = grow(this.daddr, (n) => new Uint32Array(n));
    this.cport = grow(this.cport, (n) => new Uint16Array(n));
    this.vport = grow(this.vport, (n) => new Uint16Array(n));
    this.dport = grow(this.dport, (n) => new Uint16Array(n));
    this.fwmark = grow(this.fwmark, (n) => new Uint32Array(n));
    this.timeout = grow(this.timeout, (n) => new Uint32Array(n));
    this.expires = grow(this.expires, (n) => new Float64Array(n));
    this.dest = grow(this.dest, (n) => new Int32Array(n));
    this.control = grow(this.control, (n) => new Int32Array(n));
    this.nControl = grow(this.nControl, (n) => new Uint32Array(n));
    this.inPkts = grow(this.inPkts, (n) => new Uint32Array(n));
    this.outPkts = grow(this.outPkts, (n) => new Uint32Array(n));
    this.syncEnd = grow(this.syncEnd, (n) => new Float64Array(n));
    this.hashNext = grow(this.hashNext, (n) => new Int32Array(n));
    this.tNext = grow(this.tNext, (n) => new Int32Array(n));
    this.tPrev = grow(this.tPrev, (n) => new Int32Array(n));
    this.tSlot = grow(this.tSlot, (n) => new Int32Array(n));
    this.gen = grow(this.gen, (n) => new Uint32Array(n));
    this.capacity = cap;
  }

  /** Bytes of typed-array storage per entry slot (for the memory report). */
  bytesPerSlot(): number {
    return [this.proto, this.afBits, this.state, this.oldState, this.ctInfo, this.flags, this.caddr, this.vaddr,
      this.daddr, this.cport, this.vport, this.dport, this.fwmark, this.timeout, this.expires, this.dest,
      this.control, this.nControl, this.inPkts, this.outPkts, this.syncEnd, this.hashNext, this.tNext,
      this.tPrev, this.tSlot, this.gen].reduce((sum, a) => sum + a.BYTES_PER_ELEMENT, 0);
  }

  // --- addresses ---
  private encode(af: Af, a: Addr): number {
    return af === 4 ? (a as number) : this.v6.intern(a as string);
  }
  private encodeLookup(af: Af, a: Addr): number {
    return af === 4 ? (a as number) : this.v6.find(a as string);
  }
  private decode(af: Af, v: number): Addr {
    return af === 4 ? v : this.v6.get(v);
  }
  af(i: number): Af {
    return this.afBits[i]! & AF6 ? 6 : 4;
  }
  daf(i: number): Af {
    return this.afBits[i]! & DAF6 ? 6 : 4;
  }
  isFwmarkTemplate(i: number): boolean {
    return (this.afBits[i]! & FWM_TEMPLATE) !== 0;
  }
  clientAddr(i: number): Addr {
    return this.decode(this.af(i), this.caddr[i]!);
  }
  /** The virtual address; for a fwmark template, the mark as a number. */
  virtualAddr(i: number): Addr {
    return this.isFwmarkTemplate(i) ? this.vaddr[i]! : this.decode(this.af(i), this.vaddr[i]!);
  }
  destAddr(i: number): Addr {
    return this.decode(this.daf(i), this.daddr[i]!);
  }
  isLive(i: number): boolean {
    return i >= 0 && i < this.used && this.tSlot[i] !== FREED;
  }

  /** The id of the live entry in slot `i` (stable until the entry is freed). */
  idOf(i: number): number {
    return this.gen[i]! * ID_SPAN + i;
  }

  /** The slot of a live entry's id, or -1 when the entry is gone (its slot freed or reused). */
  slotOf(id: number): number {
    if (!(id >= 0) || !Number.isInteger(id)) return -1;
    const i = id % ID_SPAN;
    if (i >= this.used || this.tSlot[i] === FREED || this.gen[i]! * ID_SPAN + i !== id) return -1;
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
    return this.hashKey(this.proto[i]!, this.caddr[i]!, this.cport[i]!) & this.bucketMask;
  }

  private hashInsert(i: number): void {
    const b = this.bucketOf(i);
    this.hashNext[i] = this.buckets[b]!;
    this.buckets[b] = i; // new entries go to the head of their bucket, as in the kernel
    this.flags[i] |= CONN_F.HASHED;
  }

  private hashRemove(i: number): boolean {
    if (!(this.flags[i]! & CONN_F.HASHED)) return false;
    const b = this.bucketOf(i);
    let p = this.buckets[b]!;
    if (p === i) this.buckets[b] = this.hashNext[i]!;
    else {
      while (p >= 0 && this.hashNext[p] !== i) p = this.hashNext[p]!;
      if (p >= 0) this.hashNext[p] = this.hashNext[i]!;
    }
    this.flags[i] &= ~CONN_F.HASHED;
    return true;
  }

  private maybeGrowBuckets(): void {
    if (this.count <= this.buckets.length) return;
    const nb = this.buckets.length * 2;
    const old = this.buckets;
    this.buckets = new Int32Array(nb).fill(-1);
    this.bucketMask = nb - 1;
    for (let b = 0; b < old.length; b++) {
      let i = old[b]!;
      const chain: number[] = [];
      while (i >= 0) { chain.push(i); i = this.hashNext[i]!; }
      // Re-insert oldest first so each bucket keeps newest-first order.
      for (let k = chain.length - 1; k >= 0; k--) {
        const e = chain[k]!;
        const nbk = this.bucketOf(e);
        this.hashNext[e] = this.buckets[nbk]!;
        this.buckets[nbk] = e;
      }
    }
  }

  // --- create / free ---
  /** Allocate and fill an entry; `hash` false for ONE_PACKET entries (never in the table). */
  create(c: NewConn, now: number, hash: boolean): number {
    let i = this.freeHead;
    if (i >= 0) this.freeHead = this.hashNext[i]!;
    else {
      if (this.used === this.capacity) {
        if (this.capacity >= MAX_SLOTS) throw new RangeError(`connection table full (${MAX_SLOTS} entries)`);
        // 1.5x: a quarter less slack on average than doubling (at 10M entries a doubled table
        // would sit at 16.8M slots), for a few more copies, amortised O(1) either way.
        this.allocate(Math.min(Math.ceil(this.capacity * 1.5), MAX_SLOTS));
      }
      i = this.used++;
    }
    this.proto[i] = c.proto;
    this.afBits[i] = (c.af === 6 ? AF6 : 0) | (c.daf === 6 ? DAF6 : 0) | (c.fwmarkTemplate ? FWM_TEMPLATE : 0);
    this.state[i] = 0;
    this.oldState[i] = 0;
    this.ctInfo[i] = 0;
    this.flags[i] = c.flags & ~CONN_F.HASHED;
    this.caddr[i] = this.encode(c.af, c.caddr);
    this.vaddr[i] = c.fwmarkTemplate ? (c.vaddr as number) : this.encode(c.af, c.vaddr);
    this.daddr[i] = this.encode(c.daf, c.daddr);
    this.cport[i] = c.cport;
    this.vport[i] = c.vport;
    this.dport[i] = c.dport;
    this.fwmark[i] = c.fwmark >>> 0;
    this.timeout[i] = 0;
    this.expires[i] = now;
    this.dest[i] = c.dest;
    this.control[i] = -1;
    this.nControl[i] = 0;
    this.inPkts[i] = 0;
    this.outPkts[i] = 0;
    this.syncEnd[i] = now - (now % 4);
    this.tSlot[i] = UNLINKED;
    this.count++;
    if (c.flags & CONN_F.TEMPLATE) this.templates++;
    if (hash) {
      this.hashInsert(i);
      this.maybeGrowBuckets();
    }
    return i;
  }

  /** Unhash, unlink from the wheel and return the slot to the free list. */
  free(i: number): void {
    this.hashRemove(i);
    this.timerUnlink(i);
    if (this.flags[i]! & CONN_F.TEMPLATE) this.templates--;
    const af = this.af(i), daf = this.daf(i);
    if (af === 6) {
      this.v6.release(this.caddr[i]!);
      if (!this.isFwmarkTemplate(i)) this.v6.release(this.vaddr[i]!);
    }
    if (daf === 6) this.v6.release(this.daddr[i]!);
    this.afBits[i] = 0;
    this.tSlot[i] = FREED;
    this.gen[i] = (this.gen[i]! + 1) & GEN_MASK;
    this.hashNext[i] = this.freeHead;
    this.freeHead = i;
    this.count--;
  }

  /** Re-key an entry in place (template invalidation rewrites its ports), keeping it hashed. */
  rehash(i: number, mutate: () => void): void {
    const was = this.hashRemove(i);
    mutate();
    if (was) this.hashInsert(i);
  }

  // --- lookups (ip_vs_conn.c: ip_vs_conn_in_get, ip_vs_ct_in_get, ip_vs_conn_out_get) ---
  /** ip_vs_conn_in_get: proto, client addr:port, virtual addr:port; never matches templates. */
  inLookup(af: Af, proto: number, caddr: Addr, cport: number, vaddr: Addr, vport: number): number {
    const c = this.encodeLookup(af, caddr);
    const v = this.encodeLookup(af, vaddr);
    if (c < 0 || v < 0) return -1;
    const want6 = af === 6 ? AF6 : 0;
    for (let i = this.buckets[this.hashKey(proto, c, cport) & this.bucketMask]!; i >= 0; i = this.hashNext[i]!) {
      if (this.cport[i] === cport && this.vport[i] === vport && this.caddr[i] === c && this.vaddr[i] === v &&
          this.proto[i] === proto && (this.afBits[i]! & (AF6 | FWM_TEMPLATE)) === want6 &&
          // an entry with a client port never matches cport 0 and vice versa (NO_CPORT rule)
          (cport === 0) !== ((this.flags[i]! & CONN_F.NO_CPORT) === 0)) {
        return i;
      }
    }
    return -1;
  }

  /** ip_vs_ct_in_get: a template keyed (proto, masked client, 0, vaddr or mark, vport). */
  templateLookup(af: Af, proto: number, snet: Addr, vaddr: Addr, vport: number, fwmarkKey: boolean): number {
    const c = this.encodeLookup(af, snet);
    const v = fwmarkKey ? (vaddr as number) : this.encodeLookup(af, vaddr);
    if (c < 0 || v < 0) return -1;
    const want = (af === 6 ? AF6 : 0) | (fwmarkKey ? FWM_TEMPLATE : 0);
    for (let i = this.buckets[this.hashKey(proto, c, 0) & this.bucketMask]!; i >= 0; i = this.hashNext[i]!) {
      if ((this.flags[i]! & CONN_F.TEMPLATE) && this.cport[i] === 0 && this.caddr[i] === c &&
          this.vaddr[i] === v && this.vport[i] === vport && this.proto[i] === proto &&
          (this.afBits[i]! & (AF6 | FWM_TEMPLATE)) === want) {
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
    if (c < 0) return -1;
    const s = this.encodeLookup(af, src);
    if (s < 0) return -1;
    for (let i = this.buckets[this.hashKey(proto, c, dport) & this.bucketMask]!; i >= 0; i = this.hashNext[i]!) {
      const fl = this.flags[i]!;
      if (this.cport[i] !== dport || this.caddr[i] !== c || this.proto[i] !== proto || (fl & CONN_F.TEMPLATE)) continue;
      if ((this.afBits[i]! & (AF6 | FWM_TEMPLATE)) !== (af === 6 ? AF6 : 0)) continue;
      if ((fl & CONN_F.FWD_MASK) === CONN_F.MASQ) {
        if (this.daf(i) === af && this.daddr[i] === s && this.dport[i] === sport) return i;
      } else if (this.vaddr[i] === s && this.vport[i] === sport) {
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
      for (let i = this.buckets[b]!; i >= 0; i = this.hashNext[i]!) list.push(i);
    }
    for (const i of list) fn(i); // collected first: fn may delete entries
  }

  /** Every hashed entry, bucket by bucket (the /proc/net/ip_vs_conn walk). */
  forEachHashed(fn: (i: number) => void): void {
    for (let b = 0; b < this.buckets.length; b++) {
      for (let i = this.buckets[b]!; i >= 0; i = this.hashNext[i]!) fn(i);
    }
  }

  /** Every live slot index in slot order (cheap scan for queries). */
  forEachLive(fn: (i: number) => void): void {
    for (let i = 0; i < this.used; i++) if (this.tSlot[i] !== FREED) fn(i);
  }

  get highWater(): number {
    return this.used;
  }

  /** Liveness of every slot below highWater: `FREE_SLOT` marks a free one (for tight scans). */
  slotStates(): Int32Array {
    return this.tSlot;
  }

  // --- timer wheel ---
  private timerLink(i: number, slot: number): void {
    const idx = slot & WHEEL_MASK;
    const head = this.wheel[idx]!;
    this.tNext[i] = head;
    this.tPrev[i] = -1;
    if (head >= 0) this.tPrev[head] = i;
    this.wheel[idx] = i;
    this.tSlot[i] = slot;
  }

  private timerUnlink(i: number): void {
    const slot = this.tSlot[i]!;
    if (slot < 0) return;
    const n = this.tNext[i]!, p = this.tPrev[i]!;
    if (p >= 0) this.tNext[p] = n;
    else this.wheel[slot & WHEEL_MASK] = n;
    if (n >= 0) this.tPrev[n] = p;
    this.tSlot[i] = UNLINKED;
  }

  /**
   * (Re-)arm an entry's timer to fire at `at`. Moving it later is lazy (only `expires` changes;
   * the wheel moves it when its old slot comes round), so the per-packet re-arm of a busy
   * connection costs two stores.
   */
  arm(i: number, at: number): void {
    this.expires[i] = at;
    const slot = Math.max(Math.floor(at / (1 << SLOT_SHIFT)), this.wheelCursor);
    const cur = this.tSlot[i]!;
    if (cur >= 0 && slot >= cur) return;
    this.timerUnlink(i);
    this.timerLink(i, slot);
  }

  /** Whether the entry's timer is pending (armed and not yet fired). */
  timerPending(i: number): boolean {
    return this.tSlot[i]! >= 0;
  }

  /** Remove from the wheel without freeing (the kernel's del_timer). Returns whether it was pending. */
  disarm(i: number): boolean {
    if (this.tSlot[i]! < 0) return false;
    this.timerUnlink(i);
    return true;
  }

  /**
   * Collect every entry whose timer is due at `now` (expires <= now), in firing order, unlinked
   * from the wheel. Cost: the slots between the last call and now, i.e. proportional to what
   * expires plus what was lazily re-armed, never the whole table.
   */
  collectDue(now: number, out: number[]): void {
    const target = Math.floor(now / (1 << SLOT_SHIFT));
    const last = Math.min(target, this.wheelCursor + WHEEL_SIZE - 1);
    for (let s = this.wheelCursor; s <= last; s++) {
      const idx = s & WHEEL_MASK;
      let i = this.wheel[idx]!;
      while (i >= 0) {
        const next = this.tNext[i]!;
        const exp = this.expires[i]!;
        if (exp <= now) {
          this.timerUnlink(i);
          out.push(i);
        } else {
          const want = Math.floor(exp / (1 << SLOT_SHIFT));
          if (want !== this.tSlot[i]) {
            this.timerUnlink(i);
            this.timerLink(i, Math.max(want, target));
          }
        }
        i = next;
      }
    }
    this.wheelCursor = target;
    // Fire in time order, then by slot index: deterministic and close to the kernel's order.
    out.sort((a, b) => this.expires[a]! - this.expires[b]! || a - b);
  }
}
