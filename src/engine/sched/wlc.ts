// wlc: Weighted Least Connection (ip_vs_wlc.c), ipvsadm's default scheduler.
import type {Dest, SchedulerOps, Service} from '../types.js';
import {connOverhead, isOverloaded, productGreater, registerScheduler} from './registry.js';

/**
 * The wlc walk, shared with lblc/lblcr which fall back to it: the first non-overloaded dest with
 * weight > 0 starts, a later dest replaces it only when strictly less loaded by cross-multiplication
 * (loh * dw > doh * lw), so ties keep the earlier (newer) dest and weight-0 dests never win.
 */
export function wlcPick(svc: Service, overhead: (d: Dest) => number = connOverhead): Dest | null {
  const list = svc.dests;
  let i = 0;
  let least: Dest | null = null;
  for (; i < list.length; i++) {
    const d = list[i]!;
    if (!isOverloaded(d) && d.weight > 0) { least = d; break; }
  }
  if (least === null) return null;
  let loh = overhead(least);
  for (i++; i < list.length; i++) {
    const d = list[i]!;
    if (isOverloaded(d)) continue;
    const doh = overhead(d);
    if (productGreater(loh, d.weight, doh, least.weight)) { least = d; loh = doh; }
  }
  return least;
}

export const wlc: SchedulerOps = {
  name: 'wlc',
  schedule: (svc) => wlcPick(svc),
};

registerScheduler(wlc);
