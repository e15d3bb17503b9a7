import {describe, expect, it} from 'vitest';
import {Engine} from '../src/engine/engine.js';
import {Stats} from '../src/engine/stats.js';
import {dhBucket, dhTable} from '../src/engine/sched/dh.js';
import {addrOf, Bench, S, svcKey} from './helpers/engine-fixture.js';

describe('UDP (ip_vs_proto_udp.c)', () => {
  it('a UDP flow lives 300 s after its last datagram and is never counted active', () => {
    const b = new Bench();
    b.service('udp', '10.0.0.1:53', {scheduler: 'rr'});
    const d = b.dest(svcKey('udp', '10.0.0.1:53'), '10.1.0.1:53', {fwd: 'masq'});
    b.in('udp', '192.0.2.1:5000', '10.0.0.1:53');
    expect(b.state('udp', '192.0.2.1:5000', '10.0.0.1:53')).toBe('UDP');
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
    b.at(100);
    b.out('udp', '10.1.0.1:53', '192.0.2.1:5000');
    b.at(399.999);
    expect(b.conn('udp', '192.0.2.1:5000', '10.0.0.1:53')).not.toBeNull();
    b.at(400);
    expect(b.conn('udp', '192.0.2.1:5000', '10.0.0.1:53')).toBeNull();
  });

  it('a NAT reply marks the UDP template ASSURED', () => {
    const b = new Bench();
    b.service('udp', '10.0.0.1:53', {scheduler: 'rr', persistTimeout: 60 * S});
    b.dest(svcKey('udp', '10.0.0.1:53'), '10.1.0.1:53', {fwd: 'masq'});
    b.in('udp', '192.0.2.1:5000', '10.0.0.1:53');
    expect(b.templates()[0]!.stateName).toBe('NONE');
    b.out('udp', '10.1.0.1:53', '192.0.2.1:5000');
    expect(b.templates()[0]!.stateName).toBe('ASSURED');
  });

  it('one-packet scheduling: each UDP datagram is scheduled alone and leaves no entry', () => {
    const b = new Bench();
    b.service('udp', '10.0.0.1:53', {scheduler: 'rr', flags: 0x4});
    const key = svcKey('udp', '10.0.0.1:53');
    const a = b.dest(key, '10.1.0.1:53', {fwd: 'masq'});
    const c = b.dest(key, '10.1.0.2:53', {fwd: 'masq'});
    const picks = [1, 2, 3, 4].map(() => b.in('udp', '192.0.2.1:5000', '10.0.0.1:53').dest);
    expect(picks).toEqual([c, a, c, a]);
    expect(b.e.table.count).toBe(0);
    expect([a.inactConns, c.inactConns]).toEqual([0, 0]);
    expect(a.stats.conns).toBe(2);
  });
});

