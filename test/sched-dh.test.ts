// dh — Destination Hashing (ip_vs_dh.c). Bucket = hash_32(ntohl(fold(daddr)), 8), the top
// byte of (key × 0x61C88647) mod 2^32; the 256-bucket table holds list[b mod n] (newest first).
import {describe, expect, it} from 'vitest';
import {SchedFixture, label, packet, withDests} from '../src/engine/sched/harness.js';
import {dhBucket, dhTable} from '../src/engine/sched/dh.js';
import {hash32} from '../src/engine/sched/hash.js';

// Hand derivations of hash_32 (×0x61C88647 mod 2^32, top byte):
//  10.1.2.3     0x0A010203 → 0x02AD20D5 → 2     (spec)
//  192.168.1.10 0xC0A8010A → 0xF8F385C6 → 248   (spec)
//  10.0.0.1     0x0A000001: 0x0A×0x61C88647 = 0x3D1D53EC6, ×2^24 keeps 0xC6000000;
//               + 0x61C88647 = 0x127C88647 → 0x27C88647 → 0x27 = 39
//  10.0.0.3     0xC6000000 + 3×0x61C88647 (0x1255992D5) = 0x1EB5992D5 → 0xEB5992D5 → 235
//  2001:db8::1  fold 0x20010DB8 ^ 0 ^ 0 ^ 0x00000001 = 0x20010DB9 → 0x3F01A44F → 63
describe('dh (ip_vs_dh.c)', () => {
  it('hash_32 bucket numbers of two hand-worked examples (2 and 248, not the old low-byte hash)', () => {
    expect(dhBucket(0x0a010203)).toBe(2);
    expect(dhBucket(0xc0a8010a)).toBe(248);
    expect(dhBucket(0x0a000001)).toBe(39);
    expect(dhBucket(0x0a000003)).toBe(235);
    expect(dhBucket('2001:db8::1')).toBe(63);
    // The obsolete 4.4 formula (key × 2654435761) & 255 would give 19 for 10.1.2.3.
    expect(Math.imul(0x0a010203, 2654435761) & 255).toBe(19);
    expect(hash32(0x0a010203, 8)).toBe(2);
  });

  it('table: bucket b holds the dest at list position b mod n, weights ignored', () => {
    const {f, d} = withDests('dh', [['10.0.0.11', {weight: 5}], ['10.0.0.12', {weight: 1}], ['10.0.0.13', {weight: 0}]]);
    const list = [d[2], d[1], d[0]]; // newest first
    const t = dhTable(f.svc);
    for (let b = 0; b < 256; b++) expect(t[b]).toBe(list[b % 3]);
  });

  it('worked example: with three dests, 192.168.1.10 (bucket 248) and 10.1.2.3 (bucket 2) go to the oldest', () => {
    // 248 mod 3 = 2, 2 mod 3 = 2 → list position 2 = first added.
    const {f} = withDests('dh', [['10.0.0.11'], ['10.0.0.12'], ['10.0.0.13']]);
    expect(label(f.pick('198.51.100.7', 1, '192.168.1.10'))).toBe('10.0.0.11');
    expect(label(f.pick('198.51.100.8', 2, '10.1.2.3'))).toBe('10.0.0.11');
    // 10.0.0.1 → 39 mod 3 = 0 → newest; 10.0.0.3 → 235 mod 3 = 1 → middle.
    expect(label(f.pick('198.51.100.9', 3, '10.0.0.1'))).toBe('10.0.0.13');
    expect(label(f.pick('198.51.100.9', 3, '10.0.0.3'))).toBe('10.0.0.12');
  });

  it('keys on the destination address only: any client, any port, same server', () => {
    const {f} = withDests('dh', [['10.0.0.11'], ['10.0.0.12'], ['10.0.0.13']]);
    const first = f.pick('198.51.100.1', 1000, '10.0.0.3');
    for (let i = 2; i < 50; i++) expect(f.pick(`198.51.100.${i}`, 1000 + i, '10.0.0.3')).toBe(first);
  });

  it('no fallback: weight 0, OVERLOAD → no destination for that bucket', () => {
    const {f, d} = withDests('dh', [['10.0.0.11'], ['10.0.0.12'], ['10.0.0.13']]);
    f.edit(d[0]!, 0); // dh has no upd_dest hook: nothing moves, bucket 248 → oldest, now weight 0
    expect(f.pick('198.51.100.7', 1, '192.168.1.10')).toBeNull();
    expect(dhTable(f.svc)[248]).toBe(d[0]);
    f.edit(d[0]!, 1);
    f.overload(d[0]!);
    expect(f.pick('198.51.100.7', 1, '192.168.1.10')).toBeNull();
    expect(label(f.pick('198.51.100.9', 3, '10.0.0.1'))).toBe('10.0.0.13'); // other buckets unaffected
  });

  it('adding or deleting a dest re-lays the table (b mod n with the new n)', () => {
    const {f, d} = withDests('dh', [['10.0.0.11'], ['10.0.0.12']]);
    // n = 2: bucket 39 → 39 mod 2 = 1 → list [12, 11][1] = 11.
    expect(label(f.pick('198.51.100.1', 1, '10.0.0.1'))).toBe('10.0.0.11');
    f.add('10.0.0.13'); // list 13, 12, 11: 39 mod 3 = 0 → 13
    expect(label(f.pick('198.51.100.1', 1, '10.0.0.1'))).toBe('10.0.0.13');
    f.del(d[1]!); // list 13, 11 (deleted dest left out although delDest runs before unlinking)
    expect(dhTable(f.svc).every((x) => x !== d[1])).toBe(true);
    expect(label(f.pick('198.51.100.1', 1, '10.0.0.1'))).toBe('10.0.0.11'); // 39 mod 2 = 1
  });

  it('no dests → every bucket empty → no destination', () => {
    const f = new SchedFixture('dh');
    expect(f.pick('198.51.100.1')).toBeNull();
    const a = f.add('10.0.0.11');
    f.del(a);
    expect(dhTable(f.svc).every((x) => x === null)).toBe(true);
    expect(f.pick('198.51.100.1')).toBeNull();
  });

  it('IPv6 destinations are folded by XOR of their words', () => {
    const f = new SchedFixture('dh', {af: 6});
    const d = [f.add('2001:db8::a'), f.add('2001:db8::b'), f.add('2001:db8::c')];
    // 2001:db8::1 → bucket 63, 63 mod 3 = 0 → newest (…::c).
    expect(f.schedule(packet('2001:db8:1::5', 5000, '2001:db8::1'))).toBe(d[2]);
  });
});
