import {describe, expect, it} from 'vitest';
import {DIR, TCP_STATE, TCP_STATES_NORMAL, TCP_STATES_SECURE, tcpNextState} from '../src/engine/proto/tcp.js';
import {parseTcpFlags} from '../src/engine/packet.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

const VIP = '10.0.0.1:80';
const C = '192.0.2.10:40000';
const RS = '10.1.0.2:8080';

function natBench(opts = {}) {
  const b = new Bench(opts);
  b.service('tcp', VIP, {scheduler: 'rr'});
  const d = b.dest(svcKey('tcp', VIP), RS, {fwd: 'masq'});
  return {b, d};
}

function drBench() {
  const b = new Bench();
  b.service('tcp', VIP, {scheduler: 'rr'});
  const d = b.dest(svcKey('tcp', VIP), '10.1.0.2:80', {fwd: 'route'});
  return {b, d};
}

describe('TCP state machine (ip_vs_proto_tcp.c)', () => {
  it('tcp_state_idx: RST beats SYN beats FIN beats ACK; no flags forces CLOSE', () => {
    // SYN+ACK is a syn event, FIN+ACK a fin event, RST+ACK an rst event
    expect(tcpNextState(false, DIR.INPUT, parseTcpFlags('SA'), TCP_STATE.NONE)).toBe(TCP_STATE.SYN_RECV);
    expect(tcpNextState(false, DIR.INPUT, parseTcpFlags('FA'), TCP_STATE.ESTABLISHED)).toBe(TCP_STATE.CLOSE_WAIT);
    expect(tcpNextState(false, DIR.INPUT, parseTcpFlags('RA'), TCP_STATE.ESTABLISHED)).toBe(TCP_STATE.CLOSE);
    expect(tcpNextState(false, DIR.INPUT, parseTcpFlags('RS'), TCP_STATE.NONE)).toBe(TCP_STATE.CLOSE);
    expect(tcpNextState(false, DIR.INPUT, 0, TCP_STATE.ESTABLISHED)).toBe(TCP_STATE.CLOSE);
    expect(tcpNextState(true, DIR.OUTPUT, parseTcpFlags('P'), TCP_STATE.SYN_RECV)).toBe(TCP_STATE.CLOSE);
  });

  it('secure table differs from the normal table exactly in the cells where tcp_states_dos differs from tcp_states (ip_vs_proto_tcp.c)', () => {
    const diffs: string[] = [];
    const names = ['NO', 'ES', 'SS', 'SR', 'FW', 'TW', 'CL', 'CW', 'LA', 'LI', 'SA'];
    for (let d = 0; d < 3; d++) for (let ev = 0; ev < 4; ev++) for (let s = 0; s < 11; s++) {
      const a = TCP_STATES_NORMAL[d]![ev]![s], b = TCP_STATES_SECURE[d]![ev]![s];
      if (a !== b) diffs.push(`${['IN', 'OUT', 'IO'][d]}:${['syn', 'fin', 'ack', 'rst'][ev]}/${names[s]}->${names[b!]}`);
    }
    expect(diffs.sort()).toEqual([
      'IN:ack/SA->SA', 'IN:ack/SR->SR', 'IN:fin/SA->SA', 'IN:rst/SA->CL', 'IN:syn/SA->SA',
      'IO:syn/CL->SA', 'IO:syn/CW->SA', 'IO:syn/FW->SA', 'IO:syn/LA->SA', 'IO:syn/LI->SA', 'IO:syn/NO->SA',
      'IO:syn/SA->SA', 'IO:syn/TW->SA',
      'OUT:syn/SA->SA', 'OUT:syn/SR->SA',
    ].sort());
  });

  it('NAT clean close, client first: SR, ES, CW, TW and gone 120 s after the last packet', () => {
    const {b, d} = natBench();
    expect(b.in('tcp', C, VIP, 'S').action).toBe('forward');
    expect(b.state('tcp', C, VIP)).toBe('SYN_RECV');
    b.out('tcp', RS, C, 'SA');
    expect(b.state('tcp', C, VIP)).toBe('SYN_RECV');
    b.in('tcp', C, VIP, 'A');
    expect(b.state('tcp', C, VIP)).toBe('ESTABLISHED');
    expect(b.conn('tcp', C, VIP)!.expiresIn).toBe(900 * S);
    expect([d.activeConns, d.inactConns]).toEqual([1, 0]);
    b.in('tcp', C, VIP, 'FA');
    expect(b.state('tcp', C, VIP)).toBe('CLOSE_WAIT');
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
    b.out('tcp', RS, C, 'A');
    expect(b.state('tcp', C, VIP)).toBe('CLOSE_WAIT');
    b.out('tcp', RS, C, 'FA');
    expect(b.state('tcp', C, VIP)).toBe('TIME_WAIT');
    b.at(1);
    b.in('tcp', C, VIP, 'A');
    expect(b.state('tcp', C, VIP)).toBe('TIME_WAIT');
    b.at(120.999);
    expect(b.conn('tcp', C, VIP)).not.toBeNull();
    b.at(121);
    expect(b.conn('tcp', C, VIP)).toBeNull();
    expect([d.activeConns, d.inactConns]).toEqual([0, 0]);
  });

  it('NAT server closes first: FIN_WAIT uses the tcpfin timeout, then TIME_WAIT', () => {
    const {b} = natBench();
    b.e.setTimeouts(0, 20, 0);
    b.in('tcp', C, VIP, 'S'); b.out('tcp', RS, C, 'SA'); b.in('tcp', C, VIP, 'A');
    b.out('tcp', RS, C, 'FA');
    expect(b.state('tcp', C, VIP)).toBe('FIN_WAIT');
    expect(b.conn('tcp', C, VIP)!.expiresIn).toBe(20 * S);
    b.in('tcp', C, VIP, 'FA');
    expect(b.state('tcp', C, VIP)).toBe('TIME_WAIT');
  });

  it('SYN_RECV times out after 60 s; each retransmitted SYN re-arms 60 s', () => {
    const {b, d} = natBench();
    b.in('tcp', C, VIP, 'S');
    expect([d.activeConns, d.inactConns]).toEqual([1, 0]);
    b.at(1); b.in('tcp', C, VIP, 'S');
    b.at(3); b.in('tcp', C, VIP, 'S');
    b.at(62.999);
    expect(b.state('tcp', C, VIP)).toBe('SYN_RECV');
    b.at(63);
    expect(b.conn('tcp', C, VIP)).toBeNull();
    expect([d.activeConns, d.inactConns]).toEqual([0, 0]);
  });

  it('SYN to a port nobody listens on: server RST moves SYN_RECV to CLOSE (10 s)', () => {
    const {b} = natBench();
    b.in('tcp', C, VIP, 'S');
    b.out('tcp', RS, C, 'RA');
    expect(b.state('tcp', C, VIP)).toBe('CLOSE');
    expect(b.conn('tcp', C, VIP)!.expiresIn).toBe(10 * S);
  });

  it('DR clean close (INPUT_ONLY): the client FIN gives FIN_WAIT', () => {
    const {b} = drBench();
    b.in('tcp', C, VIP, 'S');
    expect(b.conn('tcp', C, VIP)!.flags & 0x80).toBe(0x80); // NOOUTPUT
    b.in('tcp', C, VIP, 'A');
    expect(b.state('tcp', C, VIP)).toBe('ESTABLISHED');
    b.in('tcp', C, VIP, 'FA');
    expect(b.state('tcp', C, VIP)).toBe('FIN_WAIT');
    b.in('tcp', C, VIP, 'A');
    expect(b.state('tcp', C, VIP)).toBe('FIN_WAIT');
  });

  it('DR replies routed back through the director clear NOOUTPUT and end like NAT in TIME_WAIT', () => {
    const {b} = drBench();
    b.in('tcp', C, VIP, 'S');
    const v = b.out('tcp', VIP, C, 'SA'); // real server answers from the VIP
    expect(v.action).toBe('forward');
    expect(b.conn('tcp', C, VIP)!.flags & 0x80).toBe(0);
    b.in('tcp', C, VIP, 'A');
    b.out('tcp', VIP, C, 'FA');
    expect(b.state('tcp', C, VIP)).toBe('FIN_WAIT');
    b.in('tcp', C, VIP, 'FA');
    b.out('tcp', VIP, C, 'A');
    expect(b.state('tcp', C, VIP)).toBe('TIME_WAIT');
  });

  it('every packet restarts the full timeout of the state it leaves the entry in', () => {
    const {b} = natBench();
    b.in('tcp', C, VIP, 'S'); b.out('tcp', RS, C, 'SA'); b.in('tcp', C, VIP, 'A');
    b.at(100);
    expect(b.conn('tcp', C, VIP)!.expiresIn).toBe(800 * S);
    b.out('tcp', RS, C, 'PA');
    expect(b.conn('tcp', C, VIP)!.expiresIn).toBe(900 * S);
  });

  it('a TCP packet that is not a SYN creates nothing (first-packet filter) unless sloppy_tcp', () => {
    const {b} = natBench();
    expect(b.in('tcp', C, VIP, 'A')).toMatchObject({action: 'accept', reason: 'first-packet-filter'});
    expect(b.in('tcp', C, VIP, 'SR')).toMatchObject({action: 'accept', reason: 'first-packet-filter'});
    expect(b.e.table.count).toBe(0);
    b.e.setTunable('sloppy_tcp', '1');
    expect(b.in('tcp', C, VIP, 'A')).toMatchObject({action: 'forward', created: true});
    expect(b.state('tcp', C, VIP)).toBe('ESTABLISHED');
  });
});