describe('SCTP (ip_vs_proto_sctp.c)', () => {
  const VIP = '10.0.0.1:3868', C = '192.0.2.1:3868', RS = '10.1.0.1:3868';
  function sctpBench() {
    const b = new Bench();
    b.service('sctp', VIP, {scheduler: 'rr'});
    const d = b.dest(svcKey('sctp', VIP), RS, {fwd: 'masq'});
    return {b, d};
  }

  it('four-way handshake INIT, INIT_ACK, COOKIE_ECHO, COOKIE_ACK reaches ESTABLISHED (active, 900 s)', () => {
    const {b, d} = sctpBench();
    expect(b.in('sctp', C, VIP, '', {chunk: 'data'}).reason).toBe('first-packet-filter');
    b.in('sctp', C, VIP, '', {chunk: 'init'});
    expect(b.state('sctp', C, VIP)).toBe('INIT1');
    b.out('sctp', RS, C, '', {chunk: 'init_ack'});
    expect(b.state('sctp', C, VIP)).toBe('C-SENT');
    b.in('sctp', C, VIP, '', {chunk: 'cookie_echo'});
    expect(b.state('sctp', C, VIP)).toBe('C-REPLIED');
    b.out('sctp', RS, C, '', {chunk: 'cookie_ack'});
    expect(b.state('sctp', C, VIP)).toBe('ESTABLISHED');
    expect(d.activeConns).toBe(1);
    expect(b.conn('sctp', C, VIP)!.expiresIn).toBe(900 * S);
    b.in('sctp', C, VIP, '', {chunk: 'shutdown'});
    expect(b.state('sctp', C, VIP)).toBe('S-RECEIVED');
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
  });

  it('a COOKIE_ECHO bundled with an ABORT counts as ABORT; chunk types >= 15 count as DATA', () => {
    const {b} = sctpBench();
    b.in('sctp', C, VIP, '', {chunk: 'init'});
    b.in('sctp', C, VIP, '', {chunk: 'cookie_echo', nextChunk: 'abort'});
    expect(b.state('sctp', C, VIP)).toBe('CLOSED');
    const C2 = '192.0.2.2:3868';
    b.e.setTunable('sloppy_sctp', '1');
    b.in('sctp', C2, VIP, '', {chunk: '200'});
    expect(b.state('sctp', C2, VIP)).toBe('ESTABLISHED'); // INPUT d from NONE -> ES
  });

  it('an INIT on a CLOSED entry is rescheduled (conn_reuse_mode)', () => {
    const {b} = sctpBench();
    b.in('sctp', C, VIP, '', {chunk: 'init'});
    b.in('sctp', C, VIP, '', {chunk: 'abort'});
    expect(b.state('sctp', C, VIP)).toBe('CLOSED');
    expect(b.in('sctp', C, VIP, '', {chunk: 'init'}).created).toBe(true);
  });
});

describe('--set tcp tcpfin udp (ip_vs_set_timeout)', () => {
  it('changes only ESTABLISHED, FIN_WAIT and UDP; 0 keeps a value; running timers are untouched', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80', {fwd: 'masq'});
    b.at(40);
    b.in('tcp', '192.0.2.1:1000', '10.0.0.1:80', 'S'); b.in('tcp', '192.0.2.1:1000', '10.0.0.1:80', 'A');
    b.at(100);
    b.e.setTimeouts(30, 20, 10);
    expect(b.e.getTimeouts()).toEqual({tcp: 30, tcpfin: 20, udp: 10});
    expect(Math.floor(b.conn('tcp', '192.0.2.1:1000', '10.0.0.1:80')!.expiresIn / S)).toBe(840); // 14:00
    b.at(130);
    b.in('tcp', '192.0.2.1:1000', '10.0.0.1:80', 'PA');
    b.at(130.5);
    expect(Math.floor(b.conn('tcp', '192.0.2.1:1000', '10.0.0.1:80')!.expiresIn / S)).toBe(29);
    b.e.setTimeouts(0, 0, 0);
    expect(b.e.getTimeouts()).toEqual({tcp: 30, tcpfin: 20, udp: 10});
  });

  it('an out-of-range value fails the whole command with EINVAL and applies nothing', () => {
    const e = new Engine();
    expect(() => e.setTimeouts(100, 3_000_000, 5)).toThrow(/tcpfin timeout out of range/);
    expect(e.getTimeouts()).toEqual({tcp: 900, tcpfin: 120, udp: 300});
  });
});

