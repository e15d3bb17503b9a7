import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {ConnTable} from '../src/engine/conn-table.js';
import {CONN_F} from '../src/engine/constants.js';

// The table packs each entry's fields into one stride (src/engine/conn-table.ts): every field
// must read back exactly what was written, whatever its neighbours hold.
const base = {af: 4 as const, daf: 4 as const, proto: 6, caddr: 0xc6120001, cport: 40000, vaddr: 0x0a000001, vport: 443,
  daddr: 0x0a010001, dport: 8443, flags: CONN_F.MASQ, fwmark: 0, dest: 3};

describe('connection table packing', () => {
  it('fields read back exactly, over the whole range of each (ip_vs_conn fields: ports, fwmark, flags, state, sync_endtime)', () => {
    fc.assert(fc.property(
      fc.record({cport: fc.integer({min: 0, max: 0xffff}), vport: fc.integer({min: 0, max: 0xffff}),
        dport: fc.integer({min: 0, max: 0xffff}), fwmark: fc.integer({min: 0, max: 0xffffffff}),
        caddr: fc.integer({min: 0, max: 0xffffffff}), daddr: fc.integer({min: 0, max: 0xffffffff}),
        flags: fc.integer({min: 0, max: 0xffffffff}).map((f) => (f & ~CONN_F.TEMPLATE) >>> 0),
        state: fc.integer({min: 0, max: 255}), oldState: fc.integer({min: 0, max: 255}), ct: fc.integer({min: 0, max: 7}),
        timeout: fc.integer({min: 0, max: 0xffffffff}), syncEnd: fc.integer({min: 0, max: 2 ** 39 - 1}),
        now: fc.integer({min: 0, max: 2 ** 38})}),
      (f) => {
        const t = new ConnTable({initialCapacity: 16, seed: 1});
        const i = t.create({...base, caddr: f.caddr, cport: f.cport, vport: f.vport, daddr: f.daddr, dport: f.dport,
          fwmark: f.fwmark, flags: f.flags}, f.now, true);
        t.setState(i, f.state);
        t.setOldState(i, f.oldState);
        t.setCtInfo(i, f.ct);
        t.setTimeout(i, f.timeout);
        t.setSyncEnd(i, f.syncEnd);
        expect([t.clientPortOf(i), t.virtualPortOf(i), t.destPortOf(i)]).toEqual([f.cport, f.vport, f.dport]);
        expect([t.clientAddr(i), t.destAddr(i), t.fwmarkOf(i)]).toEqual([f.caddr, f.daddr, f.fwmark]);
        expect(t.flagsOf(i)).toBe((f.flags | CONN_F.HASHED) >>> 0);
        expect([t.stateOf(i), t.oldStateOf(i), t.ctInfoOf(i), t.timeoutOf(i)]).toEqual([f.state, f.oldState, f.ct, f.timeout]);
        expect(t.syncEndOf(i)).toBe(f.syncEnd);
        expect(t.protoOf(i)).toBe(6);
        expect(t.slotOf(t.idOf(i))).toBe(i); // sync_endtime's high bits share the generation's word
        expect(t.inLookup(4, 6, f.caddr, f.cport, base.vaddr, f.vport)).toBe(
          (f.cport === 0) === ((f.flags & CONN_F.NO_CPORT) !== 0) ? i : -1);
      }), {numRuns: 300});
  });

  it('a generation bump on free leaves the id of the reused slot distinct, sync_endtime notwithstanding', () => {
    const t = new ConnTable({initialCapacity: 16});
    const a = t.create(base, 0, true);
    t.setSyncEnd(a, 2 ** 39 - 1);
    const idA = t.idOf(a);
    t.free(a);
    const b = t.create(base, 0, true);
    expect(b).toBe(a);
    expect(t.idOf(b)).not.toBe(idA);
    expect(t.slotOf(idA)).toBe(-1);
    expect(t.syncEndOf(b)).toBe(0);
  });

  it('only templates control: n_control and control share a word (ip_vs_control_add)', () => {
    const t = new ConnTable({initialCapacity: 16});
    const tpl = t.create({...base, cport: 0, flags: CONN_F.TEMPLATE}, 0, true);
    const c1 = t.create(base, 0, true);
    const c2 = t.create({...base, cport: 40001}, 0, true);
    t.setControl(c1, tpl);
    t.setControl(c2, tpl);
    expect([t.nControlOf(tpl), t.controlOf(tpl), t.controlOf(c1), t.nControlOf(c1)]).toEqual([2, -1, tpl, 0]);
    expect(() => t.setControl(c1, c2)).toThrow(/not a template/);
    expect([t.nControlOf(tpl), t.controlOf(c1)]).toEqual([2, tpl]); // refused: c1 still controlled
    t.setControl(c1, -1);
    expect([t.nControlOf(tpl), t.controlOf(c1)]).toEqual([1, -1]);
    expect(() => t.setControl(tpl, c2)).toThrow(/template/);
    expect(() => t.setFlags(c1, CONN_F.TEMPLATE)).toThrow(/TEMPLATE/);
    expect(() => t.setSyncEnd(c1, 2 ** 39)).toThrow(/sync_endtime/);
    expect(t.nControlOf(tpl)).toBe(1); // the refused calls changed nothing
  });
});
