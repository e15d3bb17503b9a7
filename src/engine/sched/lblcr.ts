// lblcr: Locality-Based Least-Connection with Replication (ip_vs_lblcr.c). Like lblc, but each
// cache entry holds a set of dests: the least loaded usable member serves, a new wlc choice joins
// the set when the members are all unusable or "lblc overloaded", and a set idle for longer than
// lblcr_expiration sheds its most loaded member.
import type {Addr} from '../addr.js';
import type {Dest, SchedulerOps, Service} from '../types.js';
import {connOverhead, isAvailable, isOverloaded, productGreater, registerScheduler} from './registry.js';
import {wlcPick} from './wlc.js';
import {LocalityCache, destHold, destPut, lblcOverloaded, type CacheEntry} from './locality.js';

/** struct ip_vs_lblcr_entry with its struct ip_vs_dest_set. */
export interface LblcrEntry extends CacheEntry {
  /** Set members, most recently inserted first (list_add_rcu). */
  readonly set: Dest[];
  /** Time of the last insertion or removal. */
  lastmod: number;
}

const state = (svc: Service) => svc.schedData as LocalityCache<LblcrEntry>;

/** The cache (for tests and listings). */
export function lblcrCache(svc: Service): LocalityCache<LblcrEntry> {
  return state(svc);
}

/** ip_vs_dest_set_insert: add at the head unless (when `check`) already a member. */
function setInsert(en: LblcrEntry, dest: Dest, check: boolean, now: number): void {
  if (check && en.set.includes(dest)) return;
  destHold(dest);
  en.set.unshift(dest);
  en.lastmod = now;
}

/** ip_vs_dest_set_erase. */
function setErase(en: LblcrEntry, dest: Dest, now: number): void {
  const i = en.set.indexOf(dest);
  if (i < 0) return;
  en.set.splice(i, 1);
  en.lastmod = now;
  destPut(dest);
}

/** ip_vs_lblcr_free → ip_vs_dest_set_eraseall: every member's reference goes. */
const releaseEntry = (en: LblcrEntry) => {
  for (const d of en.set) destPut(d);
  en.set.length = 0;
};

/**
 * ip_vs_dest_set_min: skipping OVERLOAD members, the first with weight > 0 and AVAILABLE starts;
 * a later member replaces it when strictly less loaded (loh × w_d > doh × w_least) and AVAILABLE.
 */
export function setMin(set: readonly Dest[]): Dest | null {
  let i = 0;
  let least: Dest | null = null;
  for (; i < set.length; i++) {
    const d = set[i]!;
    if (isOverloaded(d)) continue;
    if (d.weight > 0 && isAvailable(d)) { least = d; break; }
  }
  if (least === null) return null;
  let loh = connOverhead(least);
  for (i++; i < set.length; i++) {
    const d = set[i]!;
    if (isOverloaded(d)) continue;
    const doh = connOverhead(d);
    if (productGreater(loh, d.weight, doh, least.weight) && isAvailable(d)) { least = d; loh = doh; }
  }
  return least;
}

/**
 * ip_vs_dest_set_max: the first member with weight > 0 starts; a later member with weight > 0
 * replaces it when strictly more loaded (moh × w_d < doh × w_most). OVERLOAD and AVAILABLE are
 * not considered.
 */
export function setMax(set: readonly Dest[]): Dest | null {
  let i = 0;
  let most: Dest | null = null;
  for (; i < set.length; i++) {
    if (set[i]!.weight > 0) { most = set[i]!; break; }
  }
  if (most === null) return null;
  let moh = connOverhead(most);
  for (i++; i < set.length; i++) {
    const d = set[i]!;
    const doh = connOverhead(d);
    if (productGreater(doh, most.weight, moh, d.weight) && d.weight > 0) { most = d; moh = doh; }
  }
  return most;
}

export const lblcr: SchedulerOps = {
  name: 'lblcr',
  initService(svc, ctx) {
    svc.schedData = new LocalityCache<LblcrEntry>(ctx.now, releaseEntry);
  },
  doneService(svc) {
    state(svc).flush();
    svc.schedData = null;
  },
  tick(svc, ctx) {
    state(svc).advance(ctx.now, () => ctx.tunable('lblcr_expiration'));
  },
  schedule(svc, pkt, ctx) {
    const tbl = state(svc);
    const daddr: Addr = pkt.dst;
    const now = ctx.now;
    const en = tbl.get(daddr);
    if (en !== null) {
      en.lastuse = now;
      // Get the least loaded destination.
      let dest = setMin(en.set);
      // More than one destination + enough time passed by: drop the most loaded member.
      if (en.set.length > 1 && now > en.lastmod + ctx.tunable('lblcr_expiration')) {
        const m = setMax(en.set);
        if (m !== null) setErase(en, m, now);
      }
      // If the destination is not overloaded, use it.
      if (dest !== null && !lblcOverloaded(dest, svc)) return dest;
      // The cache entry is invalid, time to schedule.
      dest = wlcPick(svc);
      if (dest === null) return null;
      setInsert(en, dest, true, now);
      return dest;
    }
    // No cache entry, time to schedule.
    const dest = wlcPick(svc);
    if (dest === null) return null; // the kernel logs this one with IP_VS_DBG(1) only
    const entry: LblcrEntry = {addr: daddr, lastuse: now, set: [], lastmod: now};
    setInsert(entry, dest, false, now);
    tbl.hash(entry);
    return dest;
  },
};

registerScheduler(lblcr);
