// dh: Destination Hashing (ip_vs_dh.c). A 256-bucket table laid out from the dest list (newest
// first) cyclically, one bucket per dest per round, weights ignored: bucket b holds list[b mod n].
// Rebuilt on add and delete only (dh has no upd_dest hook). The key is the packet's destination
// address; the bucket is hash_32(ntohl(fold(daddr)), 8). No fallback: the bucket's dest is used only
// if it is AVAILABLE, has weight > 0 and is not OVERLOAD.
import type {Addr} from '../addr.js';
import type {Dest, SchedulerOps, Service} from '../types.js';
import {DEST_F} from '../constants.js';
import {isOverloaded, registerScheduler} from './registry.js';
import {addrKey, hash32, linkedDests} from './hash.js';

/** IP_VS_DH_TAB_BITS. */
export const DH_TAB_BITS = 8;
export const DH_TAB_SIZE = 1 << DH_TAB_BITS;

interface DhState {
  buckets: (Dest | null)[];
}

const state = (svc: Service) => svc.schedData as DhState;

/** ip_vs_dh_reassign. */
function reassign(st: DhState, dests: readonly Dest[]): void {
  const n = dests.length;
  for (let i = 0; i < DH_TAB_SIZE; i++) st.buckets[i] = n === 0 ? null : dests[i % n]!;
}

/** The bucket a destination address hashes to (ip_vs_dh_hashkey). */
export function dhBucket(addr: Addr): number {
  return hash32(addrKey(addr), DH_TAB_BITS);
}

/** The current table (for tests and listings). */
export function dhTable(svc: Service): readonly (Dest | null)[] {
  return state(svc).buckets;
}

export const dh: SchedulerOps = {
  name: 'dh',
  initService(svc) {
    const st: DhState = {buckets: new Array<Dest | null>(DH_TAB_SIZE).fill(null)};
    reassign(st, svc.dests);
    svc.schedData = st;
  },
  doneService(svc) {
    svc.schedData = null;
  },
  addDest(svc) {
    reassign(state(svc), svc.dests);
  },
  delDest(svc, dest) {
    reassign(state(svc), linkedDests(svc, dest));
  },
  schedule(svc, pkt) {
    const dest: Dest | null = state(svc).buckets[dhBucket(pkt.dst)]!;
    if (dest === null || (dest.flags & DEST_F.AVAILABLE) === 0 || dest.weight <= 0 || isOverloaded(dest)) return null;
    return dest;
  },
};

registerScheduler(dh);
