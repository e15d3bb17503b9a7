// The master's buffering and sending on virtual time (ip_vs_sync.c: sb_queue_tail, sync_thread_master): sync_maxlen, the 20 ms send
// delay, the wake-up after 8 buffers, the 2 s flush on the 1 s check period, sync_qlen_max, version
// switches, nr_conns wrap-around, threads, and stop.
import {describe, expect, it} from 'vitest';
import {decodeMessage} from '../src/sync/codec.js';
import {SyncMaster} from '../src/sync/master.js';
import {Bench, svcKey} from './helpers/engine-fixture.js';

interface Sent {
  thread: number;
  at: number;
  msg: Uint8Array;
}

/** A UDP service where every datagram of a flow is synced (threshold 0, period 1). */
function setup(opts: {syncMaxLen?: number; qlen?: number; version?: number; ports?: number} = {}) {
  const b = new Bench();
  b.service('udp', '10.0.0.3:53', {scheduler: 'rr'});
  b.dest(svcKey('udp', '10.0.0.3:53'), '10.1.0.31:53', {fwd: 'masq'});
  b.e.setTunable('sync_threshold', '0 1');
  if (opts.qlen !== undefined) b.e.setTunable('sync_qlen_max', String(opts.qlen));
  if (opts.version !== undefined) b.e.setTunable('sync_version', String(opts.version));
  if (opts.ports !== undefined) b.e.setTunable('sync_ports', String(opts.ports));
  const cfg = b.e.startDaemon({role: 'master', syncId: 9, syncMaxLen: opts.syncMaxLen ?? 0});
  const sent: Sent[] = [];
  const m = new SyncMaster(b.e, cfg, {send: (thread, msg, at) => sent.push({thread, at, msg})}).attach();
  let port = 1024;
  /** One datagram of a new flow at virtual time t ms: one entry appended. */
  const flow = (t: number) => {
    b.e.tick(t);
    b.in('udp', `203.0.113.5:${port++}`, '10.0.0.3:53');
  };
  /** Advance to t ms, running the master on the way (as a daemon's loop would). */
  const until = (t: number) => {
    for (let x = b.e.now; x <= t; x += 10) {
      b.e.tick(x);
      m.poll();
    }
  };
  const summary = () => sent.map((s) => [s.at, decodeMessage(s.msg).entries.length]);
  return {b, m, sent, flow, until, summary};
}

