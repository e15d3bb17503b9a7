// rr, wrr, lc, wlc (ip_vs_rr.c, ip_vs_wrr.c, ip_vs_lc.c, ip_vs_wlc.c).
// Dests are added in the order written; the kernel list (and every "first wins" tie) is newest first.
import {describe, expect, it} from 'vitest';
import {SchedFixture, label, withDests} from '../src/engine/sched/harness.js';

const seq = (f: SchedFixture, n: number) => Array.from({length: n}, () => label(f.pick('192.0.2.1')));

describe('rr (ip_vs_rr.c)', () => {
  it('starts at the newest real server and walks the list newest first', () => {
    // Added A, B, C → list C, B, A; the cursor starts on the list head, so C comes first.
    const {f} = withDests('rr', [['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']]);
    expect(seq(f, 7)).toEqual(['10.0.0.3', '10.0.0.2', '10.0.0.1', '10.0.0.3', '10.0.0.2', '10.0.0.1', '10.0.0.3']);
  });

  it('skips weight-0 and OVERLOADed servers', () => {
    const {f, d} = withDests('rr', [['10.0.0.1'], ['10.0.0.2', {weight: 0}], ['10.0.0.3']]);
    f.overload(d[2]!);
    expect(seq(f, 3)).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.1']);
    f.overload(d[0]!);
    expect(f.pick('192.0.2.1')).toBeNull();
  });

  it('a server added mid-run is visited after the wrap (new dests go to the head)', () => {
    const {f} = withDests('rr', [['10.0.0.1'], ['10.0.0.2']]);
    expect(seq(f, 1)).toEqual(['10.0.0.2']); // list B, A
    f.add('10.0.0.3'); // list C, B, A; cursor still on B
    expect(seq(f, 4)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.2', '10.0.0.1']);
  });

  it('deleting the cursor server moves the cursor to the node before it', () => {
    const {f, d} = withDests('rr', [['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']]);
    expect(seq(f, 2)).toEqual(['10.0.0.3', '10.0.0.2']); // cursor on B
    f.del(d[1]!); // cursor → C; list C, A
    expect(seq(f, 3)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.1']);
  });
});

describe('wrr (ip_vs_wrr.c)', () => {
  it('service built dest by dest starts with a cw=1 pass (ip_vs_wrr_dest_changed keeps cw)', () => {
    // Added C(2), B(3), A(4): cw stays 1 through the adds, so one pick per dest first, then mw=4 …
    const {f} = withDests('wrr', [['10.0.0.3', {weight: 2}], ['10.0.0.2', {weight: 3}], ['10.0.0.1', {weight: 4}]]);
    const A = '10.0.0.1', B = '10.0.0.2', C = '10.0.0.3';
    expect(seq(f, 15)).toEqual([A, B, C, A, A, B, A, B, C, A, B, C, A, A, B]);
  });

  it('scheduler bound while the dests exist starts at cw = mw (ip_vs_wrr_init_svc)', () => {
    const {f} = withDests('rr', [['10.0.0.3', {weight: 2}], ['10.0.0.2', {weight: 3}], ['10.0.0.1', {weight: 4}]]);
    f.rebind('wrr');
    const A = '10.0.0.1', B = '10.0.0.2', C = '10.0.0.3';
    const period = [A, A, B, A, B, C, A, B, C];
    expect(seq(f, 18)).toEqual([...period, ...period]);
  });

  it('weights with a common divisor: added B(2) then A(4) → A, B, A, A, B, A, A, B (gcd example)', () => {
    // After B: di=2, mw=1, cw=1. After A: di=2, mw=3, cw=floor(1/2)·2+1 = 1.
    const {f} = withDests('wrr', [['10.0.0.2', {weight: 2}], ['10.0.0.1', {weight: 4}]]);
    const A = '10.0.0.1', B = '10.0.0.2';
    expect(seq(f, 8)).toEqual([A, B, A, A, B, A, A, B]);
  });

  it('no positive weight → no destination', () => {
    const {f} = withDests('wrr', [['10.0.0.1', {weight: 0}]]);
    expect(f.pick('192.0.2.1')).toBeNull();
  });

  // ip_vs_wrr_dest_changed runs after the kernel unlinked the dest; the engine calls delDest while
  // the dest is still linked, and wrr.ts recomputes di/mw over the list as it is. Added B(2), A(4),
  // C(1) → list C, A, B; deleting C: kernel di=gcd(4,2)=2, mw=3, cw=floor(1/2)·2+1=1 → A, B (cw=1),
  // cw=3: A, cw=1: A, B, cw=3: A, … With C still counted: di=1, mw=4 → A, B, A (cw=4), A (cw=3), A, B.
  it('deleting a dest recomputes gcd/max without it (the kernel unlinks before del_dest)', () => {
    const {f, d} = withDests('wrr', [['10.0.0.2', {weight: 2}], ['10.0.0.1', {weight: 4}], ['10.0.0.3', {weight: 1}]]);
    f.del(d[2]!);
    const A = '10.0.0.1', B = '10.0.0.2';
    expect(seq(f, 8)).toEqual([A, B, A, A, B, A, A, B]);
  });
});

describe('lc (ip_vs_lc.c)', () => {
  it('least active×256+inactive wins; ties go to the first (newest) server', () => {
    const {f, d} = withDests('lc', [['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']]);
    // All zero: tie → newest (C).
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.3');
    // A: 1 active = 256; B: 255 inactive = 255; C: 1 active + 0 = 256 → B.
    f.setConns(d[0]!, 1, 0);
    f.setConns(d[1]!, 0, 255);
    f.setConns(d[2]!, 1, 0);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
    // B: 256 inactive → ties with C (256) and A (256) → C, the newest.
    f.setConns(d[1]!, 0, 256);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.3');
  });

  it('weight is ignored except that weight 0 and OVERLOAD exclude a server', () => {
    const {f, d} = withDests('lc', [['10.0.0.1', {weight: 100, active: 1}], ['10.0.0.2', {weight: 1, active: 0}], ['10.0.0.3', {weight: 0}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.2');
    f.overload(d[1]!);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });
});

describe('wlc (ip_vs_wlc.c)', () => {
  it('worked example: A(w=1, 0 conns) vs B(w=2, 1 active) → A (0×2 > 256×1 is false)', () => {
    const {f} = withDests('wlc', [['10.0.0.2', {weight: 2, active: 1}], ['10.0.0.1', {weight: 1}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });

  it('strictly less loaded per weight replaces; ties keep the newer server', () => {
    // list C(w1, 256), B(w2, 512), A(w4, 768): C vs B: 256×2 > 512×1 false (tie) → C;
    // C vs A: 256×4 > 768×1 → A.
    const {f} = withDests('wlc', [['10.0.0.1', {weight: 4, active: 3}], ['10.0.0.2', {weight: 2, active: 2}], ['10.0.0.3', {weight: 1, active: 1}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });

  it('a weight-0 server never wins, even idle', () => {
    const {f} = withDests('wlc', [['10.0.0.1', {weight: 1, active: 5}], ['10.0.0.2', {weight: 0}]]);
    expect(label(f.pick('192.0.2.1'))).toBe('10.0.0.1');
  });
});
