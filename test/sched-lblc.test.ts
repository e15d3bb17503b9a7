// lblc — Locality-Based Least-Connection (ip_vs_lblc.c): a cache from the packet's
// destination address to a dest, wlc on a miss or when the cached dest is unusable, a 60 s GC timer.
import {describe, expect, it} from 'vitest';
import {SchedFixture, packet, withDests} from '../src/engine/sched/harness.js';
import {lblcCache} from '../src/engine/sched/lblc.js';
import {LOCALITY_TAB_SIZE, localityBucket} from '../src/engine/sched/locality.js';

const VIP = '10.0.0.80';
// Added A(w1), B(w1) → list B, A; with no connections wlc picks B (ties keep the first).
const two = () => withDests('lblc', [['10.0.0.1'], ['10.0.0.2']]);

describe('lblc (ip_vs_lblc.c)', () => {
  it('caches the wlc choice per destination address and keeps it while wlc would choose another', () => {
    const {f, d} = two();
    const [a, b] = d;
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b);
    f.setConns(b!, 1); // wlc would now pick A (256×1 > 0×1), but B is cached: 1 > 1 is false
    expect(f.pick('192.0.2.2', 2, VIP)).toBe(b);
    // Another destination address is a miss → wlc → A.
    expect(f.pick('192.0.2.1', 1, '10.0.0.81')).toBe(a);
    expect(lblcCache(f.svc).linked()).toBe(2);
  });

  it('the cached dest is abandoned when lblc-overloaded: active > weight and some dest has active×2 < weight', () => {
    const {f, d} = two();
    const [a, b] = d;
    f.pick('192.0.2.1', 1, VIP); // → B cached
    f.setConns(b!, 2); // 2 > 1, and A: 0×2 < 1 → overloaded → wlc: B 512, A 0 → A
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(a);
    expect(lblcCache(f.svc).get(0x0a000050)!.dest).toBe(a); // entry replaced
  });

  it('active > weight alone is not enough: no dest below half its weight → the cached dest stays', () => {
    const {f, d} = two();
    const [a, b] = d;
    f.pick('192.0.2.1', 1, VIP); // → B
    f.setConns(b!, 2);
    f.setConns(a!, 1); // A: 1×2 < 1 false; B: 4 < 1 false → not overloaded
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b);
  });

  it('the OVERLOAD flag is not checked for the cached dest (but wlc skips it for new addresses)', () => {
    const {f, d} = two();
    const [a, b] = d;
    f.pick('192.0.2.1', 1, VIP); // → B
    f.overload(b!);
    expect(f.pick('192.0.2.9', 9, VIP)).toBe(b);
    expect(f.pick('192.0.2.9', 9, '10.0.0.81')).toBe(a);
  });

  it('a quiesced (weight 0) or deleted cached dest is replaced by the wlc choice', () => {
    const {f, d} = withDests('lblc', [['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']]);
    const [a, b, c] = d;
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(c); // list C, B, A
    f.edit(c!, 0);
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b); // C weight 0 → wlc: C cannot start → B
    f.del(b!); // AVAILABLE cleared
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(a);
    f.del(a!);
    expect(f.pick('192.0.2.1', 1, VIP)).toBeNull(); // only C (weight 0) left
  });

  it('replacing an entry unlinks the old one without decrementing the entries counter (as the kernel does)', () => {
    const {f, d} = two();
    f.pick('192.0.2.1', 1, VIP); // → B
    f.edit(d[1]!, 0); // → A replaces B's entry
    f.pick('192.0.2.1', 1, VIP);
    const tbl = lblcCache(f.svc);
    expect(tbl.linked()).toBe(1);
    expect(tbl.entries).toBe(2);
  });

  it('a cache entry holds a reference: a deleted dest stays referenced until the entry goes', () => {
    const {f, d} = two();
    const b = d[1]!;
    f.pick('192.0.2.1', 1, VIP);
    expect(b.refs).toBe(1);
    f.del(b);
    expect(b.refs).toBe(1); // the trash must keep it (ip_vs_dest_hold by the cache entry)
    // Re-added from the trash (same object, AVAILABLE again): the cached entry is valid again.
    f.readd(b);
    expect(f.pick('192.0.2.1', 1, VIP)).toBe(b);
    f.ops.doneService!(f.svc, f.ctx); // unbinding flushes the cache and drops the references
    expect(b.refs).toBe(0);
  });

  it('GC: a full expiration check runs on every 30th 60-s timer run, dropping entries idle ≥ lblc_expiration', () => {
    const f = new SchedFixture('lblc');
    f.ctx.tunables.set('lblc_expiration', 600_000); // 10 min
    const a = f.add('10.0.0.1');
    f.pick('192.0.2.1', 1, '10.0.0.80'); // X: lastuse 0
    f.pick('192.0.2.1', 1, '10.0.0.81'); // Y
    f.advance(1_500_000); // t = 1500 s
    f.pick('192.0.2.1', 1, '10.0.0.81'); // Y: lastuse 1500 s
    const tbl = lblcCache(f.svc);
    f.advance(299_000); // t = 1799 s: 29 runs so far, counter 30, no full check yet
    expect(tbl.linked()).toBe(2);
    expect(tbl.counter).toBe(30);
    f.advance(1_000); // t = 1800 s: run 30 → full check: X 1800 ≥ 0 + 600 → gone; Y 1800 < 2100 → kept
    expect(tbl.get(0x0a000050)).toBeNull();
    expect(tbl.get(0x0a000051)).not.toBeNull();
    expect(tbl.counter).toBe(1);
    expect(a.refs).toBe(1);
    f.advance(1_800_000); // t = 3600 s: next full check, Y idle 2100 s ≥ 600 s → gone
    expect(tbl.linked()).toBe(0);
    expect(tbl.entries).toBe(0);
    expect(a.refs).toBe(0);
  });

  it('GC timer runs at exact 60-s steps even when the engine ticks coarsely', () => {
    const f = new SchedFixture('lblc');
    f.ctx.tunables.set('lblc_expiration', 0);
    f.add('10.0.0.1');
    f.pick('192.0.2.1', 1, VIP);
    f.advance(1_799_999, 1_799_999); // one tick just before the 30th run: 29 runs fired
    expect(lblcCache(f.svc).counter).toBe(30);
    expect(lblcCache(f.svc).linked()).toBe(1);
    f.advance(10_000_000, 10_000_000); // many runs in one tick
    expect(lblcCache(f.svc).linked()).toBe(0);
    expect(lblcCache(f.svc).nextCheck).toBe(11_820_000); // 196 runs so far: next at 197 × 60 s
  });

  it('over max_size (16384): entries idle ≥ 6 min are pruned bucket by bucket from the rover until the goal', () => {
    const f = new SchedFixture('lblc');
    f.add('10.0.0.1');
    const n = 16384 + 300;
    const perBucket = new Array<number>(LOCALITY_TAB_SIZE).fill(0);
    for (let i = 0; i < n; i++) {
      const dst = (0x0b000000 + i) >>> 0;
      f.pick('192.0.2.1', 1, dst);
      perBucket[localityBucket(dst)]!++;
    }
    const tbl = lblcCache(f.svc);
    expect(tbl.entries).toBe(n);
    // Runs at 60..300 s: over max_size, goal = trunc(300×4/3) = 400 but nothing idle ≥ 6 min;
    // the counter does not advance and a whole round leaves the rover where it was.
    f.advance(300_000);
    expect(tbl.entries).toBe(n);
    expect(tbl.counter).toBe(1);
    expect(tbl.rover).toBe(0);
    // Run at 360 s: everything is idle 6 min; buckets 1, 2, … are emptied until ≥ 400 removed.
    let removed = 0, j = 0;
    while (removed < 400) { j++; removed += perBucket[j]!; }
    f.advance(60_000);
    expect(tbl.entries).toBe(n - removed);
    expect(tbl.rover).toBe(j);
    for (let k = 1; k <= j; k++) expect(tbl.buckets[k]!.length).toBe(0);
    expect(tbl.buckets[j + 1]!.length).toBe(perBucket[j + 1]);
    expect(tbl.buckets[0]!.length).toBe(perBucket[0]);
    f.advance(60_000); // now at or under max_size → counter advances again
    expect(tbl.counter).toBe(2);
  });

  it('IPv6 destination addresses are cached by their address', () => {
    const f = new SchedFixture('lblc', {af: 6});
    const a = f.add('2001:db8:1::1');
    const b = f.add('2001:db8:1::2');
    expect(f.schedule(packet('2001:db8:9::1', 1, '2001:db8::80'))).toBe(b);
    f.setConns(b, 1);
    expect(f.schedule(packet('2001:db8:9::2', 2, '2001:db8::80'))).toBe(b);
    expect(f.schedule(packet('2001:db8:9::2', 2, '2001:db8::81'))).toBe(a);
    expect(lblcCache(f.svc).get('2001:db8::80')!.dest).toBe(b);
  });

  it('no usable dest → no destination and no entry', () => {
    const f = new SchedFixture('lblc');
    f.add('10.0.0.1', {weight: 0});
    expect(f.pick('192.0.2.1', 1, VIP)).toBeNull();
    expect(lblcCache(f.svc).linked()).toBe(0);
  });
});
