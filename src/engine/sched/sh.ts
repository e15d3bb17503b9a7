// sh: Source Hashing (ip_vs_sh.c). A 256-bucket table laid out from the dest list (newest first)
// cyclically, each dest taking max(weight, 1) consecutive buckets per round (current weight, not
// last_weight), rebuilt on every add, delete and edit. Key = (sport if sh-port else 0) +
// ntohl(fold(saddr)) mod 2^32; bucket with probe offset o = (o + hash_32(key, 8)) & 255.
// Unavailable = weight <= 0 or OVERLOAD. sh-fallback (SCHED1) probes the whole table.
import {formatAddrPort, type Addr} from '../addr.js';
import type {Dest, SchedulerOps, Service} from '../types.js';
import {SVC_F} from '../constants.js';
import {registerScheduler} from './registry.js';
import {addrKey, hash32, isUnavailable, keyAddr, keyPort, linkedDests} from './hash.js';

/** IP_VS_SH_TAB_BITS. */
export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

interface ShState {
  buckets: (Dest | null)[];
}

const state = (svc: Service) => svc.schedData as ShState;

/** ip_vs_sh_reassign: "don't move to the next dest until filling its weight". */
function reassign(st: ShState, dests: readonly Dest[]): void {
  if (dests.length === 0) {
    st.buckets.fill(null);
    return;
  }
  let p = 0;
  let count = 0;
  for (let i = 0; i < SH_TAB_SIZE; i++) {
    const d = dests[p]!;
    st.buckets[i] = d;
    if (++count >= d.weight) {
      p = p + 1 === dests.length ? 0 : p + 1;
      count = 0;
    }
  }
}

/** ip_vs_sh_hashkey: bucket for an address and port with probe offset `offset`. */
export function shBucket(addr: Addr, port: number, offset = 0): number {
  return (offset + hash32((port + addrKey(addr)) >>> 0, SH_TAB_BITS)) & SH_TAB_MASK;
}

/** The current table (for tests and listings). */
export function shTable(svc: Service): readonly (Dest | null)[] {
  return state(svc).buckets;
}

export const sh: SchedulerOps = {
  name: 'sh',
  initService(svc) {
    const st: ShState = {buckets: new Array<Dest | null>(SH_TAB_SIZE).fill(null)};
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
  updDest(svc) {
    reassign(state(svc), svc.dests);
  },
  schedule(svc, pkt, ctx) {
    const buckets = state(svc).buckets;
    const port = keyPort(svc, pkt);
    const ihash = shBucket(keyAddr(pkt), port, 0);
    let dest: Dest | null = buckets[ihash]!;
    if ((svc.flags & SVC_F.SCHED1) === 0) {
      // ip_vs_sh_get
      if (dest === null || isUnavailable(dest)) dest = null;
    } else if (dest !== null && isUnavailable(dest)) {
      // ip_vs_sh_get_fallback: loop around the table starting from the original hash value.
      const first = dest;
      ctx.log(6, () => `SH: selected unavailable server ${formatAddrPort(first.addr, first.port)}, reselecting`);
      dest = null;
      for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
        const roffset = (offset + ihash) % SH_TAB_SIZE;
        const d: Dest | null = buckets[shBucket(keyAddr(pkt), port, roffset)]!;
        if (d === null) break;
        if (!isUnavailable(d)) { dest = d; break; }
        // (The kernel also logs each unavailable probe at level 6; omitted: one closure per probe.)
      }
    }
    return dest;
  },
};

registerScheduler(sh);
