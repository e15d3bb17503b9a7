// sh — Source Hashing (ip_vs_sh.c). Table: each dest (newest first) takes max(weight, 1)
// consecutive buckets per round; key = (sport if sh-port) + ntohl(fold(saddr)); bucket with probe
// offset o = (o + hash_32(key, 8)) & 255; sh-fallback probes (k + 2i) & 255 for k = 0..255.
import {describe, expect, it} from 'vitest';
import {SchedFixture, label, packet, withDests} from '../src/engine/sched/harness.js';
import {shBucket, shTable} from '../src/engine/sched/sh.js';
import {IPPROTO_SCTP, IPPROTO_UDP, SVC_F} from '../src/engine/constants.js';

const A = '10.0.1.2', B = '10.0.2.2', C = '10.0.3.2';
// Worked example: added A(3), B(2), C(1) → list C, B, A → bucket b → [C, B, B, A, A, A][b mod 6].
const example = (flags = 0) =>
  withDests('sh', [[A, {weight: 3}], [B, {weight: 2}], [C, {weight: 1}]], {flags});

describe('sh (ip_vs_sh.c)', () => {
  it('lays buckets out by weight: list C(1), B(2), A(1) → C, B, B, A, C, B, B, A, …', () => {
    const {f, d} = withDests('sh', [['10.0.0.1', {weight: 1}], ['10.0.0.2', {weight: 2}], ['10.0.0.3', {weight: 1}]]);
    const [a, b, c] = d;
    expect(shTable(f.svc).slice(0, 8)).toEqual([c, b, b, a, c, b, b, a]);
  });

  it('bucket b holds [C, B, B, A, A, A][b mod 6], the last round 252..255 cut short', () => {
    const {f, d} = example();
    const [a, b, c] = d;
    const pattern = [c, b, b, a, a, a];
    const t = shTable(f.svc);
    for (let i = 0; i < 256; i++) expect(t[i]).toBe(pattern[i % 6]);
    expect(t.slice(252)).toEqual([c, b, b, a]);
  });

  it('worked example: 10.0.0.101 → bucket 90 → C; 192.168.0.7 → 11 → A', () => {
    // 0x0A000065 × 0x61C88647 mod 2^32 = 0x5A1CFA03 → 0x5A = 90, 90 mod 6 = 0 → C.
    // 0xC0A80007 → 0x0B13ABF1 → 11, 11 mod 6 = 5 → A.
    expect(shBucket(0x0a000065, 0)).toBe(90);
    expect(shBucket(0xc0a80007, 0)).toBe(11);
    const {f} = example();
    expect(label(f.pick('10.0.0.101'))).toBe(C);
    expect(label(f.pick('192.168.0.7'))).toBe(A);
    // Without sh-port the source port is ignored.
    expect(label(f.pick('192.168.0.7', 1234))).toBe(A);
  });

  it('sh-port adds the source port to the address before hashing: 192.168.0.7:40000 → 175 → B', () => {
    // 0xC0A80007 + 40000 = 0xC0A89C47 → product 0xAF0881B1 → 175, 175 mod 6 = 1 → B.
    expect(shBucket(0xc0a80007, 40000)).toBe(175);
    const {f} = example(SVC_F.SCHED2);
    expect(label(f.pick('192.168.0.7', 40000))).toBe(B);
    expect(label(f.pick('192.168.0.7', 40000, '10.0.0.1', IPPROTO_UDP))).toBe(B);
    expect(label(f.pick('192.168.0.7', 40000, '10.0.0.1', IPPROTO_SCTP))).toBe(B);
  });

  it('without sh-fallback an unavailable bucket dest (weight 0 or OVERLOAD) gives no destination', () => {
    const {f, d} = example(SVC_F.SCHED2);
    f.overload(d[1]!);
    expect(f.pick('192.168.0.7', 40000)).toBeNull();
    f.overload(d[1]!, false);
    // Weight 0: the table is rebuilt (upd_dest) and B keeps max(0,1) = 1 bucket per round:
    // [C, B, A, A, A] (W = 5): 175 mod 5 = 0 → C.
    f.edit(d[1]!, 0);
    expect(label(f.pick('192.168.0.7', 40000))).toBe(C);
    // Source port 0 (sh-port adds 0): bucket 11, 11 mod 5 = 1 → B (weight 0) → none.
    expect(f.pick('192.168.0.7', 0)).toBeNull();
  });

  it('sh-fallback scans from bucket 2i: B unavailable at bucket 175 → probe 94 → A', () => {
    const {f, d} = example(SVC_F.SCHED1 | SVC_F.SCHED2);
    f.overload(d[1]!);
    // k = 0: r = 175, bucket (175 + 175) & 255 = 94; 94 mod 6 = 4 → A, available.
    expect(label(f.pick('192.168.0.7', 40000))).toBe(A);
    // A unavailable too: 94 → A, 95 (mod 6 = 5) → A, 96 (mod 6 = 0) → C.
    f.edit(d[0]!, 0);
    // (edit rebuilt the table: [C, B, B, A] W = 4 now, 175 mod 4 = 3 → A (weight 0); probes
    //  94 mod 4 = 2 → B (overloaded), 95 → 3 → A, 96 → 0 → C.)
    expect(label(f.pick('192.168.0.7', 40000))).toBe(C);
    expect(f.ctx.logs.some(([lvl, m]) => lvl === 6 && m.startsWith('SH: selected unavailable server 10.0.1.2:80'))).toBe(true);
  });

  it('sh-fallback with every dest unavailable probes all 256 buckets and gives up', () => {
    const {f, d} = example(SVC_F.SCHED1);
    for (const x of d) f.overload(x);
    expect(f.pick('192.168.0.7')).toBeNull();
  });

  it('a dest added or deleted mid-run re-lays the table', () => {
    const {f, d} = example();
    f.del(d[1]!); // list C(1), A(3) → [C, A, A, A]: 90 mod 4 = 2 → A; 11 mod 4 = 3 → A
    expect(shTable(f.svc).includes(d[1]!)).toBe(false);
    expect(label(f.pick('10.0.0.101'))).toBe(A);
    f.edit(d[2]!, 3); // C(3), A(3) → [C, C, C, A, A, A]: 90 mod 6 = 0 → C
    expect(label(f.pick('10.0.0.101'))).toBe(C);
    f.add('10.0.4.2', {weight: 2}); // D(2), C(3), A(3) → W 8: 90 mod 8 = 2 → C; 11 mod 8 = 3 → C
    expect(label(f.pick('10.0.0.101'))).toBe(C);
    expect(label(f.pick('192.168.0.10'))).toBe(label(shTable(f.svc)[shBucket(0xc0a8000a, 0)]!));
  });

  it('the same client always gets the same server while the set is unchanged', () => {
    const {f, d} = example();
    const first = f.pick('203.0.113.77', 1111);
    f.setConns(d[0]!, 100, 50);
    for (let i = 0; i < 20; i++) expect(f.pick('203.0.113.77', 2000 + i)).toBe(first);
  });

  it('IPv6 clients are folded by XOR of their words: 2001:db8::1 → bucket 63 → A', () => {
    const f = new SchedFixture('sh', {af: 6});
    const a = f.add('2001:db8:1::2', {weight: 3});
    f.add('2001:db8:2::2', {weight: 2});
    f.add('2001:db8:3::2', {weight: 1});
    // fold 0x20010DB9 → 0x3F01A44F → 63; 63 mod 6 = 3 → A.
    expect(f.schedule(packet('2001:db8::1', 5000, '2001:db8::80'))).toBe(a);
  });

  it('no dests → no destination, with or without fallback', () => {
    expect(new SchedFixture('sh').pick('192.0.2.1')).toBeNull();
    expect(new SchedFixture('sh', {flags: SVC_F.SCHED1}).pick('192.0.2.1')).toBeNull();
  });
});
