// Connection identity: an entry's id outlives nothing. Once ip_vs_conn_expire frees an entry its
// slot goes back to the free list and the next ip_vs_conn_new may take it; an id held across that
// (details window, trace, sync) must resolve to nothing, never to the new entry.
import {describe, expect, test} from 'vitest';
import {AuditLog} from '../src/store/actions.js';
import {LocalBackend, ManualClock} from '../src/store/backend.js';
import {UiSession} from '../src/store/session.js';
import {Simulation} from '../src/sim/simulation.js';
import {packetFromSpec} from '../src/engine/packet.js';
import {Bench, S, addrOf, svcKey} from './helpers/engine-fixture.js';

const VIP = '10.0.0.1:80';

function udpBench(): Bench {
  const b = new Bench();
  b.service('udp', VIP, {scheduler: 'rr'});
  b.dest(svcKey('udp', VIP), '10.1.0.1:80', {fwd: 'masq'});
  return b;
}

describe('connection ids across expiry and slot reuse (ip_vs_conn_expire, ip_vs_conn_new)', () => {
  test('A expires, B reuses its slot: conn(idA) is null and never shows B', () => {
    const b = udpBench();
    const va = b.in('udp', '192.0.2.1:1000', VIP);
    expect(va.created).toBe(true);
    const idA = va.conn;
    expect(b.e.conn(idA)!.cport).toBe(1000);
    // UDP entries live 300 s after their last packet; then the timer frees the slot.
    b.at(301);
    expect(b.e.conns.count).toBe(0);
    const vb = b.in('udp', '192.0.2.2:2000', VIP);
    expect(vb.created).toBe(true);
    const idB = vb.conn;
    expect(idB).not.toBe(idA);
    expect(b.e.conn(idA)).toBeNull();
    expect(b.e.connLabel(idA)).toBe('');
    expect(b.e.destOf(idA)).toBeNull();
    expect(b.e.conns.view(idA)).toBeNull();
    expect(b.e.conn(idB)!.cport).toBe(2000);
    // A delete by the stale id leaves B alone.
    b.e.delEntry(idA);
    expect(b.e.conn(idB)).not.toBeNull();
  });

  test('ConnInfo.id and .control are ids: a template\'s id resolves to the template', () => {
    const b = new Bench();
    b.service('tcp', VIP, {scheduler: 'rr', persistTimeout: 60 * S});
    b.dest(svcKey('tcp', VIP), '10.1.0.1:80');
    const v = b.in('tcp', '192.0.2.1:1000', VIP, 'S');
    const c = b.e.conn(v.conn)!;
    expect(c.id).toBe(v.conn);
    expect(c.control).toBeGreaterThanOrEqual(0);
    expect(b.e.conn(c.control)!.template).toBe(true);
  });

  test('ids stay distinct over many reuses of one slot', () => {
    const b = udpBench();
    const seen = new Set<number>();
    for (let k = 0; k < 50; k++) {
      const v = b.in('udp', `192.0.2.${k + 1}:1000`, VIP);
      expect(seen.has(v.conn)).toBe(false);
      seen.add(v.conn);
      b.at(301 * (k + 1));
    }
  });
});

describe('holders of an id notice the expiry', () => {
  test('the backend\'s connDetail of a stale id is null; the details overlay marks it gone and keeps A', () => {
    const sim = new Simulation({seed: 7});
    const e = sim.engine;
    e.addService(svcKey('udp', VIP), {scheduler: 'rr'});
    e.addDest(svcKey('udp', VIP), 4, addrOf('10.1.0.1'), 80, {fwd: 'masq'});
    const send = (src: string) => ({...e.inbound(packetFromSpec({proto: 'udp', src, dst: VIP}))});
    const backend = new LocalBackend(sim, new ManualClock(sim));
    const session = new UiSession({backend, audit: new AuditLog(), size: {cols: 120, rows: 40}, user: 't'});
    const idA = send('192.0.2.1:1000').conn;
    session.setView('conns');
    session.refresh(true);
    session.openConnDetail();
    const open = session.state.overlay;
    expect(open?.kind === 'conn' && open.id).toBe(idA);
    expect(open?.kind === 'conn' && open.gone).toBe(false);
    sim.advance(301 * S);
    const idB = send('192.0.2.2:2000').conn;
    expect(backend.connDetail(idA)).toBeNull();
    expect(backend.connDetail(idB)!.info.cport).toBe(2000);
    session.refresh(true);
    const o = session.state.overlay;
    expect(o?.kind).toBe('conn');
    if (o?.kind !== 'conn') return;
    expect(o.gone).toBe(true);
    expect(o.detail!.info.cport).toBe(1000);
    session.stop();
  });
});
