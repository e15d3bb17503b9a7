// Hostile input for the backup: random datagrams and mutations of valid ones (bit flips, byte
// stores, truncation, extension, header edits), with and without a consistent size field. For each:
// the receive path never throws; a rejected datagram changes nothing; exactly the entries the
// decoder accepted are applied, each completely (state, in_pkts, timeout, SYNC); and the engine's
// counters stay consistent with its table.
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {parseAddr} from '../src/engine/addr.js';
import {CONN_F, IPPROTO_IP} from '../src/engine/constants.js';
import type {Engine} from '../src/engine/engine.js';
import {seededRng, type Rng} from '../src/engine/rng.js';
import {SYNC_MAX_TIMEOUT_S} from '../src/engine/sync-apply.js';
import type {SyncConn} from '../src/engine/sync-conn.js';
import {type DecodedEntry, encodeV0Message, encodeV1Message} from '../src/sync/codec.js';
import {SyncBackup} from '../src/sync/backup.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

const ip = (t: string) => parseAddr(t)!.addr;

function backupEngine() {
  const b = new Bench({seed: 3});
  b.service('tcp', '198.51.100.1:443', {scheduler: 'rr'});
  b.dest(svcKey('tcp', '198.51.100.1:443'), '10.1.0.2:443', {fwd: 'masq'});
  b.dest(svcKey('tcp', '198.51.100.1:443'), '10.1.0.3:443', {fwd: 'route'});
  b.service('udp', '198.51.100.1:53', {scheduler: 'rr', persistTimeout: 60 * S});
  b.dest(svcKey('udp', '198.51.100.1:53'), '10.1.0.2:53', {fwd: 'masq'});
  b.service('sctp', '198.51.100.2:9', {scheduler: 'rr'});
  b.dest(svcKey('sctp', '198.51.100.2:9'), '10.1.0.3:9', {fwd: 'tunnel'});
  b.fwmarkService(7, {scheduler: 'rr', persistTimeout: 300 * S});
  b.dest({kind: 'fwmark', af: 4, fwmark: 7}, '10.1.0.2:0', {fwd: 'route'});
  b.service('tcp', '[2001:db8::1]:443', {scheduler: 'rr'});
  b.dest(svcKey('tcp', '[2001:db8::1]:443'), '[2001:db8:1::2]:443', {fwd: 'masq'});
  const cfg = b.e.startDaemon({role: 'backup'});
  const backup = new SyncBackup(b.e, cfg);
  return {b, backup};
}

const CADDRS = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '203.0.113.9'].map(ip);
const VADDRS = ['198.51.100.1', '198.51.100.2', '10.9.9.9'].map(ip);
const DADDRS = ['10.1.0.2', '10.1.0.3', '10.1.0.4', '0.0.0.0'].map(ip);
const PORTS = [0, 9, 53, 443, 1000, 1001, 40000, 65535];
const FLAG_BITS = [CONN_F.TEMPLATE, CONN_F.INACTIVE, CONN_F.NOOUTPUT, CONN_F.IN_SEQ, CONN_F.OUT_SEQ, CONN_F.ONE_PACKET,
  CONN_F.NO_CPORT, CONN_F.HASHED, CONN_F.SYNC, CONN_F.NFCT, 0x4000, 0x8000];

function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[r.u32() % xs.length]!;
}

function randomConn(r: Rng, v0: boolean): SyncConn {
  const af = !v0 && r.u32() % 5 === 0 ? 6 : 4;
  let flags = r.u32() % 8 === 0 ? r.u32() : r.u32() % 5;
  for (const bit of FLAG_BITS) if (r.u32() % 6 === 0) flags |= bit;
  const proto = pick(r, [6, 6, 17, 17, 132, IPPROTO_IP, 50, r.u32() & 0xff]);
  const c: SyncConn = {
    af, proto, flags: flags >>> 0,
    state: r.u32() % 10 === 0 ? r.u32() & 0xffff : r.u32() % 16,
    cport: pick(r, PORTS), vport: pick(r, PORTS), dport: pick(r, PORTS),
    fwmark: pick(r, [0, 0, 7, r.u32()]),
    timeout: pick(r, [0, 60, 300, 900, r.u32()]),
    caddr: af === 6 ? pick(r, ['2001:db8::10', '2001:db8::11']) : pick(r, CADDRS),
    vaddr: af === 6 ? pick(r, ['2001:db8::1', '0:7::']) : (proto === 0 ? pick(r, [7, 8]) : pick(r, VADDRS)),
    daddr: af === 6 ? pick(r, ['2001:db8:1::2', '::']) : pick(r, DADDRS),
  };
  if (flags & CONN_F.SEQ_MASK) {
    c.inSeq = {initSeq: r.u32(), delta: r.u32(), previousDelta: r.u32()};
    c.outSeq = {initSeq: r.u32(), delta: r.u32(), previousDelta: r.u32()};
  }
  if (!v0 && r.u32() % 6 === 0) {
    c.peData = Uint8Array.from({length: 1 + (r.u32() % 20)}, () => r.u32() & 0xff);
    if (r.u32() % 3) c.peName = pick(r, ['sip', 'sip', 'xyz', 'a'.repeat(16)]);
  }
  return c;
}

