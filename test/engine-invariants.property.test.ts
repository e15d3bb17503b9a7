import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {CONN_F} from '../src/engine/constants.js';
import type {Engine} from '../src/engine/engine.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

type Step =
  | {k: 'in' | 'out'; proto: 'tcp' | 'udp'; client: number; port: number; svc: number; flags: string}
  | {k: 'tick'; ms: number}
  | {k: 'weight'; svc: number; rs: number; w: number}
  | {k: 'del'; svc: number; rs: number}
  | {k: 'sysctl'; name: string; value: string};

const VIPS = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:53'];
const RSS = ['10.1.0.1', '10.1.0.2', '10.1.0.3'];

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {weight: 6, arbitrary: fc.record({
    k: fc.constantFrom('in' as const, 'out' as const), proto: fc.constantFrom('tcp' as const, 'udp' as const),
    client: fc.integer({min: 1, max: 6}), port: fc.integer({min: 1000, max: 1003}), svc: fc.integer({min: 0, max: 2}),
    flags: fc.constantFrom('S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', ''),
  })},
  {weight: 2, arbitrary: fc.record({k: fc.constant('tick' as const), ms: fc.integer({min: 1, max: 200_000})})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('weight' as const), svc: fc.integer({min: 0, max: 2}), rs: fc.integer({min: 0, max: 2}), w: fc.integer({min: 0, max: 3})})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('del' as const), svc: fc.integer({min: 0, max: 2}), rs: fc.integer({min: 0, max: 2})})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('sysctl' as const),
    name: fc.constantFrom('conn_reuse_mode', 'expire_nodest_conn', 'expire_quiescent_template', 'secure_tcp', 'sloppy_tcp', 'drop_entry'),
    value: fc.constantFrom('0', '1', '2', '3')})},
);

/** Recount everything by walking the table and compare with the engine's incremental counters. */
function checkInvariants(e: Engine) {
  const t = e.table;
  const perDest = new Map<number, {a: number; i: number; p: number}>();
  let live = 0;
  t.forEachLive((i) => {
    live++;
    const d = t.dest[i]!;
    if (d < 0) return;
    const c = perDest.get(d) ?? {a: 0, i: 0, p: 0};
    if (t.flags[i]! & CONN_F.TEMPLATE) c.p++;
    else if (t.flags[i]! & CONN_F.INACTIVE) c.i++;
    else c.a++;
    perDest.set(d, c);
    const ctl = t.control[i]!;
    if (ctl >= 0) expect(t.isLive(ctl)).toBe(true);
  });
  expect(live).toBe(t.count);
  const walked = new Map<string, number>();
  for (const c of e.allConns()) {
    const k = c.template ? `TEMPLATE ${c.stateName}` : c.stateName;
    walked.set(k, (walked.get(k) ?? 0) + 1);
  }
  expect(e.stateCounts()).toEqual(walked);
  for (const svc of [...e.listServices()]) {
    for (const d of svc.dests) {
      const c = perDest.get(d.id) ?? {a: 0, i: 0, p: 0};
      expect([d.activeConns, d.inactConns, d.persistConns]).toEqual([c.a, c.i, c.p]);
    }
  }
  for (const d of e.trashList()) {
    const c = perDest.get(d.id) ?? {a: 0, i: 0, p: 0};
    expect([d.activeConns, d.inactConns, d.persistConns]).toEqual([c.a, c.i, c.p]);
  }
}

describe('engine invariants under random traffic and configuration (property)', () => {
  it('dest counters, state tally and controller links always agree with the table', () => {
    fc.assert(fc.property(fc.array(stepArb, {maxLength: 120}), fc.boolean(), (steps, persistent) => {
      const b = new Bench();
      b.service('tcp', VIPS[0]!, {scheduler: 'rr', persistTimeout: persistent ? 30 * S : 0});
      b.service('tcp', VIPS[1]!, {scheduler: 'wlc'});
      b.service('udp', VIPS[2]!, {scheduler: 'wrr', persistTimeout: persistent ? 20 * S : 0});
      VIPS.forEach((vip, k) => RSS.forEach((rs, r) => {
        b.dest(svcKey(k === 2 ? 'udp' : 'tcp', vip), `${rs}:${vip.split(':')[1]}`, {fwd: r === 2 ? 'route' : 'masq', weight: r + 1});
      }));
      let now = 0;
      for (const s of steps) {
        if (s.k === 'tick') { now += s.ms; b.e.tick(now); continue; }
        if (s.k === 'sysctl') { b.e.setTunable(s.name, s.value); continue; }
        const vip = VIPS[s.svc]!;
        const proto = s.svc === 2 ? 'udp' : 'tcp';
        const key = svcKey(proto, vip);
        if (s.k === 'weight' || s.k === 'del') {
          const rs = `${RSS[s.rs]}:${vip.split(':')[1]}`;
          const d = b.e.getService(key)!.dests.find((x) => x.addr === 0x0a010001 + s.rs);
          if (s.k === 'weight' && d) b.e.editDest(key, d.addr, d.port, {fwd: d.fwd, weight: s.w});
          else if (s.k === 'del' && d) b.e.delDest(key, d.addr, d.port);
          else if (s.k === 'del') b.dest(key, rs, {fwd: 'masq'}); // comes back from the trash
          continue;
        }
        const client = `192.0.2.${s.client}:${s.port}`;
        if (s.k === 'in') b.in(proto, client, vip, proto === 'tcp' ? s.flags : '');
        else {
          const port = vip.split(':')[1];
          b.out(proto, `${RSS[s.client % 3]}:${port}`, client, proto === 'tcp' ? s.flags : '');
          b.out(proto, vip, client, proto === 'tcp' ? s.flags : '');
        }
        checkInvariants(b.e);
      }
      now += 4_000_000;
      b.e.tick(now);
      checkInvariants(b.e);
      expect(b.e.table.count).toBe(0); // everything expires eventually, templates included
    }), {numRuns: 150});
  });
});
