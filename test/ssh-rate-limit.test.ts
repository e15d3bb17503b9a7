// The failed-login limiter (token bucket per address, then a cooldown) with a fake clock.
import {describe, expect, test} from 'vitest';
import {AuthLimiter} from '../src/ssh/rate-limit.js';

function limiter(o: Partial<ConstructorParameters<typeof AuthLimiter>[0]> = {}) {
  let t = 1_000_000;
  const l = new AuthLimiter({burst: 3, refillPerSec: 1 / 30, cooldownMs: 60_000, now: () => t, ...o});
  return {l, advance: (ms: number) => { t += ms; }};
}

describe('AuthLimiter', () => {
  test('a burst of failures is allowed, the next one blocks the address for the cooldown', () => {
    const {l, advance} = limiter();
    expect(l.check('10.0.0.1').blocked).toBe(false);
    expect(l.failure('10.0.0.1')).toEqual({blocked: false, tokens: 2});
    expect(l.failure('10.0.0.1')).toEqual({blocked: false, tokens: 1});
    expect(l.failure('10.0.0.1').blocked).toBe(true);
    const c = l.check('10.0.0.1');
    expect(c).toMatchObject({blocked: true, retryMs: 60_000, refused: 1});
    expect(l.check('10.0.0.1').refused).toBe(2);
    expect(l.blocked()).toEqual(['10.0.0.1']);
    // other addresses are not affected
    expect(l.check('10.0.0.2').blocked).toBe(false);
    advance(59_999);
    expect(l.check('10.0.0.1').blocked).toBe(true);
    advance(1);
    expect(l.check('10.0.0.1').blocked).toBe(false);
    expect(l.blocked()).toEqual([]);
    // after the cooldown the bucket is full again: a whole burst before the next block
    expect(l.failure('10.0.0.1').blocked).toBe(false);
    expect(l.failure('10.0.0.1').blocked).toBe(false);
    expect(l.failure('10.0.0.1').blocked).toBe(true);
  });

  test('tokens come back over time: slow failures never block', () => {
    const {l, advance} = limiter();
    for (let i = 0; i < 20; i++) {
      expect(l.failure('192.0.2.7').blocked).toBe(false);
      advance(30_000); // one token per 30 s
    }
    expect(l.check('192.0.2.7').blocked).toBe(false);
  });

  test('tokens never exceed the burst', () => {
    const {l, advance} = limiter();
    l.failure('a');
    advance(3_600_000);
    expect(l.failure('a').tokens).toBe(2);
  });

  test('memory stays bounded: idle addresses are forgotten first, blocked ones last', () => {
    const {l} = limiter({maxTracked: 100, burst: 1});
    l.failure('blocked-one'); // burst 1: blocked at once
    for (let i = 0; i < 1000; i++) l.failure(`10.1.${i >> 8}.${i & 255}`);
    expect(l.tracked).toBeLessThanOrEqual(100);
    // all of them are blocked (burst 1), so even the blocked ones are evicted beyond the bound
    const {l: l2} = limiter({maxTracked: 10, burst: 5});
    l2.failure('x');
    l2.failure('x');
    l2.failure('x');
    l2.failure('x');
    expect(l2.failure('x').blocked).toBe(true);
    for (let i = 0; i < 50; i++) l2.failure(`idle-${i}`);
    expect(l2.tracked).toBeLessThanOrEqual(10);
    expect(l2.check('x').blocked).toBe(true);
  });

  test('a burst below 1 is a configuration error', () => {
    expect(() => new AuthLimiter({burst: 0, refillPerSec: 1, cooldownMs: 1})).toThrow(/burst/);
  });
});
