// mh: Maglev Hashing (ip_vs_mh.c). A lookup table of M = 4093 slots (CONFIG_IP_VS_MH_TAB_INDEX 12)
// populated Maglev-style: each dest walks its own permutation (offset and skip from hsiphash =
// SipHash-1-3 with the kernel's fixed keys) and takes `turns` slots per round, turns derived from
// last_weight / gcd >> rshift, so a quiesced (weight 0) dest keeps its slots. Rebuilt from scratch
// on every add, delete and edit. Lookup: hsiphash(key1, port + ntohl(fold(saddr))) mod M;
// mh-fallback (SCHED1) probes further slots, mh-port (SCHED2) mixes in the source port.
import {formatAddrPort, type Addr} from '../addr.js';
import type {Dest, SchedulerOps, Service} from '../types.js';
import {SVC_F} from '../constants.js';
import {registerScheduler} from './registry.js';
import {addrKey, hsiphash32, isUnavailable, keyAddr, keyPort, linkedDests, sipKey, type SipKey} from './hash.js';

/** Available prime table sizes, indexed by CONFIG_IP_VS_MH_TAB_INDEX − 8. */
const PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
const MH_TAB_INDEX_CONFIG = 12;
/** IP_VS_MH_TAB_BITS: the weight-scaling bit budget. */
export const MH_TAB_BITS = MH_TAB_INDEX_CONFIG >> 1;
/** IP_VS_MH_TAB_SIZE. */
export const MH_TAB_SIZE: number = PRIMES[MH_TAB_INDEX_CONFIG - 8]!;

/** generate_hash_secret: fixed keys, each 64-bit word = the 32-bit constant zero-extended. */
export const MH_KEY1 = sipKey(2654435761n, 2654435761n);
export const MH_KEY2 = sipKey(2654446892n, 2654446892n);

interface MhState {
  lookup: (Dest | null)[];
  gcd: number;
  rshift: number;
}

const state = (svc: Service) => svc.schedData as MhState;

/** ip_vs_mh_hashkey: hsiphash of v = offset + ntohs(port) + ntohl(fold(addr)) (u32). */
export function mhHash(addr: Addr, port: number, key: SipKey, offset = 0): number {
  return hsiphash32((offset + port + addrKey(addr)) >>> 0, key);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** ip_vs_mh_gcd_weight: gcd of the positive last_weights, 0 if none. */
function gcdWeight(dests: readonly Dest[]): number {
  let g = 0;
  for (const d of dests) {
    const w = d.lastWeight;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g;
}

/** fls(): 1-based index of the highest set bit, 0 for 0. */
const fls = (x: number) => 32 - Math.clz32(x);

/** ip_vs_mh_shift_weight: bits of max(last_weight)/gcd beyond IP_VS_MH_TAB_BITS. */
function shiftWeight(dests: readonly Dest[], g: number): number {
  if (g < 1) return 0;
  let weight = 0;
  for (const d of dests) if (d.lastWeight > weight) weight = d.lastWeight;
  const shift = fls(Math.trunc(weight / g)) - MH_TAB_BITS;
  return shift >= 0 ? shift : 0;
}

/** Per-dest turns: ((last_weight / gcd) >> rshift), or 1 if that is 0 but last_weight != 0. */
function turnsOf(d: Dest, g: number, rshift: number): number {
  const lw = d.lastWeight;
  return (Math.trunc(lw / g) >> rshift) || (lw !== 0 ? 1 : 0);
}

/** ip_vs_mh_dest_changed → ip_vs_mh_reassign (permutate + populate). */
function reassign(st: MhState, dests: readonly Dest[]): void {
  st.gcd = gcdWeight(dests);
  st.rshift = shiftWeight(dests, st.gcd);
  const M = MH_TAB_SIZE;
  // More dests than slots: the kernel refuses (EINVAL) and leaves the old table in place.
  if (dests.length > M) return;
  if (st.gcd < 1) {
    st.lookup.fill(null); // ip_vs_mh_reset
    return;
  }
  const n = dests.length;
  const skip = new Int32Array(n);
  const perm = new Int32Array(n);
  const turns = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    perm[i] = mhHash(d.addr, d.port, MH_KEY1) % M;
    skip[i] = (mhHash(d.addr, d.port, MH_KEY2) % (M - 1)) + 1;
    turns[i] = turnsOf(d, st.gcd, st.rshift);
  }
  // ip_vs_mh_populate: every dest with turns >= 1 places `turns` slots in a row per round, its
  // cursor advancing by `skip` only past slots already taken.
  const taken = new Uint8Array(M);
  let filled = 0;
  let dtCount = 0;
  for (;;) {
    for (let i = 0; i < n;) {
      if (turns[i]! < 1) { i++; continue; }
      let c = perm[i]!;
      while (taken[c]) {
        c += skip[i]!;
        if (c >= M) c -= M;
      }
      perm[i] = c;
      taken[c] = 1;
      st.lookup[c] = dests[i]!;
      if (++filled === M) return;
      if (++dtCount >= turns[i]!) { dtCount = 0; i++; }
    }
  }
}

/** The current lookup table (for tests and listings). */
export function mhTable(svc: Service): readonly (Dest | null)[] {
  return state(svc).lookup;
}

export const mh: SchedulerOps = {
  name: 'mh',
  initService(svc) {
    const st: MhState = {lookup: new Array<Dest | null>(MH_TAB_SIZE).fill(null), gcd: 0, rshift: 0};
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
    const lookup = state(svc).lookup;
    const M = MH_TAB_SIZE;
    const port = keyPort(svc, pkt);
    const ihash = mhHash(keyAddr(pkt), port, MH_KEY1) % M;
    let dest: Dest | null = lookup[ihash]!;
    if ((svc.flags & SVC_F.SCHED1) === 0) {
      // ip_vs_mh_get
      if (dest !== null && isUnavailable(dest)) dest = null;
    } else if (dest !== null && isUnavailable(dest)) {
      // ip_vs_mh_get_fallback: rehash with offsets ihash, ihash + 1, … (mod M).
      const first = dest;
      ctx.log(6, () => `MH: selected unavailable server ${formatAddrPort(first.addr, first.port)}, reselecting`);
      dest = null;
      for (let offset = 0; offset < M; offset++) {
        const roffset = (offset + ihash) % M;
        const d: Dest | null = lookup[mhHash(keyAddr(pkt), port, MH_KEY1, roffset) % M]!;
        if (d === null) break;
        if (!isUnavailable(d)) { dest = d; break; }
        // (The kernel also logs each unavailable probe at level 6; omitted: one closure per probe.)
      }
    }
    return dest;
  },
};

registerScheduler(mh);
