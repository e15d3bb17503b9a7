import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {ConnTable} from '../src/engine/conn-table.js';
import {CONN_F} from '../src/engine/constants.js';

// A model: Map from key text to the slot id the table gave, plus expiry times.
type Op =
  | {kind: 'add'; c: number; cport: number; v: number; vport: number; ttl: number; v6: boolean}
  | {kind: 'del'; pick: number}
  | {kind: 'rearm'; pick: number; ttl: number}
  | {kind: 'advance'; ms: number};

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const), c: fc.integer({min: 0, max: 50}), cport: fc.integer({min: 1, max: 5}),
    v: fc.integer({min: 0, max: 3}), vport: fc.constantFrom(80, 443), ttl: fc.integer({min: 0, max: 4_000_000}),
    v6: fc.boolean(),
  }),
  fc.record({kind: fc.constant('del' as const), pick: fc.nat()}),
  fc.record({kind: fc.constant('rearm' as const), pick: fc.nat(), ttl: fc.integer({min: 0, max: 2_000_000})}),
  fc.record({kind: fc.constant('advance' as const), ms: fc.integer({min: 0, max: 3_000_000})}),
);

const addr = (n: number, v6: boolean) => (v6 ? `2001:db8::${n.toString(16)}` : 0x0a000000 + n);

describe('connection table (property)', () => {
  it('lookups, deletions and the timer wheel agree with a plain model under any sequence', () => {
    fc.assert(fc.property(fc.array(opArb, {maxLength: 200}), (ops) => {
      const t = new ConnTable({initialCapacity: 16, seed: 3});
      const model = new Map<string, {id: number; expires: number; op: Extract<Op, {kind: 'add'}>}>();
      let now = 0;
      const due: number[] = [];
      const keyOf = (o: Extract<Op, {kind: 'add'}>) => `${o.v6}|${o.c}|${o.cport}|${o.v}|${o.vport}`;
      for (const op of ops) {
        if (op.kind === 'add') {
          const k = keyOf(op);
          if (model.has(k)) continue;
          const af = op.v6 ? 6 : 4;
          const id = t.create({af, daf: af, proto: 6, caddr: addr(op.c, op.v6), cport: op.cport, vaddr: addr(100 + op.v, op.v6),
            vport: op.vport, daddr: addr(200, op.v6), dport: 80, flags: CONN_F.MASQ, fwmark: 0, dest: -1}, now, true);
          t.arm(id, now + op.ttl);
          model.set(k, {id, expires: now + op.ttl, op});
        } else if (op.kind === 'del' || op.kind === 'rearm') {
          const keys = [...model.keys()];
          if (!keys.length) continue;
          const k = keys[op.pick % keys.length]!;
          const m = model.get(k)!;
          if (op.kind === 'del') { t.free(m.id); model.delete(k); }
          else { m.expires = now + op.ttl; t.arm(m.id, m.expires); }
        } else {
          now += op.ms;
          due.length = 0;
          t.collectDue(now, due);
          const expected = [...model.entries()].filter(([, m]) => m.expires <= now);
          expect(new Set(due)).toEqual(new Set(expected.map(([, m]) => m.id)));
          for (const [k, m] of expected) { t.free(m.id); model.delete(k); }
        }
        expect(t.count).toBe(model.size);
      }
      for (const m of model.values()) {
        const o = m.op;
        expect(t.inLookup(o.v6 ? 6 : 4, 6, addr(o.c, o.v6), o.cport, addr(100 + o.v, o.v6), o.vport)).toBe(m.id);
        // A reply names only the client and the real server: when one client port talks to two
        // VIPs NATed to the same real server the first match in the chain wins, as in the kernel.
        const out = t.outLookup(o.v6 ? 6 : 4, 6, addr(200, o.v6), 80, addr(o.c, o.v6), o.cport);
        const hit = [...model.values()].find((x) => x.id === out)?.op;
        expect(hit && [hit.c, hit.cport, hit.v6]).toEqual([o.c, o.cport, o.v6]);
        expect(t.expires[m.id]).toBe(m.expires);
      }
      // a key never added is never found
      expect(t.inLookup(4, 6, 0x0b000000, 1, 0x0a000064, 80)).toBe(-1);
    }), {numRuns: Number(process.env.RUNS ?? 300)});
  });

  it('an entry never fires before its expiry time and always fires at it', () => {
    fc.assert(fc.property(fc.array(fc.integer({min: 0, max: 10_000_000}), {minLength: 1, maxLength: 50}),
      fc.array(fc.integer({min: 1, max: 700_000}), {minLength: 1, maxLength: 40}), (ttls, steps) => {
        const t = new ConnTable({seed: 9});
        const ids = ttls.map((ttl, k) => {
          const id = t.create({af: 4, daf: 4, proto: 17, caddr: k, cport: 1, vaddr: 1, vport: 53, daddr: 2, dport: 53,
            flags: 0, fwmark: 0, dest: -1}, 0, true);
          t.arm(id, ttl);
          return id;
        });
        let now = 0;
        const fired = new Map<number, {at: number; prev: number}>();
        const due: number[] = [];
        for (const s of [...steps, 11_000_000]) {
          const prev = now;
          now += s;
          due.length = 0;
          t.collectDue(now, due);
          for (const id of due) { fired.set(id, {at: now, prev}); t.free(id); }
        }
        ids.forEach((id, k) => {
          const f = fired.get(id);
          expect(f).toBeDefined();
          expect(f!.at).toBeGreaterThanOrEqual(ttls[k]!); // never early
          // and at the first tick that reaches it (an entry due at creation fires on the first tick)
          expect(f!.prev < ttls[k]! || f!.prev === 0).toBe(true);
        });
      }), {numRuns: 200});
  });
});
