// twos — Power of Two Choices (ip_vs_twos.c) with the injected random source.
// The kernel draws with get_random_u32_below(total + 1): the high half of random32() × ceil,
// rejecting draws whose low half is below 2^32 mod ceil. drawFor(k, ceil) is a random32() value
// that maps to k without rejection: floor((k + ½)·2^32 / ceil) → high half k, low half ≈ 2^31.
import {describe, expect, it} from 'vitest';
import fc from 'fast-check';
import {label, makeCtx, withDests} from '../src/engine/sched/harness.js';
import {randomBelow} from '../src/engine/sched/twos.js';

const drawFor = (k: number, ceil: number) => Math.floor(((k + 0.5) * 2 ** 32) / ceil);

describe('twos (ip_vs_twos.c)', () => {
  // Added C(3), B(2), A(1) → list A(1), B(2), C(3); total 6, ceil 7.
  // r = 0 or 1 → A (r − 1 ≤ 0); r = 2, 3 → B (r − 1 − 2 ≤ 0); r = 4..6 → C.
  const build = () => withDests('twos', [['10.0.0.3', {weight: 3}], ['10.0.0.2', {weight: 2}], ['10.0.0.1', {weight: 1}]]);

  it('walks the list subtracting weights; the inclusive range gives the first server r = 0 and r = 1', () => {
    const expected = ['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.2', '10.0.0.3', '10.0.0.3', '10.0.0.3'];
    for (let r = 0; r <= 6; r++) {
      const {f} = build();
      f.ctx.scripted.push(drawFor(r, 7), drawFor(r, 7)); // both choices the same server
      expect(label(f.pick('192.0.2.1'))).toBe(expected[r]);
      expect(f.ctx.draws).toBe(2);
    }
  });

  it('returns choice2 only when strictly less loaded per weight (w2×o1 > w1×o2)', () => {
    const {f, d} = build();
    const [C, , A] = d; // d in add order: C, B, A
    // choice1 = A (r1 = 0, w1 = 1), choice2 = C (r2 = 6, w2 = 3).
    f.setConns(A!, 1); // o1 = 256
    f.setConns(C!, 2); // o2 = 512: 3×256 = 768 > 1×512 → C
    f.ctx.scripted.push(drawFor(0, 7), drawFor(6, 7));
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.3');
    f.setConns(C!, 3); // o2 = 768: 768 > 768 false → A
    f.ctx.scripted.push(drawFor(0, 7), drawFor(6, 7));
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });

  it('with equal loads the first draw wins (no strict improvement)', () => {
    const {f} = build();
    f.ctx.scripted.push(drawFor(5, 7), drawFor(0, 7));
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.3');
  });

  it('OVERLOADed and weight-0 servers are left out of the total and of the walk', () => {
    const {f, d} = withDests('twos', [['10.0.0.3', {weight: 3}], ['10.0.0.2', {weight: 0}], ['10.0.0.1', {weight: 1}], ['10.0.0.4', {weight: 5}]]);
    f.overload(d[3]!);
    // Eligible in list order: A(1), C(3): total 4, ceil 5. r = 2 → A: 1, C: −2 → C.
    f.ctx.scripted.push(drawFor(2, 5), drawFor(2, 5));
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.3');
    f.overload(d[0]!);
    f.overload(d[2]!);
    const before = f.ctx.draws;
    expect(f.pick('192.0.2.1')).toBeNull();
    expect(f.ctx.draws).toBe(before); // no eligible server: no random draw
  });

  it('get_random_u32_below rejects a draw whose low half is below 2^32 mod ceil', () => {
    const ctx = makeCtx();
    // ceil 7: 2^32 mod 7 = 4. Draw 0 → product 0, low 0 < 4 → rejected; next draw maps to 3.
    ctx.scripted.push(0, drawFor(3, 7));
    expect(randomBelow(ctx, 7)).toBe(3);
    expect(ctx.draws).toBe(2);
    // 0xFFFFFFFF × 7 = 6·2^32 + (2^32 − 7): low half 2^32 − 7 ≥ 7 → accepted, value 6.
    ctx.scripted.push(0xffffffff);
    expect(randomBelow(ctx, 7)).toBe(6);
    // ceil 0 (total + 1 wrapped) → a raw draw.
    ctx.scripted.push(123456789);
    expect(randomBelow(ctx, 0)).toBe(123456789);
  });

  it('randomBelow is always in [0, ceil)', () => {
    fc.assert(fc.property(fc.integer({min: 1, max: 0xffffffff}), fc.array(fc.integer({min: 0, max: 0xffffffff}), {minLength: 4, maxLength: 4}), (ceil, draws) => {
      const ctx = makeCtx();
      ctx.scripted.push(...draws);
      const v = randomBelow(ctx, ceil);
      return Number.isInteger(v) && v >= 0 && v < ceil;
    }));
  });

  it('with idle servers the pick follows choice1: shares (w+1)/(total+1) for the first, w/(total+1) after', () => {
    const {f} = build();
    const counts = new Map<string, number>();
    const n = 70000;
    for (let i = 0; i < n; i++) {
      const l = label(f.pick('192.0.2.1'));
      counts.set(l, (counts.get(l) ?? 0) + 1);
    }
    expect(counts.get('10.0.0.1')! / n).toBeCloseTo(2 / 7, 2);
    expect(counts.get('10.0.0.2')! / n).toBeCloseTo(2 / 7, 2);
    expect(counts.get('10.0.0.3')! / n).toBeCloseTo(3 / 7, 2);
  });

  it('a server added mid-run joins the total at once', () => {
    const {f} = build();
    f.add('10.0.0.9', {weight: 4}); // list D(4), A, B, C: total 10, ceil 11; r = 4 → D
    f.ctx.scripted.push(drawFor(4, 11), drawFor(4, 11));
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.9');
  });
});
