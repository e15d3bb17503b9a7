// ovf: Weighted Overflow (ip_vs_ovf.c). Candidates are dests that are not OVERLOAD, have weight != 0
// and activeconns <= weight; the candidate with the highest weight wins, ties keep the earlier
// (newer) dest. Only active connections count, so UDP (always inactive) never overflows.
import type {Dest, SchedulerOps} from '../types.js';
import {isOverloaded, registerScheduler} from './registry.js';

export const ovf: SchedulerOps = {
  name: 'ovf',
  schedule(svc) {
    let h: Dest | null = null;
    let hw = 0;
    for (const d of svc.dests) {
      const w = d.weight;
      if (isOverloaded(d) || d.activeConns > w || w === 0) continue;
      if (h === null || w > hw) {
        h = d;
        hw = w;
      }
    }
    return h;
  },
};

registerScheduler(ovf);
