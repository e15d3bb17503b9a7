// mh — Maglev Hashing (ip_vs_mh.c) and its hash primitive, the 64-bit kernel's
// hsiphash = SipHash-1-3 (lib/siphash.c).
import {describe, expect, it} from 'vitest';
import fc from 'fast-check';
import {SchedFixture, label, packet, withDests} from '../src/engine/sched/harness.js';
import {MH_KEY1, MH_KEY2, MH_TAB_SIZE, mhHash, mhTable} from '../src/engine/sched/mh.js';
import {hsiphash32, sipKey} from '../src/engine/sched/hash.js';
import {SVC_F} from '../src/engine/constants.js';
import type {Dest} from '../src/engine/types.js';

// ---- An independent, byte-oriented SipHash-c-d over BigInt (the reference algorithm), used to
// check the fast 32-bit-lane hsiphash32 against the kernel's published self-test vectors.
const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M64;
function sipHashRef(msg: Uint8Array, k0: bigint, k1: bigint, c: number, d: number): bigint {
  let v0 = 0x736f6d6570736575n ^ k0, v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0, v3 = 0x7465646279746573n ^ k1;
  const round = () => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const word = (off: number, n: number) => {
    let m = 0n;
    for (let i = n - 1; i >= 0; i--) m = (m << 8n) | BigInt(msg[off + i]!);
    return m;
  };
  const full = msg.length - (msg.length % 8);
  for (let off = 0; off < full; off += 8) {
    const m = word(off, 8);
    v3 ^= m;
    for (let i = 0; i < c; i++) round();
    v0 ^= m;
  }
  const b = (BigInt(msg.length & 0xff) << 56n) | word(full, msg.length - full);
  v3 ^= b;
  for (let i = 0; i < c; i++) round();
  v0 ^= b;
  v2 ^= 0xffn;
  for (let i = 0; i < d; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

// lib/tests/siphash_kunit.c: key 00..0f, message 00 01 … (i bytes) for i = 0..63.
const TEST_K0 = 0x0706050403020100n, TEST_K1 = 0x0f0e0d0c0b0a0908n;
const SIPHASH24 = [
  0x726fdb47dd0e0e31n, 0x74f839c593dc67fdn, 0x0d6c8009d9a94f5an, 0x85676696d7fb7e2dn, 0xcf2794e0277187b7n,
  0x18765564cd99a68dn, 0xcbc9466e58fee3cen, 0xab0200f58b01d137n, 0x93f5f5799a932462n, 0x9e0082df0ba9e4b0n,
  0x7a5dbbc594ddb9f3n, 0xf4b32f46226bada7n, 0x751e8fbc860ee5fbn, 0x14ea5627c0843d90n, 0xf723ca908e7af2een,
  0xa129ca6149be45e5n, 0x3f2acc7f57c29bdbn, 0x699ae9f52cbe4794n, 0x4bc1b3f0968dd39cn, 0xbb6dc91da77961bdn,
  0xbed65cf21aa2ee98n, 0xd0f2cbb02e3b67c7n, 0x93536795e3a33e88n, 0xa80c038ccd5ccec8n, 0xb8ad50c6f649af94n,
  0xbce192de8a85b8ean, 0x17d835b85bbb15f3n, 0x2f2e6163076bcfadn, 0xde4daaaca71dc9a5n, 0xa6a2506687956571n,
  0xad87a3535c49ef28n, 0x32d892fad841c342n, 0x7127512f72f27ccen, 0xa7f32346f95978e3n, 0x12e0b01abb051238n,
  0x15e034d40fa197aen, 0x314dffbe0815a3b4n, 0x027990f029623981n, 0xcadcd4e59ef40c4dn, 0x9abfd8766a33735cn,
  0x0e3ea96b5304a7d0n, 0xad0c42d6fc585992n, 0x187306c89bc215a9n, 0xd4a60abcf3792b95n, 0xf935451de4f21df2n,
  0xa9538f0419755787n, 0xdb9acddff56ca510n, 0xd06c98cd5c0975ebn, 0xe612a3cb9ecba951n, 0xc766e62cfcadaf96n,
  0xee64435a9752fe72n, 0xa192d576b245165an, 0x0a8787bf8ecb74b2n, 0x81b3e73d20b49b6fn, 0x7fa8220ba3b2ecean,
  0x245731c13ca42499n, 0xb78dbfaf3a8d83bdn, 0xea1ad565322a1a0bn, 0x60e61c23a3795013n, 0x6606d7e446282b93n,
  0x6ca4ecb15c5f91e1n, 0x9f626da15c9625f3n, 0xe51b38608ef25f57n, 0x958a324ceb064572n,
];
// hsiphash on 64-bit kernels (= SipHash-1-3, low 32 bits), same key and messages.
const HSIPHASH64 = [
  0x050fc4dc, 0x7d57ca93, 0x4dc7d44d, 0xe7ddf7fb, 0x88d38328, 0x49533b67, 0xc59f22a7, 0x9bb11140,
  0x8d299a8e, 0x6c063de4, 0x92ff097f, 0xf94dc352, 0x57b4d9a2, 0x1229ffa7, 0xc0f95d34, 0x2a519956,
  0x7d908b66, 0x63dbd80c, 0xb473e63e, 0x8d297d1c, 0xa6cce040, 0x2b45f844, 0xa320872e, 0xdae6c123,
  0x67349c8c, 0x705b0979, 0xca9913a5, 0x4ade3b35, 0xef6cd00d, 0x4ab1e1f4, 0x43c5e663, 0x8c21d1bc,
  0x16a7b60d, 0x7a8ff9bf, 0x1f2a753e, 0xbf186b91, 0xada26206, 0xa3c33057, 0xae3a36a1, 0x7b108392,
  0x99e41531, 0x3f1ad944, 0xc8138825, 0xc28949a6, 0xfaf8876b, 0x9f042196, 0x68b1d623, 0x8b5114fd,
  0xdf074c46, 0x12cc86b3, 0x0a52098f, 0x9d292f9a, 0xa2f41f12, 0x43a71ed0, 0x73f0bce6, 0x70a7e980,
  0x243c6d75, 0xfdb71513, 0xa67d8a08, 0xb7e8f148, 0xf7a644ee, 0x0f1837f2, 0x4b6694e0, 0xb7bbb3a8,
];
const bytes = (n: number) => Uint8Array.from({length: n}, (_, i) => i);
const le32 = (v: number) => Uint8Array.of(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);

describe('hsiphash (SipHash-1-3 of the 64-bit kernel)', () => {
  it('the BigInt reference reproduces the published SipHash-2-4 vectors', () => {
    SIPHASH24.forEach((want, i) => expect(sipHashRef(bytes(i), TEST_K0, TEST_K1, 2, 4)).toBe(want));
  });

  it('the BigInt reference at 1-3 reproduces the kernel\'s 64-bit hsiphash self-test vectors', () => {
    HSIPHASH64.forEach((want, i) => expect(Number(sipHashRef(bytes(i), TEST_K0, TEST_K1, 1, 3) & 0xffffffffn)).toBe(want));
  });

  it('hsiphash32 matches hsiphash_1u32(0x03020100) = vector[4] and the reference for any u32 and key', () => {
    expect(hsiphash32(0x03020100, sipKey(TEST_K0, TEST_K1))).toBe(0x88d38328);
    fc.assert(fc.property(fc.integer({min: 0, max: 0xffffffff}), fc.bigInt({min: 0n, max: M64}), fc.bigInt({min: 0n, max: M64}), (v, k0, k1) =>
      hsiphash32(v, sipKey(k0, k1)) === Number(sipHashRef(le32(v), k0, k1, 1, 3) & 0xffffffffn)), {numRuns: 500});
  });

  it('hand-computed test vector: H(key1, 0x0A000065) = 0x51CC756E (full value 0x53998F4351CC756E)', () => {
    expect(sipHashRef(le32(0x0a000065), 2654435761n, 2654435761n, 1, 3)).toBe(0x53998f4351cc756en);
    expect(hsiphash32(0x0a000065, MH_KEY1)).toBe(0x51cc756e);
  });
});

const A = '10.0.1.2', B = '10.0.2.2', C = '10.0.3.2';
const example = (flags = 0) => withDests('mh', [[A, {weight: 3}], [B, {weight: 2}], [C, {weight: 1}]], {flags});
const shares = (t: readonly (Dest | null)[]) => {
  const m = new Map<string, number>();
  for (const d of t) m.set(label(d), (m.get(label(d)) ?? 0) + 1);
  return m;
};

describe('mh (ip_vs_mh.c)', () => {
  it('M = 4093 (CONFIG_IP_VS_MH_TAB_INDEX 12)', () => {
    expect(MH_TAB_SIZE).toBe(4093);
  });

  it('worked example: offsets and skips of A, B, C', () => {
    // v = 0x0A000102 + 80 etc.; offset = H(key1, v) mod 4093, skip = H(key2, v) mod 4092 + 1.
    const rows = [
      [A, 0x0a000152, 0xe7d5f5eb, 1584, 0xdd350eb3, 2508],
      [B, 0x0a000252, 0xa9a7745d, 2489, 0xd0522371, 1282],
      [C, 0x0a000352, 0x37fb3eb6, 4039, 0x33992528, 3753],
    ] as const;
    for (const [addr, v, h1, offset, h2, skip] of rows) {
      const n = Number(addr.split('.').reduce((a, o) => a * 256 + Number(o), 0));
      expect((n + 80) >>> 0).toBe(v);
      expect(mhHash(n, 80, MH_KEY1)).toBe(h1);
      expect(mhHash(n, 80, MH_KEY2)).toBe(h2);
      expect(h1 % 4093).toBe(offset);
      expect((h2 % 4092) + 1).toBe(skip);
    }
  });

  it('worked example: first placements (turns in a row, skip only past taken slots) and final shares', () => {
    // gcd 1, max 3 → fls(3) = 2 < 6 → rshift 0; turns A 3, B 2, C 1; list C, B, A.
    // C→4039; B→2489, B→3771 (2489 taken, +1282); A→1584, A→4092, A→2507 (4092+2508−4093);
    // C→3699; B→960, B→2242; A→922, A→3430, A→1845; C→3359.
    const {f} = example();
    const t = mhTable(f.svc);
    const placed: Array<[number, string]> = [
      [4039, C], [2489, B], [3771, B], [1584, A], [4092, A], [2507, A], [3699, C],
      [960, B], [2242, B], [922, A], [3430, A], [1845, A], [3359, C],
    ];
    for (const [slot, who] of placed) expect(label(t[slot]!)).toBe(who);
    const s = shares(t);
    expect([s.get(A), s.get(B), s.get(C)]).toEqual([2046, 1364, 683]);
  });

  it('worked example lookups: 10.0.0.101 → slot 3746 → B; 192.168.0.7:40000 with mh-port → 2959 → B', () => {
    expect(mhHash(0x0a000065, 0, MH_KEY1) % 4093).toBe(3746);
    expect(label(example().f.pick('10.0.0.101'))).toBe(B);
    // v = 0xC0A80007 + 40000 = 0xC0A89C47, H = 0xF40CA09D, index 2959.
    expect(mhHash(0xc0a80007, 40000, MH_KEY1)).toBe(0xf40ca09d);
    expect(0xf40ca09d % 4093).toBe(2959);
    const {f} = example(SVC_F.SCHED2);
    expect(label(f.pick('192.168.0.7', 40000))).toBe(B);
    // Without mh-port the port is not part of the key.
    const plain = example().f;
    const p0 = plain.pick('192.168.0.7', 1);
    expect(plain.pick('192.168.0.7', 40000)).toBe(p0);
  });

  it('weights scale by gcd: weights 2, 4, 6 give the same table as 1, 2, 3', () => {
    const x = withDests('mh', [[A, {weight: 6}], [B, {weight: 4}], [C, {weight: 2}]]).f;
    const y = example().f;
    expect(mhTable(x.svc).map(label)).toEqual(mhTable(y.svc).map(label));
  });

  it('rshift keeps turns within 6 bits: weights 128/1 and 129/1 lay out like 32/1', () => {
    // max/gcd = 128 → fls 8 − 6 = rshift 2 → turns 32 and (1 >> 2 = 0 → raised to 1).
    const mk = (w: number) => mhTable(withDests('mh', [[A, {weight: w}], [B, {weight: 1}]]).f.svc).map(label);
    expect(mk(128)).toEqual(mk(32));
    expect(mk(129)).toEqual(mk(32)); // 129 >> 2 = 32
    expect(mk(127)).not.toEqual(mk(32)); // fls(127) = 7 → rshift 1 → turns 63
  });

  it('a quiesced (weight 0) dest keeps its slots: no destination without mh-fallback', () => {
    const {f, d} = example();
    f.edit(d[1]!, 0); // B: last_weight stays 2, the rebuilt table is unchanged
    expect(shares(mhTable(f.svc)).get(B)).toBe(1364);
    expect(f.pick('10.0.0.101')).toBeNull(); // slot 3746 is still B's
  });

  it('mh-fallback re-hashes with offsets ihash, ihash+1, … until an available dest', () => {
    const {f, d} = example(SVC_F.SCHED1);
    f.overload(d[1]!);
    // Slot 3746 (B) unavailable → probe H(key1, v + r) mod M for r = 3746, 3747, …
    const t = mhTable(f.svc);
    let want: string | null = null;
    for (let k = 0; k < 4093 && want === null; k++) {
      const d2 = t[mhHash(0x0a000065, 0, MH_KEY1, (k + 3746) % 4093) % 4093]!;
      if (label(d2) !== B) want = label(d2);
    }
    expect(want).not.toBeNull();
    expect(label(f.pick('10.0.0.101'))).toBe(want);
    expect(f.ctx.logs.some(([lvl, m]) => lvl === 6 && m === 'MH: selected unavailable server 10.0.2.2:80, reselecting')).toBe(true);
    // Every dest unavailable → none.
    for (const x of d) f.overload(x);
    expect(f.pick('10.0.0.101')).toBeNull();
  });

  it('a dest added with weight 0 gets no slots; only weight-0 dests → empty table', () => {
    const f = new SchedFixture('mh', {flags: SVC_F.SCHED1});
    f.add(A, {weight: 0});
    expect(mhTable(f.svc).every((x) => x === null)).toBe(true);
    expect(f.pick('10.0.0.101')).toBeNull();
    const b = f.add(B, {weight: 1});
    expect(mhTable(f.svc).every((x) => x === b)).toBe(true);
  });

  it('deleting a dest rebuilds without it (delDest runs while it is still linked)', () => {
    const {f, d} = example();
    f.del(d[1]!);
    const s = shares(mhTable(f.svc));
    expect(s.has(B)).toBe(false);
    expect(s.get(A)! + s.get(C)!).toBe(4093);
    // The table is repopulated from A's and C's unchanged permutations; lookups never return B.
    expect(label(f.pick('10.0.0.101'))).not.toBe(B);
  });

  it('a dest added mid-run takes slots; deleting it restores the original table', () => {
    const {f} = example();
    const before = mhTable(f.svc).map(label);
    const x = f.add('10.0.9.9', {weight: 2});
    expect(shares(mhTable(f.svc)).get('10.0.9.9')).toBeGreaterThan(0);
    f.del(x);
    expect(mhTable(f.svc).map(label)).toEqual(before);
  });

  it('IPv6: dest keys and client keys fold by XOR of the four words', () => {
    const f = new SchedFixture('mh', {af: 6});
    const a = f.add('2001:db8:1::2', {weight: 1});
    const b = f.add('2001:db8:2::2', {weight: 1});
    // Client 2001:db8::1 folds to 0x20010DB9; its slot is H(key1, 0x20010DB9) mod 4093.
    const slot = hsiphash32(0x20010db9, MH_KEY1) % 4093;
    const got = f.schedule(packet('2001:db8::1', 5000, '2001:db8::80'));
    expect(got).toBe(mhTable(f.svc)[slot]);
    expect([a, b]).toContain(got);
  });
});
