// Hashing helpers shared by the hash-based schedulers: hash_32 (include/linux/hash.h, used by dh, sh,
// lblc, lblcr), the 64-bit kernel's hsiphash = SipHash-1-3 (lib/siphash.c, used by mh), and the
// packet-key and availability rules that sh and mh have in common.
import {foldAddr, type Addr} from '../addr.js';
import type {Dest, Packet, Service} from '../types.js';
import {IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SVC_F} from '../constants.js';
import {isOverloaded} from './registry.js';

/** GOLDEN_RATIO_32 of include/linux/hash.h. */
export const GOLDEN_RATIO_32 = 0x61c88647;

/**
 * hash_32(val, bits): the top `bits` bits of (val × GOLDEN_RATIO_32) mod 2^32 (the generic
 * __hash_32; architectures with their own version return identical values). 1 ≤ bits ≤ 32.
 */
export function hash32(val: number, bits: number): number {
  return (Math.imul(val, GOLDEN_RATIO_32) >>> 0) >>> (32 - bits);
}

/**
 * The "unavailable" test of sh and mh (is_unavailable): weight ≤ 0 or OVERLOAD. Neither looks at
 * AVAILABLE: their tables are rebuilt whenever a dest is deleted.
 */
export function isUnavailable(d: Dest): boolean {
  return d.weight <= 0 || isOverloaded(d);
}

/**
 * sh-port / mh-port (SCHED2): the key port is the client's port (host order) for TCP, UDP and
 * SCTP, else 0 (ip_vs_sh_get_port / ip_vs_mh_get_port): the source port, or for an inverse
 * (ICMP-embedded) packet its destination port.
 */
export function keyPort(svc: Service, pkt: Packet): number {
  if ((svc.flags & SVC_F.SCHED2) === 0) return 0;
  const p = pkt.proto;
  if (p !== IPPROTO_TCP && p !== IPPROTO_UDP && p !== IPPROTO_SCTP) return 0;
  return (pkt.inverse ? pkt.dport : pkt.sport) & 0xffff;
}

/** The address sh and mh hash: the source, or for an inverse (ICMP-embedded) packet its destination. */
export function keyAddr(pkt: Packet): Addr {
  return pkt.inverse ? pkt.dst : pkt.src;
}

/**
 * The dests a table-building scheduler must lay out. The engine calls delDest while the departing
 * dest is still linked (the kernel unlinks it first), so a rebuild from delDest leaves it out.
 */
export function linkedDests(svc: Service, removing: Dest | null = null): Dest[] {
  return removing === null ? svc.dests : svc.dests.filter((d) => d !== removing);
}

/**
 * ntohl(fold(addr)): an IPv4 address's host-order value, or the XOR of an IPv6 address's four
 * words. IPv6 folds are memoised (foldAddr parses the text on every call).
 */
const v6FoldCache = new Map<string, number>();
export function addrKey(addr: Addr): number {
  if (typeof addr === 'number') return addr >>> 0;
  let v = v6FoldCache.get(addr);
  if (v === undefined) {
    v = foldAddr(addr);
    if (v6FoldCache.size >= 4096) v6FoldCache.clear();
    v6FoldCache.set(addr, v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// SipHash-1-3 on 64-bit words held as (hi, lo) pairs of unsigned 32-bit lanes.

/** A 128-bit SipHash key: two 64-bit words, each as hi/lo 32-bit halves. */
export interface SipKey {
  readonly k0h: number;
  readonly k0l: number;
  readonly k1h: number;
  readonly k1l: number;
}

export function sipKey(k0: bigint, k1: bigint): SipKey {
  const m = 0xffffffffn;
  return {
    k0h: Number((k0 >> 32n) & m), k0l: Number(k0 & m),
    k1h: Number((k1 >> 32n) & m), k1l: Number(k1 & m),
  };
}

/**
 * hsiphash(&v, 4, key) of a 64-bit kernel: SipHash-1-3 of the 4-byte little-endian message `v`
 * (an unsigned 32-bit integer as stored in memory on x86), truncated to its low 32 bits.
 * With no full 8-byte block the whole computation is the preamble, b = (4 << 56) | v, one
 * compression round (SIPROUND), v0 ^= b, v2 ^= 0xff and three finalisation rounds.
 * The state stays in int32 locals (hi/lo lanes; a carry is detected by an unsigned compare).
 */
export function hsiphash32(v: number, key: SipKey): number {
  // PREAMBLE: "somepseudorandomlygeneratedbytes" xor the key words.
  let v0h = 0x736f6d65 ^ key.k0h, v0l = 0x70736575 ^ key.k0l;
  let v1h = 0x646f7261 ^ key.k1h, v1l = 0x6e646f6d ^ key.k1l;
  let v2h = 0x6c796765 ^ key.k0h, v2l = 0x6e657261 ^ key.k0l;
  let v3h = 0x74656462 ^ key.k1h, v3l = 0x79746573 ^ key.k1l;
  const bh = 0x04000000, bl = v | 0;
  v3h ^= bh;
  v3l ^= bl;
  for (let r = 0; r < 4; r++) {
    if (r === 1) {
      v0h ^= bh;
      v0l ^= bl;
      v2l ^= 0xff;
    }
    // SIPROUND (SIPHASH_PERMUTATION of include/linux/siphash.h), mod 2^64.
    let lo: number, th: number, tl: number;
    // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    lo = (v0l + v1l) | 0; v0h = (v0h + v1h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = lo;
    th = (v1h << 13) | (v1l >>> 19); tl = (v1l << 13) | (v1h >>> 19);
    v1h = th ^ v0h; v1l = tl ^ v0l;
    th = v0h; v0h = v0l; v0l = th;
    // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
    lo = (v2l + v3l) | 0; v2h = (v2h + v3h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = lo;
    th = (v3h << 16) | (v3l >>> 16); tl = (v3l << 16) | (v3h >>> 16);
    v3h = th ^ v2h; v3l = tl ^ v2l;
    // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
    lo = (v0l + v3l) | 0; v0h = (v0h + v3h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = lo;
    th = (v3h << 21) | (v3l >>> 11); tl = (v3l << 21) | (v3h >>> 11);
    v3h = th ^ v0h; v3l = tl ^ v0l;
    // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    lo = (v2l + v1l) | 0; v2h = (v2h + v1h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = lo;
    th = (v1h << 17) | (v1l >>> 15); tl = (v1l << 17) | (v1h >>> 15);
    v1h = th ^ v2h; v1l = tl ^ v2l;
    th = v2h; v2h = v2l; v2l = th;
  }
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}
