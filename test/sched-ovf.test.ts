// ovf — Weighted Overflow (ip_vs_ovf.c): candidates are not OVERLOAD, weight != 0 and
// activeconns <= weight; the highest weight wins, ties keep the newer.
import {describe, expect, it} from 'vitest';
import {label, withDests} from '../src/engine/sched/harness.js';

describe('ovf (ip_vs_ovf.c)', () => {
  it('sends to the highest weight until its active connections exceed its weight, then overflows', () => {
    const {f, d} = withDests('ovf', [['10.0.0.1', {weight: 1}], ['10.0.0.2', {weight: 3}]]);
    // B(w3) takes connections while active <= 3 (the check happens before the new one counts).
    for (let act = 0; act <= 3; act++) {
      f.setConns(d[1]!, act);
      expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
    }
    f.setConns(d[1]!, 4); // 4 > 3 → overflow to A
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
    f.setConns(d[0]!, 2); // A overflowed too → nothing
    expect(f.pick('192.0.2.1')).toBeNull();
  });

  it('inactive connections never count (UDP never overflows)', () => {
    const {f} = withDests('ovf', [['10.0.0.1', {weight: 1}], ['10.0.0.2', {weight: 2, inactive: 100000}]]);
    expect(label(f.pick('192.0.2.1', 5353, '10.0.0.1', 17))).toBe('10.0.0.2');
  });

  it('ties keep the first (newest) server', () => {
    const {f} = withDests('ovf', [['10.0.0.1', {weight: 4}], ['10.0.0.2', {weight: 4}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });

  it('weight 0 (even with 0 active ≤ 0) and OVERLOAD are skipped', () => {
    const {f, d} = withDests('ovf', [['10.0.0.1', {weight: 1}], ['10.0.0.2', {weight: 0}], ['10.0.0.3', {weight: 9}]]);
    f.overload(d[2]!);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });

  it('a server added mid-run with a higher weight takes the traffic', () => {
    const {f} = withDests('ovf', [['10.0.0.1', {weight: 2}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
    f.add('10.0.0.2', {weight: 5});
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });
});
