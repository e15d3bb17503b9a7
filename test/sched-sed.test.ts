// sed — Shortest Expected Delay (ip_vs_sed.c): the wlc walk with overhead
// activeconns + 1, inactive connections ignored, (__s64) cross-multiplication, ties to the newer.
import {describe, expect, it} from 'vitest';
import {label, withDests} from '../src/engine/sched/harness.js';

describe('sed (ip_vs_sed.c)', () => {
  it('worked example: A(w=1, act 0) vs B(w=3, act 1) → B (1/1 > 2/3), in either list order', () => {
    // Added B then A → list A, B: least=A (loh 1); B: 1×3 > 2×1 → B.
    const one = withDests('sed', [['10.0.0.2', {weight: 3, active: 1}], ['10.0.0.1', {weight: 1}]]);
    expect(label(one.f.pick('192.0.2.1'))).toBe('10.0.0.2');
    // Added A then B → list B, A: least=B (loh 2); A: 2×1 > 1×3 false → B stays.
    const two = withDests('sed', [['10.0.0.1', {weight: 1}], ['10.0.0.2', {weight: 3, active: 1}]]);
    expect(label(two.f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });

  it('ignores inactive connections (unlike wlc)', () => {
    // list B(w1, act 1) , A(w1, act 0, inact 1000): B loh 2; A: 2×1 > 1×1 → A.
    const {f} = withDests('sed', [['10.0.0.1', {active: 0, inactive: 1000}], ['10.0.0.2', {active: 1}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
    f.rebind('wlc'); // wlc: A 1000 vs B 256 → B
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });

  it('ties keep the first (newest) server', () => {
    // list C(w2, act 3) → 4/2; B(w1, act 1) → 2/1; A(w4, act 7) → 8/4: all 2 → C.
    const {f} = withDests('sed', [['10.0.0.1', {weight: 4, active: 7}], ['10.0.0.2', {weight: 1, active: 1}], ['10.0.0.3', {weight: 2, active: 3}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.3');
  });

  it('weight 0 and OVERLOAD are skipped; all excluded → no destination', () => {
    const {f, d} = withDests('sed', [['10.0.0.1', {weight: 1, active: 50}], ['10.0.0.2', {weight: 0}], ['10.0.0.3', {weight: 5}]]);
    f.overload(d[2]!);
    // C overloaded, B weight 0 (cannot start, and loh×0 > … never replaces) → A.
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
    f.overload(d[0]!);
    expect(f.pick('192.0.2.1')).toBeNull();
  });

  it('a server added mid-run takes over when its expected delay is lower', () => {
    const {f, d} = withDests('sed', [['10.0.0.1', {weight: 1}]]);
    f.setConns(d[0]!, 3);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
    f.add('10.0.0.2', {weight: 1}); // list B(act 0 → 1), A(4): B
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
    f.del(d[0]!);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });
});
