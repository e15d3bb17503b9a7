// When entries are synced (ip_vs_sync.c, ip_vs_sync_conn_needed), driven through the engine's packet path: the packet-count
// grid 1..110 with the defaults, the worked example (v1 T,T,C,T,C,T; v0 C,T,C,T), templates,
// sync_persist_mode, ONE_PACKET, IPv6 in v0, deferred expiry, and the refresh/retries windows.
import {describe, expect, it} from 'vitest';
import {CONN_F, SVC_F} from '../src/engine/constants.js';
import type {Engine} from '../src/engine/engine.js';
import {decodeMessage} from '../src/sync/codec.js';
import {SyncMaster} from '../src/sync/master.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

const VIP = '198.51.100.1:443';
const CLIENT = '192.0.2.10:40000';
const RS = '10.1.0.2:443';

interface Rec {
  now: number;
  pkts: number;
  conns: number[];
}

/** Run the decision as the master would, recording what each call appends. */
function record(e: Engine): Rec[] {
  e.startDaemon({role: 'master'});
  const log: Rec[] = [];
  e.onSyncConn((i, pkts) => {
    log.push({now: e.now, pkts, conns: e.syncEntries(i, pkts, e.tunables.v.sync_version!)});
  });
  return log;
}

function natService(b: Bench, proto: 'tcp' | 'udp', opts: Parameters<Bench['service']>[2] = {}, vip = VIP, rs = RS) {
  b.service(proto, vip, {scheduler: 'rr', ...opts});
  b.dest(svcKey(proto, vip), rs, {fwd: 'masq'});
}

/** in_pkts values at which connection `cp` was appended. */
function sentAt(log: Rec[], cp: number): number[] {
  return log.filter((r) => r.conns.includes(cp)).map((r) => r.pkts);
}

