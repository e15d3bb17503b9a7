import {describe, expect, it} from 'vitest';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

const VIP = '10.0.0.1:80';
const C = '192.0.2.10:40000';
const RS1 = '10.1.0.1:80', RS2 = '10.1.0.2:80';

/**
 * The setup for ip_vs_in's conn_reuse_mode cases (ip_vs_core.c): the old entry lives on rs2 and the scheduler's next pick is rs1.
 * rr over list [rs2, rs1] (rs1 added first, rs2 newest): first pick rs2, next rs1.
 */
function setup(fwd: 'masq' | 'route' = 'masq') {
  const b = new Bench();
  const key = svcKey('tcp', VIP);
  b.service('tcp', VIP, {scheduler: 'rr'});
  const rs1 = b.dest(key, RS1, {fwd});
  const rs2 = b.dest(key, RS2, {fwd});
  return {b, key, rs1, rs2};
}

function timeWait(b: Bench) {
  b.in('tcp', C, VIP, 'S'); b.out('tcp', RS2, C, 'SA'); b.in('tcp', C, VIP, 'A');
  b.out('tcp', RS2, C, 'FA'); b.in('tcp', C, VIP, 'FA'); b.out('tcp', RS2, C, 'A');
  expect(b.state('tcp', C, VIP)).toBe('TIME_WAIT');
}

describe('port reuse (conn_reuse_mode, is_new_conn_expected)', () => {
  it('conn_reuse_mode 0: a SYN on a TIME_WAIT entry reuses it (TIME_WAIT -> SYN_RECV), same server', () => {
    const {b, rs2} = setup();
    b.e.setTunable('conn_reuse_mode', '0');
    timeWait(b);
    const v = b.in('tcp', C, VIP, 'S');
    expect(v).toMatchObject({action: 'forward', created: false, dest: rs2});
    expect(b.state('tcp', C, VIP)).toBe('SYN_RECV');
  });

  for (const mode of ['1', '2', '3']) {
    it(`conn_reuse_mode ${mode} reschedules a reused port in TIME_WAIT`, () => {
      const {b, rs1, rs2} = setup();
      b.e.setTunable('conn_reuse_mode', mode);
      timeWait(b);
      const v = b.in('tcp', C, VIP, 'S');
      expect(v).toMatchObject({action: 'forward', created: true, dest: rs1});
      expect(b.e.table.count).toBe(1); // the old entry left at once
      expect([rs2.activeConns, rs2.inactConns]).toEqual([0, 0]);
    });
  }

  it('conn_reuse_mode 1 reschedules a SYN on a CLOSE entry left by a client RST', () => {
    const {b, rs1} = setup();
    b.in('tcp', C, VIP, 'S'); b.in('tcp', C, VIP, 'A'); b.in('tcp', C, VIP, 'R');
    expect(b.state('tcp', C, VIP)).toBe('CLOSE');
    expect(b.in('tcp', C, VIP, 'S').dest).toBe(rs1);
  });

  it('conn_reuse_mode 1 does not reschedule an ESTABLISHED entry (ES -> ES, 900 s re-armed)', () => {
    const {b, key, rs2} = setup();
    b.in('tcp', C, VIP, 'S'); b.in('tcp', C, VIP, 'A');
    b.e.editDest(key, rs2.addr, rs2.port, {fwd: 'masq', weight: 0});
    b.at(10);
    expect(b.in('tcp', C, VIP, 'S')).toMatchObject({dest: rs2, created: false});
    expect(b.state('tcp', C, VIP)).toBe('ESTABLISHED');
    expect(b.conn('tcp', C, VIP)!.expiresIn).toBe(900 * S);
  });

  it('expire_nodest_conn=1 reschedules a SYN on any entry of a weight-0 server, whatever the state', () => {
    const {b, key, rs1, rs2} = setup();
    b.e.setTunable('conn_reuse_mode', '0');
    b.e.setTunable('expire_nodest_conn', '1');
    b.in('tcp', C, VIP, 'S'); b.in('tcp', C, VIP, 'A');
    b.e.editDest(key, rs2.addr, rs2.port, {fwd: 'masq', weight: 0});
    expect(b.in('tcp', C, VIP, 'S')).toMatchObject({dest: rs1, created: true});
  });

  it('DR FIN_WAIT without replies: modes 0/1 reuse the entry, modes 2/3 reschedule (NOOUTPUT rule)', () => {
    for (const [mode, expectNew] of [['0', false], ['1', false], ['2', true], ['3', true]] as const) {
      const {b, rs1, rs2} = setup('route');
      b.e.setTunable('conn_reuse_mode', mode);
      b.in('tcp', C, VIP, 'S'); b.in('tcp', C, VIP, 'A'); b.in('tcp', C, VIP, 'FA');
      expect(b.state('tcp', C, VIP)).toBe('FIN_WAIT');
      const v = b.in('tcp', C, VIP, 'S');
      expect(v.dest).toBe(expectNew ? rs1 : rs2);
      expect(v.created).toBe(expectNew);
    }
  });

  it('NAT FIN_WAIT after the server FIN: mode 2 reuses the entry (output was seen)', () => {
    const {b, rs2} = setup();
    b.e.setTunable('conn_reuse_mode', '2');
    b.in('tcp', C, VIP, 'S'); b.out('tcp', RS2, C, 'SA'); b.in('tcp', C, VIP, 'A'); b.out('tcp', RS2, C, 'FA');
    expect(b.state('tcp', C, VIP)).toBe('FIN_WAIT');
    expect(b.in('tcp', C, VIP, 'S')).toMatchObject({dest: rs2, created: false});
    expect(b.state('tcp', C, VIP)).toBe('SYN_RECV');
  });

  it('a TIME_WAIT entry controlled by a persistence template is never rescheduled on reuse', () => {
    const b = new Bench();
    const key = svcKey('tcp', VIP);
    b.service('tcp', VIP, {scheduler: 'rr', persistTimeout: 300 * S});
    b.dest(key, RS1, {fwd: 'masq'});
    const rs2 = b.dest(key, RS2, {fwd: 'masq'});
    b.e.setTunable('expire_quiescent_template', '1');
    timeWait(b);
    b.e.editDest(key, rs2.addr, rs2.port, {fwd: 'masq', weight: 0});
    expect(b.in('tcp', C, VIP, 'S')).toMatchObject({dest: rs2, created: false});
  });

  it('conntrack=1 with a confirmed conntrack (server RST, no FIN, FTP service present) drops the first SYN', () => {
    const {b, rs1} = setup();
    b.service('tcp', '10.0.0.1:21'); // 6.1 tracks IPVS flows only while an FTP service exists
    b.e.setTunable('conntrack', '1');
    b.in('tcp', C, VIP, 'S'); b.out('tcp', RS2, C, 'SA'); b.in('tcp', C, VIP, 'A'); b.out('tcp', RS2, C, 'RA');
    expect(b.state('tcp', C, VIP)).toBe('CLOSE');
    expect(b.in('tcp', C, VIP, 'S')).toMatchObject({action: 'drop', reason: 'conntrack-reuse'});
    expect(b.conn('tcp', C, VIP)).toBeNull(); // old entry expired
    b.at(1);
    expect(b.in('tcp', C, VIP, 'S')).toMatchObject({action: 'forward', created: true, dest: rs1});
  });

  it('conntrack=1 after a FIN exchange: the SYN gets a fresh conntrack and is rescheduled at once', () => {
    const {b, rs1} = setup();
    b.service('tcp', '10.0.0.1:21');
    b.e.setTunable('conntrack', '1');
    timeWait(b);
    expect(b.in('tcp', C, VIP, 'S')).toMatchObject({action: 'forward', created: true, dest: rs1});
  });
});