describe('thresholds and OVERLOAD (ip_vs_bind_dest / ip_vs_unbind_dest)', () => {
  it('OVERLOAD is set at u_threshold and cleared below 75 % of it when l_threshold is 0', () => {
    const b = new Bench();
    const key = svcKey('udp', '10.0.0.1:53');
    b.service('udp', '10.0.0.1:53', {scheduler: 'rr'});
    const d = b.dest(key, '10.1.0.1:53', {fwd: 'masq', uThreshold: 4});
    for (let p = 1; p <= 4; p++) b.in('udp', `192.0.2.1:${p}`, '10.0.0.1:53');
    expect(d.flags & 2).toBe(2);
    expect(b.in('udp', '192.0.2.1:99', '10.0.0.1:53')).toMatchObject({action: 'drop', reason: 'no-destination'});
    // expire one by one: 3*4 < 12 is false (keep OVERLOAD), 2*4 < 12 is true (clear)
    b.e.setTimeouts(0, 0, 1);
    b.at(100); b.in('udp', '192.0.2.1:1', '10.0.0.1:53'); // re-armed with 1 s
    b.at(101);
    expect(d.inactConns).toBe(3);
    expect(d.flags & 2).toBe(2);
    b.at(150); b.in('udp', '192.0.2.1:2', '10.0.0.1:53');
    b.at(151);
    expect(d.inactConns).toBe(2);
    expect(d.flags & 2).toBe(0);
  });

  it('l_threshold > u_threshold is rejected with ERANGE and changes nothing', () => {
    const b = new Bench();
    const key = svcKey('tcp', '10.0.0.1:80');
    b.service('tcp', '10.0.0.1:80');
    expect(() => b.dest(key, '10.1.0.1:80', {uThreshold: 5, lThreshold: 6})).toThrow(/ERANGE|above upper/);
    expect(b.e.getService(key)!.dests).toHaveLength(0);
  });

  it('editing a dest clears OVERLOAD only when u_threshold is removed or raised', () => {
    const b = new Bench();
    const key = svcKey('udp', '10.0.0.1:53');
    b.service('udp', '10.0.0.1:53', {scheduler: 'rr'});
    const d = b.dest(key, '10.1.0.1:53', {fwd: 'masq', uThreshold: 1});
    b.in('udp', '192.0.2.1:1', '10.0.0.1:53');
    expect(d.flags & 2).toBe(2);
    b.e.editDest(key, d.addr, d.port, {fwd: 'masq', uThreshold: 1});
    expect(d.flags & 2).toBe(2);
    b.e.editDest(key, d.addr, d.port, {fwd: 'masq', uThreshold: 5});
    expect(d.flags & 2).toBe(0);
  });
});

describe('configuration errors (ip_vs_ctl.c)', () => {
  it('add an existing service -> EEXIST; missing service -> ESRCH; unknown scheduler -> ENOENT', () => {
    const b = new Bench();
    const key = svcKey('tcp', '10.0.0.1:80');
    b.service('tcp', '10.0.0.1:80');
    expect(() => b.service('tcp', '10.0.0.1:80')).toThrow(expect.objectContaining({errno: 'EEXIST'}));
    expect(() => b.e.editService(svcKey('tcp', '10.0.0.9:80'))).toThrow(expect.objectContaining({errno: 'ESRCH'}));
    expect(() => b.service('tcp', '10.0.0.2:80', {scheduler: 'nope'})).toThrow(expect.objectContaining({errno: 'ENOENT'}));
    expect(b.e.listServices()).toHaveLength(1);
    b.dest(key, '10.1.0.1:80');
    expect(() => b.dest(key, '10.1.0.1:80')).toThrow(expect.objectContaining({errno: 'EEXIST'}));
    expect(() => b.e.delDest(key, 0x0a010009, 80)).toThrow(expect.objectContaining({errno: 'ENOENT'}));
    expect(() => b.dest(key, '10.1.0.2:80', {weight: -1})).toThrow(expect.objectContaining({errno: 'ERANGE'}));
  });

  it('new real servers go to the head of the list (newest first)', () => {
    const b = new Bench();
    const key = svcKey('tcp', '10.0.0.1:80');
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    b.dest(key, '10.1.0.1:80'); b.dest(key, '10.1.0.2:80'); b.dest(key, '10.1.0.3:80');
    expect(b.e.getService(key)!.dests.map((d) => d.addr)).toEqual([0x0a010003, 0x0a010002, 0x0a010001]);
    // rr starts at the newest real server
    const picks = [1, 2, 3, 4].map((i) => b.in('tcp', `192.0.2.1:${i}`, '10.0.0.1:80', 'S').dest!.addr);
    expect(picks).toEqual([0x0a010003, 0x0a010002, 0x0a010001, 0x0a010003]);
  });

  it('editing a service to another scheduler keeps existing connections', () => {
    const b = new Bench();
    const key = svcKey('tcp', '10.0.0.1:80');
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    b.dest(key, '10.1.0.1:80');
    b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'S');
    b.e.editService(key, {scheduler: 'wlc'});
    expect(b.e.getService(key)!.scheduler).toBe('wlc');
    expect(b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'A')).toMatchObject({action: 'forward', created: false});
  });
});