describe('secure_tcp (tcp_states_dos)', () => {
  it('secure_tcp=3 keeps SYNACK until the real server sends an ACK-bearing packet', () => {
    const {b, d} = natBench();
    expect(b.e.setTunable('secure_tcp', '3')).toEqual({ok: true, changed: true});
    expect(b.e.defense.secureTable).toBe(true);
    b.in('tcp', C, VIP, 'S');
    expect(b.state('tcp', C, VIP)).toBe('SYN_RECV');
    b.out('tcp', RS, C, 'SA');
    expect(b.state('tcp', C, VIP)).toBe('SYNACK');
    b.in('tcp', C, VIP, 'A');
    expect(b.state('tcp', C, VIP)).toBe('SYNACK');
    expect(b.conn('tcp', C, VIP)!.expiresIn).toBe(120 * S);
    expect(d.activeConns).toBe(1);
    b.out('tcp', RS, C, 'A');
    expect(b.state('tcp', C, VIP)).toBe('ESTABLISHED');
  });

  it('client RST after the SYN+ACK: CLOSE with the secure table, SYN_RECV with the normal one', () => {
    const {b} = natBench();
    b.e.setTunable('secure_tcp', '3');
    b.in('tcp', C, VIP, 'S'); b.out('tcp', RS, C, 'SA'); b.in('tcp', C, VIP, 'R');
    expect(b.state('tcp', C, VIP)).toBe('CLOSE');
    b.e.setTunable('secure_tcp', '0');
    expect(b.e.defense.secureTable).toBe(false);
    const C2 = '192.0.2.11:40000';
    b.in('tcp', C2, VIP, 'S'); b.out('tcp', RS, C2, 'SA'); b.in('tcp', C2, VIP, 'R');
    expect(b.state('tcp', C2, VIP)).toBe('SYN_RECV');
  });

  it('DR with the secure table: first SYN goes to SYNACK (120 s, active), the ACK to ESTABLISHED', () => {
    const {b, d} = drBench();
    b.e.setTunable('secure_tcp', '3');
    b.in('tcp', C, VIP, 'S');
    expect(b.state('tcp', C, VIP)).toBe('SYNACK');
    expect(d.activeConns).toBe(1);
    b.in('tcp', C, VIP, 'A');
    expect(b.state('tcp', C, VIP)).toBe('ESTABLISHED');
  });

  it('an entry left in SYNACK keeps it after switching back, until its next packet uses the normal table', () => {
    const {b} = natBench();
    b.e.setTunable('secure_tcp', '3');
    b.in('tcp', C, VIP, 'S'); b.out('tcp', RS, C, 'SA');
    b.e.setTunable('secure_tcp', '0');
    expect(b.state('tcp', C, VIP)).toBe('SYNACK');
    b.in('tcp', C, VIP, 'A');
    expect(b.state('tcp', C, VIP)).toBe('ESTABLISHED');
  });
});

describe('connection counters (set_tcp_state)', () => {
  it('every new connection starts INACTIVE and moves to active on entering SYN_RECV', () => {
    const {b, d} = natBench();
    b.in('tcp', C, VIP, 'S');
    const c = b.conn('tcp', C, VIP)!;
    expect(c.flags & 0x100).toBe(0); // INACTIVE cleared
    expect([d.activeConns, d.inactConns]).toEqual([1, 0]);
  });

  it('a CLOSE entry (RST) is counted inactive', () => {
    const {b, d} = natBench();
    b.in('tcp', C, VIP, 'S'); b.in('tcp', C, VIP, 'A'); b.in('tcp', C, VIP, 'R');
    expect(b.state('tcp', C, VIP)).toBe('CLOSE');
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
  });
});