describe('destination not available (expire_nodest_conn)', () => {
  function established() {
    const {b, key, rs1, rs2} = setup();
    b.in('tcp', C, VIP, 'S'); b.out('tcp', RS2, C, 'SA'); b.in('tcp', C, VIP, 'A');
    return {b, key, rs1, rs2};
  }

  it('expire_nodest_conn=0: packets of a deleted server\'s entry are dropped and do not re-arm it', () => {
    const {b, key, rs2} = established();
    b.at(10);
    b.e.delDest(key, rs2.addr, rs2.port);
    b.at(20);
    expect(b.in('tcp', C, VIP, 'PA')).toMatchObject({action: 'drop', reason: 'dest-unavailable'});
    b.at(30);
    expect(Math.floor(b.conn('tcp', C, VIP)!.expiresIn / S)).toBe(870); // 14:30, counted from t=0
    expect(b.conn('tcp', C, VIP)!.daddr).toBe(rs2.addr);
  });

  it('expire_nodest_conn=1: deleting the server flushes its entries one tick later', () => {
    const {b, key, rs2} = established();
    b.e.setTunable('expire_nodest_conn', '1');
    b.at(10);
    b.e.delDest(key, rs2.addr, rs2.port);
    b.at(10.001);
    expect(b.conn('tcp', C, VIP)).toBeNull();
    // the client's next segment finds no entry and is not a SYN: accepted to the local stack
    expect(b.in('tcp', C, VIP, 'PA')).toMatchObject({action: 'accept', reason: 'first-packet-filter'});
  });

  it('the flush also removes entries of servers deleted earlier while the sysctl was 0', () => {
    const {b, key, rs1, rs2} = established();
    b.e.delDest(key, rs2.addr, rs2.port);
    b.at(1);
    const C2 = '192.0.2.11:5000';
    b.in('tcp', C2, VIP, 'S');
    expect(b.conn('tcp', C2, VIP)!.daddr).toBe(rs1.addr);
    b.e.setTunable('expire_nodest_conn', '1');
    b.e.delDest(key, rs1.addr, rs1.port);
    b.at(2);
    expect(b.conn('tcp', C, VIP)).toBeNull();
    expect(b.conn('tcp', C2, VIP)).toBeNull();
  });

  it('a server deleted and added back before the next packet returns from the trash with its counters', () => {
    const {b, key, rs2} = established();
    b.e.delDest(key, rs2.addr, rs2.port);
    expect(rs2.activeConns).toBe(1);
    const again = b.dest(key, RS2, {fwd: 'masq', weight: 3});
    expect(again).toBe(rs2);
    expect(again.activeConns).toBe(1);
    expect(again.weight).toBe(3);
    expect(b.in('tcp', C, VIP, 'PA')).toMatchObject({action: 'forward', dest: rs2});
  });

  it('trash: an unreferenced deleted server is freed 120-180 s after its last reference', () => {
    const {b, key, rs1} = setup();
    b.e.delDest(key, rs1.addr, rs1.port);
    expect(b.e.trashList()).toContain(rs1);
    b.at(60); // first visit: idle_start = 60
    expect(b.e.trashList()).toContain(rs1);
    b.at(120); // 60 s idle: kept
    expect(b.e.trashList()).toContain(rs1);
    b.at(180); // 120 s idle: freed
    expect(b.e.trashList()).not.toContain(rs1);
    expect(b.e.getDest(rs1.id)).toBeUndefined();
  });

  it('a weight-0 server keeps serving its existing connections (not "no destination")', () => {
    const {b, key, rs2} = established();
    b.e.editDest(key, rs2.addr, rs2.port, {fwd: 'masq', weight: 0});
    expect(b.in('tcp', C, VIP, 'PA')).toMatchObject({action: 'forward', dest: rs2});
  });
});
