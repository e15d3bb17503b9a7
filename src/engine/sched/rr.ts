// rr: Round Robin (ip_vs_rr.c). A cursor on the last chosen list node; the scan starts after it,
// runs to the end of the list, then wraps from the head up to and including the cursor node.
import type {Dest, SchedulerOps, Service} from '../types.js';
import {isOverloaded, registerScheduler} from './registry.js';

interface RrState {
  /** Last selected dest, or null for "the list head" (nothing selected yet). */
  cursor: Dest | null;
}

const state = (svc: Service) => svc.schedData as RrState;
const qualifies = (d: Dest) => !isOverloaded(d) && d.weight > 0;

export const rr: SchedulerOps = {
  name: 'rr',
  initService(svc) {
    svc.schedData = {cursor: null} satisfies RrState;
  },
  delDest(svc, dest) {
    // ip_vs_rr_del_dest: a cursor on the removed node moves back to the previous node.
    // The engine calls this before unlinking, so the list still holds the dest.
    const st = state(svc);
    if (st.cursor !== dest) return;
    const i = svc.dests.indexOf(dest);
    st.cursor = i > 0 ? svc.dests[i - 1]! : null;
  },
  schedule(svc) {
    const st = state(svc);
    const list = svc.dests;
    const start = st.cursor === null ? -1 : list.indexOf(st.cursor);
    for (let i = start + 1; i < list.length; i++) {
      if (qualifies(list[i]!)) return (st.cursor = list[i]!);
    }
    if (start >= 0) {
      for (let i = 0; i <= start; i++) {
        if (qualifies(list[i]!)) return (st.cursor = list[i]!);
      }
    }
    return null;
  },
};

registerScheduler(rr);
