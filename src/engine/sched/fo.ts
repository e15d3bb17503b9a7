// fo: Weighted Fail Over (ip_vs_fo.c). The non-overloaded dest with the highest weight; a dest
// replaces the best so far only when its weight is strictly greater (starting from 0, so weight-0
// dests never win and ties keep the earlier, i.e. newer, dest).
import type {Dest, SchedulerOps} from '../types.js';
import {isOverloaded, registerScheduler} from './registry.js';

export const fo: SchedulerOps = {
  name: 'fo',
  schedule(svc) {
    let best: Dest | null = null;
    let hw = 0;
    for (const d of svc.dests) {
      if (!isOverloaded(d) && d.weight > hw) {
        best = d;
        hw = d.weight;
      }
    }
    return best;
  },
};

registerScheduler(fo);
