// fo — Weighted Fail Over (ip_vs_fo.c): the non-overloaded server with the highest
// weight; strictly greater replaces (starting from 0), so ties keep the newer and weight 0 never wins.
import {describe, expect, it} from 'vitest';
import {label, withDests} from '../src/engine/sched/harness.js';

describe('fo (ip_vs_fo.c)', () => {
  it('always the highest weight, regardless of load', () => {
    const {f} = withDests('fo', [['10.0.0.1', {weight: 5, active: 1000}], ['10.0.0.2', {weight: 3}], ['10.0.0.3', {weight: 4}]]);
    for (let i = 0; i < 3; i++) expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });

  it('ties go to the first (newest) server', () => {
    // list C(3), B(5), A(5): C (hw 3) → B (5 > 3) → A (5 > 5 false) → B.
    const {f} = withDests('fo', [['10.0.0.1', {weight: 5}], ['10.0.0.2', {weight: 5}], ['10.0.0.3', {weight: 3}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });

  it('fails over to the next highest when the primary is OVERLOADed or quiesced, and back', () => {
    const {f, d} = withDests('fo', [['10.0.0.1', {weight: 10}], ['10.0.0.2', {weight: 5}]]);
    f.overload(d[0]!);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
    f.overload(d[0]!, false);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
    f.edit(d[0]!, 0);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
  });

  it('a heavier server added mid-run takes over; deleting it fails back', () => {
    const {f} = withDests('fo', [['10.0.0.1', {weight: 2}]]);
    const b = f.add('10.0.0.2', {weight: 7});
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
    f.del(b);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });

  it('only weight-0 servers → no destination', () => {
    const {f} = withDests('fo', [['10.0.0.1', {weight: 0}], ['10.0.0.2', {weight: 0}]]);
    expect(f.pick('192.0.2.1')).toBeNull();
  });
});
