// wrr: Weighted Round Robin (ip_vs_wrr.c), including the kernel's "cw survives dest changes"
// behaviour: a service built dest by dest starts with a cw=1 pass (ip_vs_wrr.c: ip_vs_wrr_dest_changed keeps cw, ip_vs_wrr_schedule).
import type {Dest, SchedulerOps, Service} from '../types.js';
import {linkedDests} from './hash.js';
import {isOverloaded, registerScheduler} from './registry.js';

interface WrrState {
  /** Index of the cursor node; -1 = list head. */
  cl: number;
  cw: number;
  mw: number;
  di: number;
}

const state = (svc: Service) => svc.schedData as WrrState;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function gcdWeight(dests: readonly Dest[]): number {
  let g = 0;
  for (const d of dests) if (d.weight > 0) g = g === 0 ? d.weight : gcd(d.weight, g);
  return g ? g : 1;
}

function maxWeight(dests: readonly Dest[]): number {
  let m = 0;
  for (const d of dests) if (d.weight > m) m = d.weight;
  return m;
}

function recompute(dests: readonly Dest[], st: WrrState): void {
  st.di = gcdWeight(dests);
  const mw = maxWeight(dests);
  st.mw = mw === 0 ? 0 : mw - (st.di - 1);
}

/**
 * ip_vs_wrr_dest_changed: cursor to head, recompute di/mw, adjust cw. The kernel calls it for a
 * deletion after unlinking the dest; our hook runs before, so the departing dest is left out.
 */
function destChanged(svc: Service, removing: Dest | null = null): void {
  const st = state(svc);
  st.cl = -1;
  recompute(linkedDests(svc, removing), st);
  if (st.cw > st.mw || st.cw === 0) st.cw = st.mw;
  else if (st.di > 1) st.cw = Math.floor(st.cw / st.di) * st.di + 1;
}

export const wrr: SchedulerOps = {
  name: 'wrr',
  initService(svc) {
    const st: WrrState = {cl: -1, cw: 0, mw: 0, di: 1};
    recompute(svc.dests, st);
    st.cw = st.mw;
    svc.schedData = st;
  },
  addDest: (svc) => destChanged(svc),
  delDest: (svc, dest) => destChanged(svc, dest),
  updDest: (svc) => destChanged(svc),
  schedule(svc, _pkt, ctx) {
    const st = state(svc);
    const list: Dest[] = svc.dests;
    if (st.mw === 0) return null;
    const last = st.cl;
    let stop = -2; // -2: no stop node
    let lastPass = false;
    let restarted = false;
    let d = st.cl;
    for (;;) {
      for (d = d + 1; d < list.length; d++) {
        const dest = list[d]!;
        if (!isOverloaded(dest) && dest.weight >= st.cw) {
          st.cl = d;
          return dest;
        }
        if (d === stop) {
          st.cl = d;
          ctx.log(1, () => 'wrr: no destination available: all destinations are overloaded');
          return null;
        }
      }
      st.cw -= st.di;
      if (st.cw <= 0) {
        st.cw = st.mw;
        if (lastPass || last === -1) {
          st.cl = -1; // the finished walk left the cursor on the list head
          ctx.log(1, () => 'wrr: no destination available: all destinations are overloaded');
          return null;
        }
        restarted = true;
      }
      lastPass = st.cw <= st.di;
      if (lastPass && restarted && last !== -1) stop = last;
      d = -1;
    }
  },
};

registerScheduler(wrr);