function validMessage(r: Rng): Uint8Array {
  const v0 = r.u32() % 3 === 0;
  const n = 1 + (r.u32() % 6);
  const conns = Array.from({length: n}, () => randomConn(r, v0));
  const id = r.u32() % 4 === 0 ? r.u32() & 0xff : 0;
  return v0 ? encodeV0Message(id, conns) : encodeV1Message(id, conns);
}

function fixSize(m: Uint8Array): void {
  if (m.length >= 4 && m.length <= 0xffff) new DataView(m.buffer, m.byteOffset).setUint16(2, m.length);
}

function mutate(r: Rng, src: Uint8Array): Uint8Array {
  let m = src.slice();
  const ops = 1 + (r.u32() % 3);
  for (let k = 0; k < ops; k++) {
    switch (r.u32() % 9) {
      case 0: // flip bits
        for (let j = 1 + (r.u32() % 4); j > 0 && m.length; j--) m[r.u32() % m.length]! ^= 1 << (r.u32() % 8);
        break;
      case 1: // store random bytes
        for (let j = 1 + (r.u32() % 4); j > 0 && m.length; j--) m[r.u32() % m.length] = r.u32() & 0xff;
        break;
      case 2: // truncate
        m = m.slice(0, r.u32() % (m.length + 1));
        break;
      case 3: { // append garbage
        const extra = Uint8Array.from({length: 1 + (r.u32() % 40)}, () => r.u32() & 0xff);
        const n = new Uint8Array(m.length + extra.length);
        n.set(m);
        n.set(extra, m.length);
        m = n;
        break;
      }
      case 4: // nr_conns
        if (m.length > 4) m[r.u32() % 2 ? 0 : 4] = r.u32() % 8;
        break;
      case 5: // an entry's ver_size / type at a 4-aligned offset
        if (m.length > 12) {
          const off = 8 + 4 * (r.u32() % Math.max(1, (m.length - 8) >> 2));
          if (off + 3 < m.length) {
            m[off + (r.u32() % 4)] = pick(r, [0, 1, 2, 0x10, 0x24, 0x48, 0x30, 0xff, r.u32() & 0xff]);
          }
        }
        break;
      case 6: // header version bytes
        if (m.length > 7) m[pick(r, [0, 5, 6, 7])] = pick(r, [0, 1, 2, 0xff]);
        break;
      case 7: { // splice two halves of itself
        const cut = r.u32() % (m.length + 1);
        const n = new Uint8Array(m.length * 2 - cut);
        n.set(m);
        n.set(m.subarray(cut), m.length);
        m = n;
        break;
      }
      default: // an option byte in the tail
        if (m.length > 44) m[44 + (r.u32() % (m.length - 44))] = pick(r, [1, 2, 3, 0x40, 0x41, 0x49, 0, 24, 255]);
    }
  }
  if (r.u32() % 4) fixSize(m);
  return m;
}

function randomMessage(r: Rng): Uint8Array {
  const m = Uint8Array.from({length: r.u32() % 160}, () => r.u32() & 0xff);
  if (r.u32() % 2 && m.length >= 8) {
    m[0] = 0;
    m[5] = 1;
    m[6] = 0;
    m[7] = 0;
    m[4] = r.u32() % 5;
  }
  if (r.u32() % 3) fixSize(m);
  return m;
}

/** Recount dest counters and the state tally from the table. */
function invariantErrors(e: Engine): string[] {
  const t = e.table;
  const errs: string[] = [];
  const per = new Map<number, [number, number, number]>();
  let live = 0;
  t.forEachLive((i) => {
    live++;
    if (!(t.flags[i]! & CONN_F.SYNC)) errs.push(`entry ${i} without SYNC`);
    if (t.control[i] !== -1 || t.nControl[i] !== 0) errs.push(`entry ${i} has control links`);
    const d = t.dest[i]!;
    if (d < 0) return;
    const c = per.get(d) ?? [0, 0, 0];
    c[t.flags[i]! & CONN_F.TEMPLATE ? 2 : t.flags[i]! & CONN_F.INACTIVE ? 1 : 0]++;
    per.set(d, c);
  });
  if (live !== t.count) errs.push(`live ${live} != count ${t.count}`);
  let tally = 0;
  for (const n of e.stateCounts().values()) tally += n;
  if (tally !== t.count) errs.push(`tally ${tally} != count ${t.count}`);
  for (const svc of e.listServices()) {
    for (const d of svc.dests) {
      const c = per.get(d.id) ?? [0, 0, 0];
      if (d.activeConns !== c[0] || d.inactConns !== c[1] || d.persistConns !== c[2]) {
        errs.push(`dest ${d.id}: ${d.activeConns}/${d.inactConns}/${d.persistConns} != ${c.join('/')}`);
      }
    }
  }
  return errs;
}

function digest(e: Engine): string {
  const t = e.table;
  let h = t.count;
  t.forEachLive((i) => {
    h = (Math.imul(h, 31) + t.flags[i]! + t.state[i]! * 7 + t.timeout[i]! + t.inPkts[i]!) | 0;
  });
  return `${t.count}:${h}`;
}

