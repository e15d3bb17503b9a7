// nq: Never Queue (ip_vs_nq.c). Scan in list order skipping OVERLOAD and weight 0: the first dest
// with no active connection is returned at once; otherwise keep the minimum of
// (activeconns + 1) / weight, replacing only when strictly better ((__s64) cross-multiplication).
import type {Dest, SchedulerOps} from '../types.js';
import {isOverloaded, productGreater, registerScheduler} from './registry.js';
import {sedOverhead} from './sed.js';

export const nq: SchedulerOps = {
  name: 'nq',
  schedule(svc) {
    let least: Dest | null = null;
    let loh = 0;
    for (const d of svc.dests) {
      if (isOverloaded(d) || d.weight === 0) continue;
      const doh = sedOverhead(d);
      if (d.activeConns === 0) return d; // idle server: never queue
      if (least === null || productGreater(loh, d.weight, doh, least.weight)) {
        least = d;
        loh = doh;
      }
    }
    return least;
  },
};

registerScheduler(nq);
