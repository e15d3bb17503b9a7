// lblc: Locality-Based Least-Connection (ip_vs_lblc.c). A per-service cache maps the packet's
// destination address to the dest last chosen for it. A cached dest is reused while it is
// AVAILABLE, has weight > 0 and is not "lblc overloaded" (the OVERLOAD flag is not checked);
// otherwise wlc picks a dest and the cache entry is replaced. Entries age out via the periodic GC.
import type {Addr} from '../addr.js';
import type {Dest, SchedulerOps, Service} from '../types.js';
import {DEST_F} from '../constants.js';
import {registerScheduler} from './registry.js';
import {wlcPick} from './wlc.js';
import {LocalityCache, destHold, destPut, lblcOverloaded, type CacheEntry} from './locality.js';

/** struct ip_vs_lblc_entry. */
export interface LblcEntry extends CacheEntry {
  readonly dest: Dest;
}

const state = (svc: Service) => svc.schedData as LocalityCache<LblcEntry>;

/** The cache (for tests and listings). */
export function lblcCache(svc: Service): LocalityCache<LblcEntry> {
  return state(svc);
}

/** ip_vs_lblc_rcu_free: the entry's dest reference goes. */
const releaseEntry = (en: LblcEntry) => destPut(en.dest);

export const lblc: SchedulerOps = {
  name: 'lblc',
  initService(svc, ctx) {
    svc.schedData = new LocalityCache<LblcEntry>(ctx.now, releaseEntry);
  },
  doneService(svc) {
    state(svc).flush();
    svc.schedData = null;
  },
  tick(svc, ctx) {
    state(svc).advance(ctx.now, () => ctx.tunable('lblc_expiration'));
  },
  schedule(svc, pkt, ctx) {
    const tbl = state(svc);
    const daddr: Addr = pkt.dst;
    const en = tbl.get(daddr);
    if (en !== null) {
      en.lastuse = ctx.now;
      // A deleted (trashed) dest fails AVAILABLE; OVERLOAD is deliberately not consulted.
      const d = en.dest;
      if ((d.flags & DEST_F.AVAILABLE) !== 0 && d.weight > 0 && !lblcOverloaded(d, svc)) return d;
    }
    // No cache entry or it is invalid, time to schedule.
    const dest = wlcPick(svc);
    if (dest === null) return null;
    // ip_vs_lblc_new: keep an entry that already names this dest, else replace it. The old entry
    // is unlinked without decrementing `entries` (as the kernel's ip_vs_lblc_del does).
    if (en !== null) {
      if (en.dest === dest) return dest;
      tbl.unlink(en);
      releaseEntry(en);
    }
    destHold(dest);
    tbl.hash({addr: daddr, lastuse: ctx.now, dest});
    return dest;
  },
};

registerScheduler(lblc);
