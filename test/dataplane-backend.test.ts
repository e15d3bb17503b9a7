// DataplaneBackend: the engine on real packets (here a director over an in-memory port fed with
// packets captured in the lab) behind the UI's Backend interface. Engine commands reach the engine
// the packets go through; pause/speed/step answer with the reason they are off; attacks are real
// generators only (refused without the lab); simulated server failures are refused.
import {describe, expect, test} from 'vitest';
import {NO_TIME_CONTROLS} from '../src/dataplane/backend.js';
import {type Frame, ipChecksumOk, l4ChecksumOk, newFrame, parsePacket} from '../src/dataplane/codec.js';
import {formatAddr} from '../src/engine/addr.js';
import {Actions, AuditLog} from '../src/store/actions.js';
import {a4, inProcessDataplane, v4Syn} from './helpers/packet-port.js';

function frameOf(b: Uint8Array): Frame {
  const f = newFrame();
  expect(parsePacket(b, b.length, f)).toBeNull();
  return f;
}

describe('DataplaneBackend', () => {
  test('kind and capabilities: no virtual time; the clock reads speed 1, never paused', () => {
    const {backend} = inProcessDataplane();
    expect(backend.kind).toBe('dataplane');
    expect(backend.capabilities).toEqual({virtualTime: false, traffic: true, sync: true});
    expect(backend.clock()).toEqual({speed: 1, paused: false, effective: 1, lagging: false});
  });

  test('a client SYN through the director: forwarded to the real server (ip_vs_nat_xmit), and the backend lists the entry', () => {
    const dp = inProcessDataplane();
    const out = dp.send(v4Syn());
    expect(out).toHaveLength(1);
    const f = frameOf(out[0]!);
    expect(formatAddr(f.pkt.dst)).toBe('198.18.2.13');
    expect(ipChecksumOk(f) && l4ChecksumOk(f)).toBe(true);
    const snap = dp.backend.snapshot();
    expect(snap.conns).toBe(1);
    expect(snap.services[0]!.dests[0]!.label).toBe('198.18.2.13:80');
    const page = dp.backend.queryConns({offset: 0, limit: 10});
    expect(page.total).toBe(1);
    expect(page.rows[0]).toMatchObject({stateName: 'SYN_RECV', daddr: a4('198.18.2.13'), dport: 80});
    const detail = dp.backend.connDetail(page.rows[0]!.id)!;
    expect(detail.destLabel).toMatch(/^198\.18\.2\.13:80 \(masq, weight 1\)$/);
  });

  test('engine commands change the engine the packets go through: weight 0 quiesces the only real server', () => {
    const dp = inProcessDataplane();
    dp.backend.apply({op: 'edit-dest', key: dp.key, addr: a4('198.18.2.13'), port: 80, opts: {fwd: 'masq', weight: 0}});
    expect(dp.backend.destConfig(dp.backend.snapshot().services[0]!.dests[0]!.id)!.opts.weight).toBe(0);
    // no destination with weight > 0: the scheduler finds none and the SYN is not forwarded to it
    const out = dp.send(v4Syn());
    expect(out.map((p) => formatAddr(frameOf(p).pkt.dst))).not.toContain('198.18.2.13');
    expect(dp.backend.snapshot().conns).toBe(0);
    expect(dp.backend.apply({op: 'set-tunable', name: 'drop_entry', value: '1'})).toEqual({changed: true});
    expect(dp.backend.tunables().find((t) => t.name === 'drop_entry')!.value).toBe('1');
  });

  test('pause, speed and step answer with the reason and change nothing', () => {
    const dp = inProcessDataplane();
    const now = dp.sim.now;
    for (const cmd of [{op: 'pause', paused: true}, {op: 'speed', speed: 10}, {op: 'step', ms: 1000}] as const) {
      expect(dp.backend.apply(cmd)).toEqual({error: NO_TIME_CONTROLS});
    }
    expect(dp.backend.clock()).toMatchObject({speed: 1, paused: false});
    expect(dp.sim.now).toBe(now);
  });

  test('attacks are real generators only, in the lab; simulated failures are refused', () => {
    const dp = inProcessDataplane();
    expect(() => dp.backend.apply({op: 'traffic-add', spec: {kind: 'clients', to: '198.18.0.10:80', rate: 10}}))
      .toThrow(/clients has no real generator; real attacks: synflood, connflood, udpflood, portreuse/);
    expect(() => dp.backend.apply({op: 'traffic-add', spec: {kind: 'synflood', to: '198.18.0.10:80', rate: 10}}))
      .toThrow(/start it with `lvsdeck lab up`/);
    expect(() => dp.backend.apply({op: 'traffic-stop', id: 'real-1'})).toThrow(/no attack 'real-1'/);
    expect(dp.backend.generators()).toEqual([]);
    expect(dp.backend.apply({op: 'server-failed', rs: '198.18.2.13:80', failed: true}).error).toMatch(/fail for real here/);
    expect(dp.backend.failedServers()).toEqual([]);
  });

  test('through the actions module: roles are checked and every change, refusal and failure is audited', () => {
    const dp = inProcessDataplane();
    const audit = new AuditLog();
    const as = (user: string, role: 'reader' | 'operator') => new Actions({backend: dp.backend, audit, user, readOnly: false, role});
    const weight = {op: 'edit-dest', key: dp.key, addr: a4('198.18.2.13'), port: 80, opts: {fwd: 'masq', weight: 4}} as const;
    expect(as('bob', 'reader').apply(weight)).toMatchObject({ok: false, refused: true});
    expect(as('alice', 'operator').apply(weight).ok).toBe(true);
    expect(as('alice', 'operator').apply({op: 'pause', paused: true})).toMatchObject({ok: false, message: NO_TIME_CONTROLS});
    expect(audit.list().map((e) => [e.user, e.op, e.outcome, e.change])).toEqual([
      ['bob', 'edit-dest', 'refused', 'weight 1 → 4'], ['alice', 'edit-dest', 'ok', 'weight 1 → 4'], ['alice', 'pause', 'failed', 'paused false → true'],
    ]);
    expect(audit.list()[2]!.result).toBe(NO_TIME_CONTROLS);
  });
});
