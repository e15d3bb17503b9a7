// lblcr — LBLC with Replication (ip_vs_lblcr.c): each cache entry holds a set of dests;
// the least loaded usable member serves, a wlc choice joins when the member is unusable or
// lblc-overloaded, and a set unmodified for longer than lblcr_expiration sheds its most loaded member.
import {describe, expect, it} from 'vitest';
import {SchedFixture, packet, withDests} from '../src/engine/sched/harness.js';
import {lblcrCache, setMax, setMin} from '../src/engine/sched/lblcr.js';

const VIP = '10.0.0.80';
const VIPN = 0x0a000050;
// Added A, B, C (w1) → list C, B, A; wlc with no connections → C.
const three = () => withDests('lblcr', [['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']]);

describe('lblcr (ip_vs_lblcr.c)', () => {
  it('a miss creates an entry whose set is the wlc choice; hits reuse it', () => {
    const {f, d} = three();
    const c = d[2]!;
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(c);
    f.setConns(c, 1); // wlc would prefer A or B now; C: 1 > 1 false → not lblc-overloaded
    expect(f.pick('192.0.2.2', 2, VIP)).toBe(c);
    expect(lblcrCache(f.svc).get(VIPN)!.set).toEqual([c]);
  });

  it('set growth: an lblc-overloaded member makes wlc add a dest to the set (newest member first)', () => {
    const {f, d} = three();
    const [, b, c] = d;
    f.pick('192.0.2.1', 1, VIP); // set {C}
    f.ctx.now = 5000;
    f.setConns(c!, 2); // 2 > 1 and A: 0×2 < 1 → overloaded; wlc: C 512, B 0 → B (A ties B, B first)
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b);
    const en = lblcrCache(f.svc).get(VIPN)!;
    expect(en.set).toEqual([b, c]);
    expect(en.lastmod).toBe(5000);
    // Next hit: set_min over [B, C]: B (loh 0) stays against C (0×1 > 512×1 false) → B.
    expect(f.pick('192.0.2.3', 3, VIP)).toBe(b);
    // A wlc choice already in the set is not inserted twice and does not touch lastmod.
    f.setConns(b!, 2);
    f.setConns(c!, 0);
    f.ctx.now = 6000;
    // set_min: B (loh 512) vs C (0): 512 > 0 → C; C not overloaded → C, no insertion.
    expect(f.pick('192.0.2.3', 3, VIP)).toBe(c);
    expect(en.set).toEqual([b, c]);
    expect(en.lastmod).toBe(5000);
  });

  it('set_min skips OVERLOADed members and members that are not AVAILABLE or have weight 0', () => {
    const {f, d} = three();
    const [a, b, c] = d;
    f.pick('192.0.2.1', 1, VIP); // {C}
    f.setConns(c!, 2);
    f.pick('192.0.2.1', 1, VIP); // + B → [B, C]
    f.setConns(c!, 0);
    f.overload(b!);
    expect(setMin([b!, c!])).toBe(c);
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(c);
    f.overload(b!, false);
    f.del(c!); // AVAILABLE cleared: B is the only usable member
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b);
    f.edit(b!, 0); // nothing usable in the set → wlc → A joins
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(a);
    expect(lblcrCache(f.svc).get(VIPN)!.set).toEqual([a, b, c]);
  });

  it('a set idle beyond lblcr_expiration sheds its most loaded member (strictly after lastmod + expiration)', () => {
    const {f, d} = three();
    const [, b, c] = d;
    f.ctx.tunables.set('lblcr_expiration', 600_000);
    f.pick('192.0.2.1', 1, VIP); // {C} at t=0
    f.setConns(c!, 2);
    f.pick('192.0.2.1', 1, VIP); // [B, C], lastmod 0
    const en = lblcrCache(f.svc).get(VIPN)!;
    f.ctx.now = 600_000; // now > lastmod + 600 s is false → nothing removed
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b);
    expect(en.set).toEqual([b, c]);
    f.ctx.now = 600_001; // set_max: B (moh 0) vs C: 0×1 < 512×1 → C → erased
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b);
    expect(en.set).toEqual([b]);
    expect(en.lastmod).toBe(600_001);
    expect(c!.refs).toBe(0);
  });

  it('set_max can remove the very dest being returned (equal loads: both pick the first member)', () => {
    const {f, d} = three();
    const [, b, c] = d;
    f.ctx.tunables.set('lblcr_expiration', 1000);
    f.pick('192.0.2.1', 1, VIP);
    f.setConns(c!, 2);
    f.pick('192.0.2.1', 1, VIP); // [B, C]
    f.setConns(c!, 0); // B and C both idle: set_min → B (ties keep first), set_max → B
    expect(setMax([b!, c!])).toBe(b);
    f.ctx.now = 2000;
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b);
    expect(lblcrCache(f.svc).get(VIPN)!.set).toEqual([c]);
  });

  it('set_max ignores OVERLOAD and availability but needs weight > 0', () => {
    const {d} = three();
    const [a, b, c] = d;
    a!.activeConns = 9;
    b!.activeConns = 5;
    c!.activeConns = 1;
    b!.flags |= 0x2;
    expect(setMax([c!, b!, a!])).toBe(a);
    a!.weight = 0;
    expect(setMax([c!, b!, a!])).toBe(b);
    expect(setMax([a!])).toBeNull();
  });

  it('every set member holds a reference; GC with lblcr_expiration drops whole entries', () => {
    const f = new SchedFixture('lblcr');
    f.ctx.tunables.set('lblcr_expiration', 60_000);
    const a = f.add('10.0.0.1');
    const b = f.add('10.0.0.2');
    f.pick('192.0.2.1', 1, VIP); // {B}
    f.setConns(b, 2);
    f.pick('192.0.2.1', 1, VIP); // [A, B]
    expect([a.refs, b.refs]).toEqual([1, 1]);
    f.advance(1_799_000);
    expect(lblcrCache(f.svc).linked()).toBe(1);
    f.advance(1_000); // 30th run at 1800 s: idle 1800 s ≥ 60 s → freed
    expect(lblcrCache(f.svc).linked()).toBe(0);
    expect([a.refs, b.refs]).toEqual([0, 0]);
  });

  it('IPv6 destinations and a dest added mid-run', () => {
    const f = new SchedFixture('lblcr', {af: 6});
    const a = f.add('2001:db8:1::1');
    expect(f.schedule(packet('2001:db8:9::1', 1, '2001:db8::80'))).toBe(a);
    const b = f.add('2001:db8:1::2');
    expect(f.schedule(packet('2001:db8:9::1', 1, '2001:db8::80'))).toBe(a); // cached
    f.setConns(a, 2); // 2 > 1 and B idle → wlc → B joins
    expect(f.schedule(packet('2001:db8:9::1', 1, '2001:db8::80'))).toBe(b);
    expect(lblcrCache(f.svc).get('2001:db8::80')!.set).toEqual([b, a]);
  });

  it('no usable dest → no destination and no entry', () => {
    const f = new SchedFixture('lblcr');
    const a = f.add('10.0.0.1');
    f.overload(a);
    expect(f.pick('192.0.2.1', 1, VIP)).toBeNull();
    expect(lblcrCache(f.svc).linked()).toBe(0);
  });
});