describe('sending schedule', () => {
  it('a lone entry leaves with the first check pass at which its buffer is 2 s old', () => {
    const {flow, until, summary, m} = setup();
    flow(100);
    until(5000);
    // passes at 0, 1000, 2000 (age 1900), 3000 (age 2900)
    expect(summary()).toEqual([[3000, 1]]);
    expect(m.stats.messages.sent).toBe(1);
    expect(m.stats.lastMessageAt).toBe(3000);
  });

  it('a full buffer is queued and sent 20 ms later; the default sync_maxlen 1472 holds 40 IPv4 entries', () => {
    const {flow, until, summary, sent, m} = setup();
    expect(m.syncMaxLen).toBe(1472);
    for (let k = 0; k < 41; k++) flow(50);
    until(4000);
    expect(summary()).toEqual([[70, 40], [2070, 1]]);
    const first = sent[0]!.msg;
    expect(first.length).toBe(8 + 40 * 36);
    expect([first[0], first[1], first[4], first[5]]).toEqual([0, 9, 40, 1]);
  });

  it('the thread wakes at once after 8 queued buffers', () => {
    const {flow, until, summary} = setup({syncMaxLen: 44}); // one entry per buffer
    for (let k = 0; k < 10; k++) flow(50);
    until(4000);
    expect(summary()).toEqual([
      [50, 1], [50, 1], [50, 1], [50, 1], [50, 1], [50, 1], [50, 1], [50, 1], [70, 1], [2070, 1],
    ]);
  });

  it('sync_qlen_max: buffers beyond the queue limit are discarded and counted', () => {
    const {flow, until, summary, m} = setup({syncMaxLen: 44, qlen: 2});
    for (let k = 0; k < 5; k++) flow(50);
    expect(m.stats.queue).toMatchObject({length: 2, max: 2, perThread: [2], pendingEntries: 1, dropped: 2});
    until(4000);
    expect(summary()).toEqual([[70, 1], [70, 1], [2070, 1]]);
    expect(m.stats.messages.rejected).toEqual({'queue-full': 2});
    expect(m.stats.entries.rejected).toEqual({'queue-full': 2});
  });

  it('switching sync_version queues the current buffer (the header format differs)', () => {
    const {b, flow, until, sent} = setup();
    flow(10);
    flow(20);
    b.e.setTunable('sync_version', '0');
    flow(30);
    b.e.setTunable('sync_version', '1');
    flow(40);
    until(4000);
    const decoded = sent.map((s) => decodeMessage(s.msg));
    expect(decoded.map((d) => [d.version, d.entries.length])).toEqual([[1, 2], [0, 1], [1, 1]]);
    // the wake-up at 50 shifts the thread's 1 s passes: 1050, then 2050 when the last buffer is 2010 ms old
    expect(sent.map((s) => s.at)).toEqual([50, 50, 2050]);
  });

  it('v0: nr_conns is 8 bits; a buffer that wrapped to 0 is queued at the next entry', () => {
    const {flow, until, sent} = setup({version: 0, syncMaxLen: 8000});
    for (let k = 0; k < 257; k++) flow(10);
    until(4000);
    expect(sent).toHaveLength(2);
    const first = sent[0]!.msg;
    expect(first[0]).toBe(0); // 256 entries, nr_conns wrapped
    expect(first.length).toBe(4 + 256 * 24);
    expect(decodeMessage(first)).toMatchObject({ok: true, version: 0, nrConns: 0, entries: []});
    expect(decodeMessage(sent[1]!.msg).entries).toHaveLength(1);
  });

  it('v1: with sync_maxlen 9224, 256 plain IPv4 entries fill a message whose nr_conns reads 0', () => {
    const {flow, until, sent, m} = setup({syncMaxLen: 9224});
    for (let k = 0; k < 257; k++) flow(10);
    until(4000);
    const first = sent[0]!.msg;
    expect(first.length).toBe(9224);
    expect(first[4]).toBe(0);
    expect(decodeMessage(first).entries).toEqual([]);
    expect(m.stats.entries.sent).toBe(257);
  });

  it('sync_ports 2: two threads, each entry on its own thread, ports chosen per entry', () => {
    const {flow, until, sent, m} = setup({ports: 2});
    expect(m.threadCount).toBe(2);
    for (let k = 0; k < 6; k++) flow(10);
    until(4000);
    expect(sent.map((s) => [s.thread, decodeMessage(s.msg).entries.length]).sort()).toEqual([[0, 3], [1, 3]]);
  });

  it('stop releases queued and current buffers unsent', () => {
    const {flow, m, sent} = setup({syncMaxLen: 44});
    for (let k = 0; k < 3; k++) flow(10);
    m.stop();
    m.poll(10_000);
    expect(sent).toHaveLength(0);
    expect(m.stats.messages.rejected).toEqual({stopped: 3});
    expect(m.stats.queue).toMatchObject({length: 0, pendingEntries: 0});
  });

  it('buffers are queued only while the master role runs in the engine', () => {
    const {b, flow, until, m, sent} = setup({syncMaxLen: 44});
    flow(10);
    b.e.syncState = 0; // role gone from the engine under the daemon's feet
    m.syncConn(0, 0); // force an append attempt: the full buffer cannot be queued
    until(4000);
    expect(m.stats.messages.rejected).toEqual({'queue-full': 1});
    // the current buffer still leaves with the 2 s flush (get_curr_sync_buff does not look at the state)
    expect(sent.map((s) => decodeMessage(s.msg).entries.length)).toEqual([1]);
  });
});