describe('rate estimator (ip_vs_est.c)', () => {
  it('100 new connections every 2 s shows 12, 22, 29, 34, 38 ... converging to 50', () => {
    const s = new Stats();
    const shown: number[] = [];
    const fp: number[] = [];
    for (let k = 0; k < 5; k++) {
      s.conns += 100;
      s.estimate();
      shown.push(s.rates().cps);
      fp.push(s.fixedPointRates().cps);
    }
    expect(fp).toEqual([12800, 22400, 29600, 35000, 39050]);
    expect(shown).toEqual([12, 22, 29, 34, 38]);
    for (let k = 0; k < 100; k++) { s.conns += 100; s.estimate(); }
    expect(s.rates().cps).toBe(50);
  });

  it('read-out rounds to nearest with exact halves down; bytes use 2^5 scaling', () => {
    const s = new Stats();
    s.inbytes += 50; // sample 50*16 = 800, /4 = 200 -> (200+15)>>5 = 6 (6.25)
    s.estimate();
    expect(s.fixedPointRates().inbps).toBe(200);
    expect(s.rates().inbps).toBe(6);
  });

  it('zeroing makes the counters the new zero point and restarts rates from 0', () => {
    const s = new Stats();
    s.conns = 10; s.estimate();
    s.zero();
    expect(s.read().conns).toBe(0);
    expect(s.rates().cps).toBe(0);
    s.conns += 2;
    expect(s.read().conns).toBe(2);
  });

  it('run_estimation=0 freezes rates while counters keep counting', () => {
    const b = new Bench();
    b.service('udp', '10.0.0.1:53', {scheduler: 'rr'});
    b.dest(svcKey('udp', '10.0.0.1:53'), '10.1.0.1:53');
    for (let i = 0; i < 100; i++) b.in('udp', `192.0.2.1:${1000 + i}`, '10.0.0.1:53');
    b.at(2);
    const r = b.e.totStats.rates().cps;
    expect(r).toBe(12);
    b.e.setTunable('run_estimation', '0');
    for (let i = 0; i < 100; i++) b.in('udp', `192.0.2.2:${1000 + i}`, '10.0.0.1:53');
    b.at(10);
    expect(b.e.totStats.rates().cps).toBe(12);
    expect(b.e.totStats.read().conns).toBe(200);
  });
});

describe('debug_level (IP_VS_DBG)', () => {
  it('records a message only when debug_level is at least its level', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80');
    b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'S');
    expect(b.e.log.since()).toHaveLength(0);
    b.e.setTunable('debug_level', '8');
    b.in('tcp', '192.0.2.1:2', '10.0.0.1:80', 'S');
    const lines = b.e.log.since();
    expect(lines.some((l) => l.level === 8 && /NONE->SYN_RECV/.test(l.msg))).toBe(true);
    expect(lines.some((l) => l.level === 6 && /rr: TCP 192.0.2.1:2->10.0.0.1:80 -> 10.1.0.1:80/.test(l.msg))).toBe(true);
    expect(lines.every((l) => l.level <= 8)).toBe(true);
  });
});