/** Check one datagram's processing; returns a problem description or null. */
function checkOne(e: Engine, backup: SyncBackup, msg: Uint8Array, verifyRejected: boolean): string | null {
  const before = verifyRejected ? digest(e) : '';
  let res;
  try {
    res = backup.receive(msg);
  } catch (err) {
    return `threw ${(err as Error).stack}`;
  }
  const d = res.decoded;
  const ok = d.ok ? d.entries.filter((x) => x.status === 'ok') : [];
  if (res.applied.length !== ok.length) return `applied ${res.applied.length} of ${ok.length} accepted entries`;
  if (!d.ok && verifyRejected && digest(e) !== before) return 'a rejected datagram changed the table';
  // each accepted entry fully applied (the last one per entry: a later one may update it)
  const last = new Map<number, DecodedEntry>();
  res.applied.forEach((r, k) => {
    if (r.conn >= 0) last.set(e.table.slotOf(r.conn), ok[k]!); // results carry ids; the checks read slots
  });
  const t = e.table;
  for (const [i, en] of last) {
    if (!t.isLive(i)) return `applied entry ${i} is not live`;
    if (t.state[i] !== (en.conn.state & 0xff)) return `entry ${i} state ${t.state[i]} != ${en.conn.state}`;
    if (t.inPkts[i] !== e.tunables.v.sync_threshold) return `entry ${i} in_pkts ${t.inPkts[i]}`;
    if (!(t.flags[i]! & CONN_F.SYNC) && !(t.flags[i]! & CONN_F.HASHED)) return `entry ${i} flags ${t.flags[i]}`;
    if (d.version === 1 && en.conn.timeout && t.timeout[i] !== Math.min(en.conn.timeout, SYNC_MAX_TIMEOUT_S) * 1000) {
      return `entry ${i} timeout ${t.timeout[i]} for ${en.conn.timeout} s`;
    }
    // a template bound on creation takes INACTIVE from its dest's conn_flags (ip_vs_bind_dest)
    const upd = en.flags & CONN_F.TEMPLATE ? CONN_F.SEQ_MASK : CONN_F.BACKUP_UPD_MASK;
    if ((t.flags[i]! & upd) !== (en.flags & upd)) return `entry ${i} INACTIVE/SEQ bits`;
  }
  return null;
}

const hexOf = (m: Uint8Array) => [...m].map((x) => x.toString(16).padStart(2, '0')).join(' ');

describe('decoder and backup fuzz', () => {
  it('120,000 random and mutated datagrams: no throw, no partial apply, consistent engine', () => {
    const {b, backup} = backupEngine();
    const e = b.e;
    const r = seededRng(20240607);
    const pool: Uint8Array[] = Array.from({length: 64}, () => validMessage(r));
    const N = 120_000;
    let applied = 0, rejected = 0, stopped = 0;
    for (let k = 0; k < N; k++) {
      const kind = k % 10;
      let msg: Uint8Array;
      if (kind < 2) msg = randomMessage(r);
      else if (kind < 4) msg = validMessage(r);
      else msg = mutate(r, pick(r, pool));
      if (kind === 3) pool[r.u32() % pool.length] = msg;
      const problem = checkOne(e, backup, msg, k % 7 === 0);
      if (problem) throw new Error(`case ${k}: ${problem}\n${hexOf(msg)}`);
      if (k % 2000 === 1999) {
        const errs = invariantErrors(e);
        if (errs.length) throw new Error(`after case ${k}: ${errs.slice(0, 5).join('; ')}`);
        e.tick(e.now + (r.u32() % 400) * S);
      }
    }
    const s = backup.stats;
    applied = s.applied.created + s.applied.updated + s.applied.replaced;
    rejected = Object.values(s.messages.rejected).reduce((a, x) => a + x, 0);
    stopped = s.messages.rejected.partial ?? 0;
    expect(s.messages.received).toBe(N);
    if (process.env.SYNC_FUZZ_STATS) console.log(JSON.stringify(s, null, 1));
    // the mix exercises every path
    expect(applied).toBeGreaterThan(50_000);
    expect(rejected - stopped).toBeGreaterThan(15_000);
    expect(stopped).toBeGreaterThan(5_000);
    expect(Object.keys(s.entries.rejected).length).toBeGreaterThanOrEqual(10);
    expect(invariantErrors(e)).toEqual([]);
  });

  it('fast-check: arbitrary bytes behind a consistent v0 or v1 header', () => {
    const {b, backup} = backupEngine();
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 400}), fc.boolean(), fc.integer({min: 0, max: 8}), (body, v1, n) => {
        const m = new Uint8Array((v1 ? 8 : 4) + body.length);
        m.set(body, v1 ? 8 : 4);
        if (v1) {
          m[4] = n;
          m[5] = 1;
        } else {
          m[0] = n;
        }
        fixSize(m);
        const problem = checkOne(b.e, backup, m, true);
        return problem === null && invariantErrors(b.e).length === 0;
      }),
      {numRuns: 3000, seed: 42},
    );
  });
});
