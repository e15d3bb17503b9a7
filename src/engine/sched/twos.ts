// twos: Power of Two Choices (ip_vs_twos.c). Two weighted random picks among the dests that are not
// OVERLOAD and have weight > 0; the less loaded of the two (overhead / weight) wins.
import type {Dest, SchedContext, SchedulerOps} from '../types.js';
import {connOverhead, isOverloaded, registerScheduler} from './registry.js';

/**
 * get_random_u32_below(ceil) (drivers/char/random.c, used by twos since it was merged): Lemire's
 * multiply-shift — the high 32 bits of random32() × ceil — rejecting draws whose low 32 bits fall
 * below 2^32 mod ceil, so every value in [0, ceil) is equally likely; ceil 0 returns a raw draw.
 * Consumes exactly the draws the kernel would from its random source.
 */
export function randomBelow(ctx: SchedContext, ceil: number): number {
  ceil >>>= 0;
  if (ceil === 0) return ctx.random32() >>> 0;
  let r = ctx.random32() >>> 0;
  let low = Math.imul(r, ceil) >>> 0;
  if (low < ceil) {
    const bound = (4294967296 - ceil) % ceil; // -ceil % ceil in u32
    while (low < bound) {
      r = ctx.random32() >>> 0;
      low = Math.imul(r, ceil) >>> 0;
    }
  }
  const prod = r * ceil;
  if (prod <= Number.MAX_SAFE_INTEGER) return Math.floor(prod / 4294967296);
  return Number((BigInt(r) * BigInt(ceil)) >> 32n);
}

export const twos: SchedulerOps = {
  name: 'twos',
  schedule(svc, _pkt, ctx) {
    const list = svc.dests;
    // Sum the eligible weights (C int arithmetic); choice1 ends as the last eligible dest.
    let total = 0;
    let choice1: Dest | null = null;
    for (const d of list) {
      if (!isOverloaded(d) && d.weight > 0) {
        total = (total + d.weight) | 0;
        choice1 = d;
      }
    }
    if (choice1 === null) return null;
    // total + 1 so that the random weights are inclusive from 0 to total.
    const ceil = (total + 1) >>> 0;
    let r1 = randomBelow(ctx, ceil) | 0;
    let r2 = randomBelow(ctx, ceil) | 0;
    let choice2: Dest | null = null;
    let w1 = -1, w2 = -1, o1 = 0, o2 = 0;
    for (const d of list) {
      if (isOverloaded(d)) continue;
      const w = d.weight;
      if (w <= 0) continue;
      r1 = (r1 - w) | 0;
      r2 = (r2 - w) | 0;
      if (r1 <= 0 && w1 === -1) { choice1 = d; w1 = w; o1 = connOverhead(d) | 0; }
      if (r2 <= 0 && w2 === -1) { choice2 = d; w2 = w; o2 = connOverhead(d) | 0; }
      if (w1 !== -1 && w2 !== -1) break;
    }
    // int × int in the kernel (wraps at 32 bits, the kernel builds with -fno-strict-overflow).
    if (choice2 !== null && Math.imul(w2, o1) > Math.imul(w1, o2)) choice1 = choice2;
    return choice1;
  },
};

registerScheduler(twos);
