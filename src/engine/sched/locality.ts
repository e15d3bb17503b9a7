// The locality cache shared by lblc and lblcr (ip_vs_lblc.c, ip_vs_lblcr.c): a 1024-bucket hash
// table keyed by the packet's destination address, its periodic garbage collection (a 60 s timer,
// a full expiration check every 30th run, size-driven pruning from a rover), and the "lblc
// overloaded" test both schedulers apply to their cached choice.
import type {Addr} from '../addr.js';
import type {Dest, Service} from '../types.js';
import {SECOND} from '../constants.js';
import {addrKey, hash32} from './hash.js';

/** IP_VS_LBLC_TAB_BITS / IP_VS_LBLCR_TAB_BITS. */
export const LOCALITY_TAB_BITS = 10;
export const LOCALITY_TAB_SIZE = 1 << LOCALITY_TAB_BITS;
const LOCALITY_TAB_MASK = LOCALITY_TAB_SIZE - 1;
/** CHECK_EXPIRE_INTERVAL: the GC timer period. */
export const CHECK_EXPIRE_INTERVAL = 60 * SECOND;
/** ENTRY_TIMEOUT: idle age after which size-driven pruning may drop an entry. */
export const ENTRY_TIMEOUT = 6 * 60 * SECOND;
/** COUNT_FOR_FULL_EXPIRATION: every 30th timer run does a full expiration check. */
export const COUNT_FOR_FULL_EXPIRATION = 30;
/** DEFAULT_EXPIRATION of lblc_expiration / lblcr_expiration (24 h). */
export const DEFAULT_EXPIRATION = 24 * 60 * 60 * SECOND;

export interface CacheEntry {
  readonly addr: Addr;
  /** Virtual time (ms) of the last lookup hit or of creation. */
  lastuse: number;
}

/** ip_vs_lblc_hashkey / ip_vs_lblcr_hashkey: hash_32(ntohl(fold(addr)), 10). */
export function localityBucket(addr: Addr): number {
  return hash32(addrKey(addr), LOCALITY_TAB_BITS);
}

/**
 * is_overloaded() of lblc/lblcr: the dest has more active connections than its weight AND some dest
 * of the service (any: weight 0, OVERLOAD or not) has activeconns × 2 < weight.
 */
export function lblcOverloaded(dest: Dest, svc: Service): boolean {
  if (dest.activeConns > dest.weight) {
    for (const d of svc.dests) if (d.activeConns * 2 < d.weight) return true;
  }
  return false;
}

/**
 * ip_vs_dest_hold / ip_vs_dest_put: a cache entry holds a reference on its dest(s), which keeps a
 * deleted dest in the trash (and recoverable by re-adding it) while the entry lives. Dest.refs is
 * the kernel's refcount less the service's own reference, so scheduler holds count in it.
 */
export function destHold(d: Dest): void {
  d.refs++;
}
export function destPut(d: Dest): void {
  d.refs--;
}

/** struct ip_vs_lblc_table / ip_vs_lblcr_table with its GC timer. */
export class LocalityCache<E extends CacheEntry> {
  /** Buckets, each in hlist order (newest first). */
  readonly buckets: E[][] = Array.from({length: LOCALITY_TAB_SIZE}, () => []);
  /**
   * The kernel's atomic `entries` counter. It can exceed the real number of entries: lblc's
   * replacement path unlinks an entry without decrementing it (kept, as the kernel does).
   */
  entries = 0;
  /** max_size = TAB_SIZE × 16. */
  readonly maxSize = LOCALITY_TAB_SIZE * 16;
  rover = 0;
  counter = 1;
  /** Virtual time at which the periodic timer fires next. */
  nextCheck: number;

  /**
   * init_svc: the timer is armed CHECK_EXPIRE_INTERVAL after binding. `release` drops the dest
   * references of an entry the cache deletes (GC or flush).
   */
  constructor(now: number, private readonly release: (en: E) => void) {
    this.nextCheck = now + CHECK_EXPIRE_INTERVAL;
  }

  /** ip_vs_lblc_get / ip_vs_lblcr_get. */
  get(addr: Addr): E | null {
    for (const en of this.buckets[localityBucket(addr)]!) if (en.addr === addr) return en;
    return null;
  }

  /** ip_vs_lblc_hash / ip_vs_lblcr_hash: link at the bucket head and count it. */
  hash(en: E): void {
    this.buckets[localityBucket(en.addr)]!.unshift(en);
    this.entries++;
  }

  /** hlist_del_rcu only (ip_vs_lblc_del): the caller decides whether `entries` drops. */
  unlink(en: E): void {
    const b = this.buckets[localityBucket(en.addr)]!;
    const i = b.indexOf(en);
    if (i >= 0) b.splice(i, 1);
  }

  /** Number of entries actually linked (for tests and listings). */
  linked(): number {
    let n = 0;
    for (const b of this.buckets) n += b.length;
    return n;
  }

  /** *_flush (done_service): drop every entry. */
  flush(): void {
    for (const b of this.buckets) {
      for (const en of b) this.release(en);
      this.entries -= b.length;
      b.length = 0;
    }
  }

  /** Delete, in bucket `j`, every entry with now ≥ lastuse + age; returns how many. */
  private sweepBucket(j: number, now: number, age: number): number {
    const b = this.buckets[j]!;
    let removed = 0;
    for (let k = 0; k < b.length;) {
      const en = b[k]!;
      if (now < en.lastuse + age) { k++; continue; } // time_before(now, lastuse + age)
      b.splice(k, 1);
      this.release(en);
      this.entries--;
      removed++;
    }
    return removed;
  }

  /** *_full_check: every bucket once, starting after the rover (the rover ends where it began). */
  private fullCheck(now: number, expiration: number): void {
    let j = this.rover;
    for (let i = 0; i < LOCALITY_TAB_SIZE; i++) {
      j = (j + 1) & LOCALITY_TAB_MASK;
      this.sweepBucket(j, now, expiration);
    }
    this.rover = j;
  }

  /** *_check_expire: one run of the periodic timer at virtual time `now`. */
  checkExpire(now: number, expiration: number): void {
    if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
      this.fullCheck(now, expiration);
      this.counter = 1;
      return;
    }
    if (this.entries <= this.maxSize) {
      this.counter++;
      return;
    }
    let goal = Math.trunc(((this.entries - this.maxSize) * 4) / 3);
    if (goal > this.maxSize / 2) goal = this.maxSize / 2;
    let j = this.rover;
    for (let i = 0; i < LOCALITY_TAB_SIZE; i++) {
      j = (j + 1) & LOCALITY_TAB_MASK;
      goal -= this.sweepBucket(j, now, ENTRY_TIMEOUT);
      if (goal <= 0) break;
    }
    this.rover = j;
  }

  /**
   * Fire every timer expiry up to `now`, each at its exact virtual time; the timer re-arms
   * CHECK_EXPIRE_INTERVAL after each run (mod_timer(jiffies + CHECK_EXPIRE_INTERVAL)).
   */
  advance(now: number, expiration: () => number): void {
    while (now >= this.nextCheck) {
      this.checkExpire(this.nextCheck, expiration());
      this.nextCheck += CHECK_EXPIRE_INTERVAL;
    }
  }
}