describe('other packet-path tunables', () => {
  it('backup_only drops the director function only while the backup daemon runs', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80');
    b.e.setTunable('backup_only', '1');
    expect(b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'S').action).toBe('forward');
    b.e.startDaemon({role: 'backup'});
    expect(b.in('tcp', '192.0.2.1:2', '10.0.0.1:80', 'S')).toMatchObject({action: 'accept', reason: 'backup-only'});
    expect(() => b.e.startDaemon({role: 'backup'})).toThrow(expect.objectContaining({errno: 'EEXIST'}));
    b.e.stopDaemon('backup');
    expect(() => b.e.stopDaemon('backup')).toThrow(expect.objectContaining({errno: 'ESRCH'}));
  });

  it('no destination: ICMP port unreachable is sent and the packet dropped', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    const v = b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'S');
    expect(v).toMatchObject({action: 'drop', reason: 'no-destination', icmpSent: {type: 3, code: 3}});
  });

  it('cache_bypass forwards a fwmark packet with no destination unchanged to its original address', () => {
    const b = new Bench();
    b.fwmarkService(1, {scheduler: 'rr'});
    b.e.setTunable('cache_bypass', '1');
    const v = b.in('tcp', '192.0.2.1:1', '203.0.113.5:80', 'S', {fwmark: 1});
    expect(v).toMatchObject({action: 'bypass', created: true});
    expect(b.e.conn(v.conn)!.fwd).toBe('bypass');
  });

  it('nat_icmp_send answers a NAT real server packet that matches no entry, except RST', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80', {fwd: 'masq'});
    expect(b.out('tcp', '10.1.0.1:80', '192.0.2.1:1', 'A')).toMatchObject({action: 'accept', reason: 'no-entry'});
    b.e.setTunable('nat_icmp_send', '1');
    expect(b.out('tcp', '10.1.0.1:80', '192.0.2.1:1', 'A')).toMatchObject({action: 'drop', reason: 'nat-icmp-send'});
    expect(b.out('tcp', '10.1.0.1:80', '192.0.2.1:1', 'R')).toMatchObject({action: 'accept'});
  });

  it('pmtu_disc: a DF packet too big is refused with frag-needed; tunnel may fragment only with pmtu_disc=0', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80', {fwd: 'tunnel'});
    b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'S');
    expect(b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'A', {len: 1490, df: true}))
      .toMatchObject({action: 'drop', reason: 'frag-needed', icmpSent: {type: 3, code: 4}});
    b.e.setTunable('pmtu_disc', '0');
    expect(b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'A', {len: 1490, df: true}).action).toBe('forward');
  });

  it('ICMP about an existing entry counts input stats but neither changes state nor re-arms the timer', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    const d = b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80', {fwd: 'masq'});
    b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'S'); b.in('tcp', '192.0.2.1:1', '10.0.0.1:80', 'A');
    b.at(20);
    const before = d.stats.inpkts;
    for (let k = 0; k < 3; k++) {
      const v = b.e.inbound({
        af: 4, proto: 1, src: 0xc0000201, sport: 0, dst: 0x0a000001, dport: 0, tcpFlags: 0,
        sctpChunk: 0, sctpChunkLen: 0, sctpNextChunk: -1, len: 56, fwmark: 0, df: false,
        icmp: {type: 3, code: 3, checksumOk: true, inner: {
          af: 4, proto: 6, src: 0x0a000001, sport: 80, dst: 0xc0000201, dport: 1, tcpFlags: 0x10,
          sctpChunk: 0, sctpChunkLen: 0, sctpNextChunk: -1, len: 40, fwmark: 0, df: false, icmp: null}},
      });
      expect(v.action).toBe('forward');
    }
    expect(d.stats.inpkts - before).toBe(3);
    expect(Math.floor(b.conn('tcp', '192.0.2.1:1', '10.0.0.1:80')!.expiresIn / S)).toBe(880); // 14:40
    expect(b.state('tcp', '192.0.2.1:1', '10.0.0.1:80')).toBe('ESTABLISHED');
  });
});

describe('ignore_tunneled', () => {
  it('an IPIP packet is accepted; with ignore_tunneled it is marked IPVS-owned', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
    const ipip = {af: 4 as const, proto: 4, src: 0xc0000201, sport: 0, dst: 0x0a000001, dport: 0, tcpFlags: 0,
      sctpChunk: 0, sctpChunkLen: 0, sctpNextChunk: -1, len: 80, fwmark: 0, df: false, icmp: null};
    expect(b.e.inbound(ipip)).toMatchObject({action: 'accept', reason: 'unsupported-proto'});
    b.e.setTunable('ignore_tunneled', '1');
    expect(b.e.inbound(ipip)).toMatchObject({action: 'accept', reason: 'tunneled-ignored'});
  });
});

