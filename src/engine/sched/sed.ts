// sed: Shortest Expected Delay (ip_vs_sed.c). The wlc walk with overhead = activeconns + 1
// (inactive connections ignored): the first non-overloaded dest with weight > 0 starts, a later
// non-overloaded dest replaces it only when (loh × w_d) > (doh × w_least) in 64-bit arithmetic.
import type {Dest, SchedulerOps} from '../types.js';
import {registerScheduler} from './registry.js';
import {wlcPick} from './wlc.js';

/** ip_vs_sed_dest_overhead: only active connections count, plus the incoming one. */
export const sedOverhead = (d: Dest): number => d.activeConns + 1;

export const sed: SchedulerOps = {
  name: 'sed',
  schedule: (svc) => wlcPick(svc, sedOverhead),
};

registerScheduler(sed);
