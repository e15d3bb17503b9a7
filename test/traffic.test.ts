import {describe, expect, it} from 'vitest';
import {parseAddrPort} from '../src/engine/addr.js';
import {SECOND} from '../src/engine/constants.js';
import type {DestOptions} from '../src/engine/types.js';
import {Simulation} from '../src/sim/simulation.js';
import {GeneratorError} from '../src/traffic/generators.js';

function sim(fwd: DestOptions['fwd'] = 'masq', memory?: {totalBytes: number; usedBytes: number}) {
  const s = new Simulation({seed: 3, memory});
  const vip = parseAddrPort('10.0.0.1:80')!;
  const key = {kind: 'addr', af: 4, proto: 'tcp', addr: vip.addr, port: 80} as const;
  s.engine.addService(key, {scheduler: 'rr'});
  s.engine.addDest(key, 4, 0x0a010001, 80, {fwd});
  s.engine.addDest(key, 4, 0x0a010002, 80, {fwd});
  return s;
}

describe('traffic generators', () => {
  it('the same seed gives the same traffic, packet for packet', () => {
    const run = () => {
      const s = sim();
      s.addTraffic({kind: 'clients', to: '10.0.0.1:80', rate: 50});
      s.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 500});
      s.runUntil(20 * SECOND);
      return JSON.stringify([s.engine.snapshot(), s.traffic.list()]);
    };
    expect(run()).toBe(run());
  });

  it('NAT client sessions closed by the server end in TIME_WAIT; replies pass the director', () => {
    const s = sim('masq');
    const g = s.addTraffic({kind: 'clients', to: '10.0.0.1:80', rate: 20, arrivals: 'uniform', hold: 0});
    s.runUntil(10 * SECOND);
    const states = s.engine.stateCounts();
    expect(states.get('TIME_WAIT')).toBeGreaterThan(150);
    expect(g.stats.packetsOut).toBeGreaterThan(0);
    expect(s.engine.totStats.read().outpkts).toBe(g.stats.packetsOut);
  });

  it('DR sessions: no replies through the director, the client FIN leaves FIN_WAIT', () => {
    const s = sim('route');
    const g = s.addTraffic({kind: 'clients', to: '10.0.0.1:80', rate: 20, arrivals: 'uniform', close: 'client'});
    s.runUntil(5 * SECOND);
    expect(g.stats.packetsOut).toBe(0);
    expect(s.engine.stateCounts().get('FIN_WAIT')).toBeGreaterThan(50);
  });

  it('a SYN flood fills the table with SYN_RECV entries that leave 60 s later', () => {
    const s = sim();
    s.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 1000, arrivals: 'uniform'});
    s.runUntil(30 * SECOND);
    expect(s.engine.stateCounts().get('SYN_RECV')).toBe(30_000);
    expect(s.engine.synRecvShare()).toBe(1);
    s.traffic.get('synflood-1').stop();
    s.runUntil(90 * SECOND);
    expect(s.engine.table.count).toBe(0);
  });

  it('with drop_entry=1, a 20k SYN/s flood against 256MiB flips drop_entry to 2 within a second of memory falling below amemthresh, and back to 1 after', () => {
    const s = sim('masq', {totalBytes: 256 * 2 ** 20, usedBytes: 200 * 2 ** 20});
    const e = s.engine;
    e.setTunable('drop_entry', '1');
    s.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 20_000, arrivals: 'uniform'}, 'flood');
    let fellAt = -1, flippedAt = -1;
    for (let t = 100; t <= 20 * SECOND; t += 100) {
      s.runUntil(t);
      if (fellAt < 0 && e.availablePages() < 1024) fellAt = t;
      if (flippedAt < 0 && e.readTunable('drop_entry') === '2') flippedAt = t;
    }
    expect(fellAt).toBeGreaterThan(0);
    expect(flippedAt).toBeGreaterThanOrEqual(fellAt);
    expect(flippedAt - fellAt).toBeLessThanOrEqual(SECOND);
    expect(e.counters.dropEntry.get('SYN_RECV')).toBeGreaterThan(0);
    s.traffic.get('flood').stop();
    s.runUntil(90 * SECOND);
    expect(e.readTunable('drop_entry')).toBe('1');
  });

  it('during a flood with drop_packet active only creation attempts are dropped: established clients keep flowing', () => {
    const s = sim('masq', {totalBytes: 256 * 2 ** 20, usedBytes: 220 * 2 ** 20});
    s.engine.setTunable('drop_packet', '1');
    const clients = s.addTraffic({kind: 'clients', to: '10.0.0.1:80', rate: 50, hold: 30, response: 200_000});
    s.runUntil(5 * SECOND);
    s.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 20_000});
    s.runUntil(20 * SECOND);
    expect(s.engine.readTunable('drop_packet')).toBe('2');
    const before = clients.stats.forwarded;
    s.runUntil(40 * SECOND); // sessions opened before the flood close around t=30..35 s
    expect(clients.stats.forwarded).toBeGreaterThan(before + 100);
    expect([...s.engine.counters.dropped.keys()]).toEqual(['drop-packet-defense']);
  });

  it('a session cap bounds what is in flight', () => {
    const s = sim();
    const g = s.addTraffic({kind: 'connflood', to: '10.0.0.1:80', rate: 10_000, maxPending: 100});
    s.runUntil(2 * SECOND);
    expect(g.inFlight).toBeLessThanOrEqual(100);
    expect(g.stats.capped).toBeGreaterThan(0);
  });

  it('a generator re-rated or stopped takes effect from that moment', () => {
    const s = sim();
    const g = s.addTraffic({kind: 'udpflood', to: '10.0.0.1:80', rate: 100, arrivals: 'uniform'});
    s.runUntil(10 * SECOND);
    const at10 = g.stats.sessions;
    expect(at10).toBeGreaterThanOrEqual(999);
    g.setRate(1000, s.now);
    s.runUntil(11 * SECOND);
    expect(g.stats.sessions - at10).toBeGreaterThanOrEqual(999);
    g.stop();
    const stopped = g.stats.sessions;
    s.runUntil(20 * SECOND);
    expect(g.stats.sessions).toBe(stopped);
  });

  it('port-reuse storm: with conn_reuse_mode 0 reused ports land on TIME_WAIT entries; with 1 they are rescheduled', () => {
    const reuse = (mode: string) => {
      const s = sim();
      s.engine.setTunable('conn_reuse_mode', mode);
      s.engine.setTunable('debug_level', '7');
      s.addTraffic({kind: 'portreuse', to: '10.0.0.1:80', rate: 50, clients: 4, ports: 2, reuseAfter: 1, arrivals: 'uniform'});
      s.runUntil(20 * SECOND);
      return s.engine.counters.connsCreated;
    };
    // mode 0: a reused tuple keeps its old entry, so only the first use of each of the 8 tuples creates one
    expect(reuse('0')).toBe(8);
    expect(reuse('1')).toBeGreaterThan(100);
  });

  it('a failed real server never answers: its entries sit in SYN_RECV', () => {
    const s = sim();
    s.traffic.setServerFailed('10.1.0.1:80', true);
    s.addTraffic({kind: 'clients', to: '10.0.0.1:80', rate: 20, arrivals: 'uniform'});
    s.runUntil(10 * SECOND);
    const onDead = s.engine.allConns().filter((c) => c.daddr === 0x0a010001);
    expect(onDead.length).toBeGreaterThan(0);
    expect(onDead.every((c) => c.stateName === 'SYN_RECV')).toBe(true);
  });

  it('bad specs are refused with a specific error', () => {
    const s = sim();
    expect(() => s.addTraffic({kind: 'nope' as 'clients', to: '10.0.0.1:80', rate: 1})).toThrow(GeneratorError);
    expect(() => s.addTraffic({kind: 'synflood', to: '10.0.0.1', rate: 1})).toThrow(/^to: expected VIP:PORT as text, got '10.0.0.1'$/);
    expect(() => s.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: -1})).toThrow(/^rate: -1 is outside 0\.\.1000000/);
    expect(() => s.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 1, from: '10.0.0.0/40'})).toThrow(/^from: expected a source block/);
    expect(s.traffic.list()).toHaveLength(0);
  });
});