describe('schedule_icmp hands schedulers the embedded packet as carried (IP_VS_HDR_INVERSE)', () => {
  const icmpAbout = (client: string, cport: number) => ({
    af: 4 as const, proto: 1, src: addrOf(client), sport: 0, dst: 0x0a000001, dport: 0, tcpFlags: 0,
    sctpChunk: 0, sctpChunkLen: 0, sctpNextChunk: -1, len: 56, fwmark: 0, df: false,
    icmp: {type: 3, code: 4, checksumOk: true, inner: {
      af: 4 as const, proto: 6, src: 0x0a000001, sport: 80, dst: addrOf(client), dport: cport, tcpFlags: 0x12,
      sctpChunk: 0, sctpChunkLen: 0, sctpNextChunk: -1, len: 1500, fwmark: 0, df: true, icmp: null}},
  });
  const servers = ['10.1.0.1:80', '10.1.0.2:80', '10.1.0.3:80', '10.1.0.4:80', '10.1.0.5:80'];

  it('dh keys on the embedded destination, i.e. the client, where a normal packet keys on the VIP', () => {
    const b = new Bench();
    const svc = b.service('tcp', '10.0.0.1:80', {scheduler: 'dh'});
    for (const rs of servers) b.dest(svcKey('tcp', '10.0.0.1:80'), rs);
    b.e.setTunable('schedule_icmp', '1');
    const table = dhTable(svc);
    // pick a client whose bucket differs from the VIP's
    const client = ['192.0.2.7', '192.0.2.8', '192.0.2.9', '198.51.100.77'].find((c) => table[dhBucket(addrOf(c))] !== table[dhBucket(0x0a000001)])!;
    expect(b.in('tcp', `${client}:5000`, '10.0.0.1:80', 'S').dest).toBe(table[dhBucket(0x0a000001)]);
    const v = b.e.inbound(icmpAbout(client, 6000));
    expect(v.created).toBe(true);
    expect(v.dest).toBe(table[dhBucket(addrOf(client))]);
    expect(b.conn('tcp', `${client}:6000`, '10.0.0.1:80')).not.toBeNull();
  });

  it('sh swaps back: the ICMP-created entry goes where the client\'s own SYN would', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80', {scheduler: 'sh', flags: 0x10}); // sh-port
    for (const rs of servers) b.dest(svcKey('tcp', '10.0.0.1:80'), rs);
    b.e.setTunable('schedule_icmp', '1');
    const viaIcmp = {...b.e.inbound(icmpAbout('192.0.2.44', 7000))};
    expect(viaIcmp.created).toBe(true);
    const c = new Bench();
    c.service('tcp', '10.0.0.1:80', {scheduler: 'sh', flags: 0x10});
    for (const rs of servers) c.dest(svcKey('tcp', '10.0.0.1:80'), rs);
    expect(c.in('tcp', '192.0.2.44:7000', '10.0.0.1:80', 'S').dest!.addr).toBe(viaIcmp.dest!.addr);
  });
});

describe('real server address check (ip_vs_new_dest)', () => {
  it('refuses multicast, broadcast, 0.0.0.0/8, IPv6 multicast and link-local with EINVAL; loopback is fine', () => {
    const b = new Bench();
    b.service('tcp', '10.0.0.1:80');
    b.service('tcp', '[2001:db8::1]:80');
    const k4 = svcKey('tcp', '10.0.0.1:80'), k6 = svcKey('tcp', '[2001:db8::1]:80');
    for (const bad of ['224.0.0.1:80', '255.255.255.255:80', '0.1.2.3:80']) {
      expect(() => b.dest(k4, bad)).toThrow(expect.objectContaining({errno: 'EINVAL'}));
    }
    for (const bad of ['[ff02::1]:80', '[fe80::1]:80', '[::]:80']) {
      expect(() => b.dest(k6, bad)).toThrow(expect.objectContaining({errno: 'EINVAL'}));
    }
    expect(b.e.getService(k4)!.dests).toHaveLength(0);
    b.dest(k4, '127.0.0.1:8080');
    b.dest(k4, '10.1.0.1:80');
    b.dest(k6, '[2001:db8::10]:80');
    b.dest(k6, '[::1]:80');
    expect(b.e.getService(k4)!.dests).toHaveLength(2);
  });
});
