// nq — Never Queue (ip_vs_nq.c): the first idle (0 active) eligible server wins at once,
// otherwise the minimum (active + 1) / weight, ties to the newer.
import {describe, expect, it} from 'vitest';
import {label, withDests} from '../src/engine/sched/harness.js';

describe('nq (ip_vs_nq.c)', () => {
  it('an idle server is returned immediately, whatever the weights', () => {
    // list B(w1, idle), A(w10, act 5): B is idle → B.
    const {f} = withDests('nq', [['10.0.0.1', {weight: 10, active: 5}], ['10.0.0.2', {weight: 1}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });

  it('the first idle server in list order wins even against a heavier idle one', () => {
    // list B(w1, idle), A(w100, idle) → B.
    const {f} = withDests('nq', [['10.0.0.1', {weight: 100}], ['10.0.0.2', {weight: 1}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });

  it('an idle server later in the list beats a less loaded busy one met earlier', () => {
    // list C(w5, act 1), B(w1, act 9), A(w1, idle) → A is idle → A.
    const {f} = withDests('nq', [['10.0.0.1'], ['10.0.0.2', {active: 9}], ['10.0.0.3', {weight: 5, active: 1}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });

  it('no idle server: minimum (act+1)/weight, ties keep the newer', () => {
    // list C(w3, act 4) → 5/3; B(w1, act 1) → 2; A(w2, act 3) → 2.
    // C first (loh 5); B: 5×1 > 2×3 false; A: 5×2 > 4×3 false → C.
    const {f, d} = withDests('nq', [['10.0.0.1', {weight: 2, active: 3}], ['10.0.0.2', {weight: 1, active: 1}], ['10.0.0.3', {weight: 3, active: 4}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.3');
    // C → act 5 (6/3 = 2): B: 6×1 > 2×3 false (tie keeps C) ; A: 6×2 > 4×3 false → C.
    f.setConns(d[2]!, 5);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.3');
    // C → act 6 (7/3): B: 7×1 > 2×3 → B (loh 2, w1); A: 2×2 > 4×1 false → B.
    f.setConns(d[2]!, 6);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });

  it('inactive connections do not make a server busy', () => {
    const {f} = withDests('nq', [['10.0.0.1', {weight: 1, inactive: 500}], ['10.0.0.2', {weight: 9, active: 1}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });

  it('idle but weight 0 or OVERLOADed servers are skipped', () => {
    const {f, d} = withDests('nq', [['10.0.0.1', {weight: 1, active: 2}], ['10.0.0.2', {weight: 0}], ['10.0.0.3', {weight: 1}]]);
    f.overload(d[2]!);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
    f.overload(d[0]!);
    expect(f.pick('192.0.2.1')).toBeNull();
  });
});