describe('packet counts 1..110 with the defaults (threshold 3, period 50, refresh 0)', () => {
  it('UDP: sent at in_pkts 3, 53, 103', () => {
    const b = new Bench();
    natService(b, 'udp', {}, '10.0.0.3:53', '10.1.0.31:53');
    const log = record(b.e);
    for (let k = 0; k < 110; k++) b.in('udp', '203.0.113.5:5353', '10.0.0.3:53');
    expect(log.map((r) => r.pkts)).toEqual(Array.from({length: 110}, (_, k) => k + 1));
    const cp = b.conn('udp', '203.0.113.5:5353', '10.0.0.3:53')!.id;
    expect(sentAt(log, cp)).toEqual([3, 53, 103]);
  });

  it('TCP: never in SYN_RECV; ESTABLISHED at 3, 53, 103; a state change into CLOSE_WAIT at once', () => {
    const b = new Bench();
    natService(b, 'tcp');
    const log = record(b.e);
    b.in('tcp', CLIENT, VIP, 'S');
    b.in('tcp', CLIENT, VIP, 'S'); // retransmitted SYN: still SYN_RECV
    for (let k = 3; k <= 110; k++) b.in('tcp', CLIENT, VIP, 'A');
    const cp = b.conn('tcp', CLIENT, VIP)!.id;
    expect(sentAt(log, cp)).toEqual([3, 53, 103]);
    b.in('tcp', CLIENT, VIP, 'FA');
    expect(b.state('tcp', CLIENT, VIP)).toBe('CLOSE_WAIT');
    expect(sentAt(log, cp)).toEqual([3, 53, 103, 111]);
    b.in('tcp', CLIENT, VIP, 'A'); // no change: nothing
    expect(sentAt(log, cp)).toEqual([3, 53, 103, 111]);
  });

  it('a state entered through a reply is noticed at the next incoming packet; one entered and left in between never', () => {
    const b = new Bench();
    natService(b, 'tcp');
    const log = record(b.e);
    b.in('tcp', CLIENT, VIP, 'S');
    b.out('tcp', RS, CLIENT, 'SA');
    b.in('tcp', CLIENT, VIP, 'A');
    b.in('tcp', CLIENT, VIP, 'PA'); // 3: ESTABLISHED sent
    b.out('tcp', RS, CLIENT, 'FA'); // server closes: FIN_WAIT, no decision on replies
    expect(b.state('tcp', CLIENT, VIP)).toBe('FIN_WAIT');
    b.in('tcp', CLIENT, VIP, 'FA'); // TIME_WAIT: only this goes out
    const cp = b.conn('tcp', CLIENT, VIP)!.id;
    expect(sentAt(log, cp)).toEqual([3, 4]);
    expect(b.state('tcp', CLIENT, VIP)).toBe('TIME_WAIT');
  });

  it('period 0, refresh 0: once, when in_pkts equals the threshold', () => {
    const b = new Bench();
    natService(b, 'udp', {}, '10.0.0.3:53', '10.1.0.31:53');
    b.e.setTunable('sync_threshold', '3 0');
    const log = record(b.e);
    for (let k = 0; k < 110; k++) b.in('udp', '203.0.113.5:5353', '10.0.0.3:53');
    expect(sentAt(log, 0)).toEqual([3]);
  });

  it('threshold 0 period 10: every tenth packet', () => {
    const b = new Bench();
    natService(b, 'udp', {}, '10.0.0.3:53', '10.1.0.31:53');
    b.e.setTunable('sync_threshold', '0 10');
    const log = record(b.e);
    for (let k = 0; k < 110; k++) b.in('udp', '203.0.113.5:5353', '10.0.0.3:53');
    expect(sentAt(log, 0)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
  });
});

/** The §5.2 worked example through a real master: decoded entries in message order. */
function workedExample(version: 0 | 1) {
  const b = new Bench();
  natService(b, 'tcp', {persistTimeout: 300 * S});
  b.e.setTunable('sync_version', String(version));
  const cfg = b.e.startDaemon({role: 'master', syncId: 5});
  const msgs: Uint8Array[] = [];
  const m = new SyncMaster(b.e, cfg, {send: (_t, msg) => msgs.push(msg)}).attach();
  const marks: number[] = [];
  const step = (fn: () => void) => {
    fn();
    marks.push(m.stats.queue.pendingEntries);
  };
  step(() => b.in('tcp', CLIENT, VIP, 'S'));
  b.out('tcp', RS, CLIENT, 'SA');
  step(() => b.in('tcp', CLIENT, VIP, 'A'));
  step(() => b.in('tcp', CLIENT, VIP, 'PA'));
  b.out('tcp', RS, CLIENT, 'FA');
  step(() => b.in('tcp', CLIENT, VIP, 'FA'));
  b.at(3);
  m.poll();
  const entries = msgs.flatMap((x) => decodeMessage(x).entries);
  return {b, m, marks, entries};
}

describe('the worked example of §5.2 (NAT, -p 300, real server closes first)', () => {
  it('version 1 appends T, T, C, T, C, T with the states, flags and timeouts of the table', () => {
    const {marks, entries} = workedExample(1);
    expect(marks).toEqual([1, 2, 4, 6]); // T | T | C T | C T
    const rows = entries.map((en) => [
      en.conn.flags & CONN_F.TEMPLATE ? 'T' : 'C', en.conn.state, en.conn.flags & ~CONN_F.NFCT, en.conn.timeout,
    ]);
    expect(rows).toEqual([
      ['T', 0, 0x1100, 300], // SYN: template state NONE
      ['T', 1, 0x1100, 300], // ACK: now ASSURED
      ['C', 1, 0x0000, 900], // request: ESTABLISHED, INACTIVE clear
      ['T', 1, 0x1100, 300],
      ['C', 5, 0x0100, 120], // FIN+ACK: TIME_WAIT forced, INACTIVE set
      ['T', 1, 0x1100, 300],
    ]);
    expect(entries.every((en) => en.conn.cport === (en.conn.flags & CONN_F.TEMPLATE ? 0 : 40000))).toBe(true);
  });

  it('version 0 appends C, T, C, T', () => {
    const {marks, entries} = workedExample(0);
    expect(marks).toEqual([0, 0, 2, 4]);
    expect(entries.map((en) => [en.conn.flags & CONN_F.TEMPLATE ? 'T' : 'C', en.conn.state])).toEqual([
      ['C', 1], ['T', 1], ['C', 5], ['T', 1],
    ]);
  });

  it('every further incoming packet adds one more T in v1 only', () => {
    for (const [version, extra] of [[1, 1], [0, 0]] as const) {
      const b = new Bench();
      natService(b, 'tcp', {persistTimeout: 300 * S});
      b.e.setTunable('sync_version', String(version));
      const log = record(b.e);
      for (const f of ['S', 'A', 'PA', 'FA']) b.in('tcp', CLIENT, VIP, f);
      const before = log.flatMap((r) => r.conns).length;
      b.in('tcp', CLIENT, VIP, 'A');
      expect(log.flatMap((r) => r.conns).length - before).toBe(extra);
    }
  });

  it('a UDP flow of four datagrams through a non-persistent service gives one entry at the 3rd', () => {
    const b = new Bench();
    natService(b, 'udp', {}, '10.0.0.3:53', '10.1.0.31:53');
    const cfg = b.e.startDaemon({role: 'master'});
    const msgs: Uint8Array[] = [];
    const m = new SyncMaster(b.e, cfg, {send: (_t, msg) => msgs.push(msg)}).attach();
    for (let k = 0; k < 4; k++) b.in('udp', '203.0.113.5:5353', '10.0.0.3:53');
    b.at(3);
    m.poll();
    const all = msgs.flatMap((x) => decodeMessage(x).entries);
    // flushed by the 3 s pass (a lone buffer leaves once it is 2 s old)
    expect(all).toHaveLength(1);
    expect(all[0]!.conn).toMatchObject({proto: 17, state: 0, timeout: 300, cport: 5353});
    expect(all[0]!.conn.flags & CONN_F.INACTIVE).toBeTruthy();
  });
});

describe('templates, persistence mode, ONE_PACKET, IPv6 in v0, deferred expiry', () => {
  it('templates bypass the packet count when period > 0; with period 0 only their own in_pkts counts', () => {
    const b = new Bench();
    natService(b, 'tcp', {persistTimeout: 300 * S});
    const log = record(b.e);
    for (let port = 1000; port < 1005; port++) b.in('tcp', `192.0.2.10:${port}`, VIP, 'S');
    const tpl = b.templates()[0]!.id;
    expect(sentAt(log, tpl)).toHaveLength(5);

    const c = new Bench();
    natService(c, 'tcp', {persistTimeout: 300 * S});
    c.e.setTunable('sync_threshold', '3 0');
    const log2 = record(c.e);
    for (let port = 1000; port < 1006; port++) c.in('tcp', `192.0.2.10:${port}`, VIP, 'S');
    const tpl2 = c.templates()[0]!.id;
    // the template's in_pkts counts 1, 2, 3... per controlled packet: sent at the third only
    expect(log2.filter((r) => r.conns.includes(tpl2)).length).toBe(1);
    expect(c.e.table.inPkts[tpl2]).toBe(6);
  });

  it('sync_persist_mode: controlled connections are never sent, their templates are', () => {
    const b = new Bench();
    natService(b, 'tcp', {persistTimeout: 300 * S});
    b.e.setTunable('sync_persist_mode', '1');
    const log = record(b.e);
    for (const f of ['S', 'A', 'PA', 'PA', 'FA']) b.in('tcp', CLIENT, VIP, f);
    const cp = b.conn('tcp', CLIENT, VIP)!.id;
    const tpl = b.templates()[0]!.id;
    expect(sentAt(log, cp)).toEqual([]);
    expect(sentAt(log, tpl)).toHaveLength(5);
  });

  it('ONE_PACKET entries are never sent; v1 still sends their template, v0 nothing', () => {
    for (const version of [1, 0]) {
      const b = new Bench();
      natService(b, 'udp', {persistTimeout: 60 * S, flags: SVC_F.ONEPACKET}, '10.0.0.3:53', '10.1.0.31:53');
      b.e.setTunable('sync_version', String(version));
      const log = record(b.e);
      for (let k = 0; k < 4; k++) b.in('udp', '203.0.113.5:5353', '10.0.0.3:53');
      const tpl = b.templates()[0]!.id;
      const all = log.flatMap((r) => r.conns);
      expect(all.every((i) => i === tpl)).toBe(true);
      expect(all.length).toBe(version === 1 ? 4 : 0);
      expect(log.map((r) => r.pkts)).toEqual([3, 3, 3, 3]); // OPS entries report sync_threshold
    }
  });

  it('IPv6 entries are skipped in version 0 and sent in version 1', () => {
    for (const version of [0, 1]) {
      const b = new Bench();
      natService(b, 'udp', {}, '[2001:db8::1]:53', '[2001:db8:1::31]:53');
      b.e.setTunable('sync_version', String(version));
      const log = record(b.e);
      for (let k = 0; k < 3; k++) b.in('udp', '[2001:db8::10]:5353', '[2001:db8::1]:53');
      expect(log.flatMap((r) => r.conns).length).toBe(version);
    }
  });

  it('a template whose expiry is deferred (it still controls a connection) is synced from the timer', () => {
    const b = new Bench();
    natService(b, 'tcp', {persistTimeout: 10 * S});
    const log = record(b.e);
    for (const f of ['S', 'A']) b.in('tcp', CLIENT, VIP, f);
    const tpl = b.templates()[0]!.id;
    const before = sentAt(log, tpl).length;
    b.at(11);
    const deferred = log.filter((r) => r.conns.includes(tpl)).slice(before);
    expect(deferred).toEqual([{now: 10 * S, pkts: 3, conns: [tpl]}]);
  });
});

describe('sync_refresh_period and sync_retries (ip_vs_sync_conn_needed refresh window)', () => {
  /** A UDP flow with one datagram at each of `times` (s), period 0 so only the refresh logic filters. */
  function refreshRun(refreshS: number, retries: number, times: number[]): number[] {
    const b = new Bench();
    natService(b, 'udp', {}, '10.0.0.3:53', '10.1.0.31:53');
    b.e.setTunable('sync_threshold', '3 0');
    b.e.setTunable('sync_refresh_period', String(refreshS));
    b.e.setTunable('sync_retries', String(retries));
    const log = record(b.e);
    for (const t of times) {
      b.at(t);
      b.in('udp', '203.0.113.5:5353', '10.0.0.3:53');
    }
    return log.filter((r) => r.conns.length).map((r) => r.now / S);
  }
  const every = (step: number, end: number) => Array.from({length: Math.floor(end / step) + 1}, (_, k) => k * step);

  it('refresh 60 s, no retries, a datagram every 10 s: resent once the expiry moved by 60 s', () => {
    expect(refreshRun(60, 0, every(10, 200))).toEqual([0, 60, 120, 180]);
  });

  it('the window is min(refresh, max(timeout/2, 10 s)): refresh 200 s on a 300 s UDP entry gives 150 s', () => {
    expect(refreshRun(200, 0, every(10, 320))).toEqual([0, 150, 300]);
  });

  it('retries 2, every 10 s: two extra copies, each at least refresh/8 after the previous send', () => {
    // t=10: 10 s >= 7.5 s after the send at 0 -> retry 1; t=20 -> retry 2; t=30..80 inside the
    // window (the retry count shifts the stored expiry by 2 ms: 80 s gives a 59.998 s drift)
    expect(refreshRun(60, 2, every(10, 200))).toEqual([0, 10, 20, 90, 100, 110, 180, 190, 200]);
  });

  it('retries 1, every second: the retry waits refresh/8 = 7.5 s', () => {
    expect(refreshRun(60, 1, every(1, 150))).toEqual([0, 8, 69, 77, 138, 146]);
  });

  it('state changes skip the window: a TCP close is sent at once even just after a refresh send', () => {
    const b = new Bench();
    natService(b, 'tcp');
    b.e.setTunable('sync_threshold', '3 0');
    b.e.setTunable('sync_refresh_period', '60');
    const log = record(b.e);
    b.in('tcp', CLIENT, VIP, 'S');
    b.in('tcp', CLIENT, VIP, 'A'); // ESTABLISHED: force=1 but ESTABLISHED goes through the window: sent
    b.at(1);
    b.in('tcp', CLIENT, VIP, 'A'); // 1 s later: inside the window, no retries
    b.in('tcp', CLIENT, VIP, 'FA'); // CLOSE_WAIT: forced
    const cp = b.conn('tcp', CLIENT, VIP)!.id;
    expect(sentAt(log, cp)).toEqual([2, 4]);
  });
});
