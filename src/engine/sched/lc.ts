// lc: Least Connection (ip_vs_lc.c). Minimum of active*256+inactive among dests that are not
// overloaded and have weight != 0; the first in list order wins ties.
import type {Dest, SchedulerOps} from '../types.js';
import {connOverhead, isOverloaded, registerScheduler} from './registry.js';

export const lc: SchedulerOps = {
  name: 'lc',
  schedule(svc) {
    let least: Dest | null = null;
    let loh = 0;
    for (const d of svc.dests) {
      if (isOverloaded(d) || d.weight === 0) continue;
      const doh = connOverhead(d);
      if (least === null || doh < loh) { least = d; loh = doh; }
    }
    return least;
  },
};

registerScheduler(lc);
