import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {foldAddr, parseAddr, parseAddrPort} from '../src/engine/addr.js';
import {type ConnQuery, type QueryHost, type QueryPlan, queryConnIds} from '../src/engine/conn-query.js';
import {MAX_SLOTS} from '../src/engine/conn-table.js';
import type {ConnInfo, ConnSortKey} from '../src/engine/engine.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

/**
 * A table with TCP (SYN_RECV, ESTABLISHED, FIN_WAIT), UDP and, by seed, IPv6 entries, persistence
 * templates (NONE and ASSURED), uneven packet counts, and entries that expired mid-way so later
 * ones reuse their slots (ids then differ from slots: the order breaks ties by slot).
 */
function build(n: number, seed: number) {
  const b = new Bench({seed});
  b.service('tcp', '10.0.0.1:80', {scheduler: 'rr', persistTimeout: seed % 2 ? 100 * S : 0});
  b.service('udp', '10.0.0.2:53', {scheduler: 'rr'});
  b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80', {fwd: 'masq'});
  b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.2:80', {fwd: 'route'});
  b.dest(svcKey('udp', '10.0.0.2:53'), '10.1.0.3:53', {fwd: 'masq'});
  const v6 = seed % 3 === 0;
  if (v6) {
    b.service('tcp', '[2001:db8::1]:80', {scheduler: 'rr'});
    b.dest(svcKey('tcp', '[2001:db8::1]:80'), '[2001:db8::10]:80', {fwd: 'masq'});
  }
  let now = 0;
  for (let k = 0; k < n; k++) {
    now += 0.1;
    // a jump past the SYN_RECV (60 s) and FIN_WAIT timeouts: those entries expire, their slots are reused
    if (seed % 4 === 0 && k === (n >> 1)) now += 70;
    b.at(now);
    // few addresses, many ports: address keys tie on the address
    const client = `192.0.2.${(k * 7 + seed) % 40}:${1000 + ((k * 13) % 50)}`;
    if (v6 && k % 5 === 1) {
      const c6 = `[2001:db8::${(k % 40) + 2}]:${1000 + (k % 30)}`;
      b.in('tcp', c6, '[2001:db8::1]:80', 'S');
      if (k % 2) b.in('tcp', c6, '[2001:db8::1]:80', 'A');
    } else if (k % 3 === 0) {
      for (let p = 0; p <= k % 4; p++) b.in('udp', client, '10.0.0.2:53');
    } else {
      b.in('tcp', client, '10.0.0.1:80', 'S');
      // a second client at the same instant: expiry keys tie
      if (k % 6 === 2) b.in('tcp', `198.51.100.${k % 30}:${2000 + k}`, '10.0.0.1:80', 'S');
      if (k % 4 === 0) b.in('tcp', client, '10.0.0.1:80', 'A');
      if (k % 8 === 0) b.in('tcp', client, '10.0.0.1:80', 'F');
      for (let p = 0; p < k % 5; p++) b.in('tcp', client, '10.0.0.1:80', 'A');
    }
  }
  return b;
}

/** The documented order's keys: IPv4 addresses as themselves, IPv6 after all of them by their fold. */
const addrKey = (a: string | number) => (typeof a === 'number' ? a : foldAddr(a) + 2 ** 32);
const keyOf: Record<ConnSortKey, (c: ConnInfo) => number> = {
  proto: (c) => c.proto,
  client: (c) => addrKey(c.caddr) * 65536 + c.cport,
  virtual: (c) => addrKey(c.vaddr) * 65536 + c.vport,
  real: (c) => addrKey(c.daddr) * 65536 + c.dport,
  state: (c) => c.proto * 256 + c.state + (c.template ? 65536 : 0),
  expires: (c) => c.expiresIn,
  inpkts: (c) => c.inPkts,
  outpkts: (c) => c.outPkts,
};
const slotOf = (c: ConnInfo) => c.id % MAX_SLOTS;

const TEXTS = ['', 'tcp', 'udp', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'NONE', 'ASSURED', '10.1.0.1', '10.1.0.2:80',
  '53', '192.0.2.1', '192.0.2.8:1013', '0.2.7', '2001:db8::1', '[2001:db8::10]:80', '2001:db8::7', 'fin'];
const STATES = [undefined, 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'UDP', 'NONE', 'ASSURED', 'BUG!'];
const PLANS: (QueryPlan | undefined)[] = [undefined, 'wheel', 'key-first', 'filter-first', 'select'];

/** The text filter, naively: the documented meaning of each kind of text. */
function textMatches(b: Bench, c: ConnInfo, text: string): boolean {
  if (!text) return true;
  if (text === 'tcp' || text === 'udp') return c.protoName.toLowerCase() === text;
  if (/^[A-Z_]+$/.test(text)) return c.stateName === text;
  if (/^\d+$/.test(text)) return [c.cport, c.vport, c.dport].includes(Number(text));
  const ap = parseAddrPort(text);
  if (ap) {
    return (c.caddr === ap.addr && c.cport === ap.port) || (c.vaddr === ap.addr && c.vport === ap.port) ||
      (c.daddr === ap.addr && c.dport === ap.port);
  }
  const a = parseAddr(text);
  if (a) return [c.caddr, c.vaddr, c.daddr].includes(a.addr);
  return `${b.e.connLabel(c.id)} ${c.stateName}`.toLowerCase().includes(text);
}

describe('connection window query (property)', () => {
  it('every plan (wheel walk, key-first and filter-first scans, selection for a deep page) equals a naive filter + full sort: by key, then by slot, in either direction', () => {
    const ran = new Map<QueryPlan, number>();
    fc.assert(fc.property(
      fc.integer({min: 0, max: 160}), fc.integer({min: 0, max: 50}),
      fc.oneof(fc.constant<ConnSortKey>('expires'), fc.constantFrom(...(Object.keys(keyOf) as ConnSortKey[]))), fc.boolean(),
      // weighted towards what the table's counts tell (no text, a state, no dest): the wheel walk and key-first scans
      fc.oneof({arbitrary: fc.constantFrom('', 'SYN_RECV', 'ESTABLISHED', 'UDP'), weight: 2}, {arbitrary: fc.constantFrom(...TEXTS), weight: 1}),
      fc.oneof({arbitrary: fc.constant(undefined), weight: 2}, {arbitrary: fc.constantFrom(...STATES), weight: 1}),
      fc.constantFrom<ConnQuery['templates']>(undefined, 'include', 'exclude', 'only'),
      fc.oneof({arbitrary: fc.constant(0), weight: 2}, {arbitrary: fc.nat({max: 4}), weight: 1}),
      fc.oneof(fc.integer({min: 0, max: 60}), fc.constant(0), fc.integer({min: 150, max: 400})), fc.integer({min: 0, max: 30}),
      (n, seed, sort, desc, text, state, templates, destPick, offset, limit) => {
        const b = build(n, seed);
        const dests = b.e.snapshot().services.flatMap((s) => s.dests.map((d) => d.id));
        // destPick 0: no dest filter; 4: an id no entry has
        const destId = destPick === 0 ? undefined : destPick === 4 ? 99 : dests[destPick - 1];
        const all = b.e.allConns();
        const kept = all.filter((c) => textMatches(b, c, text) && (!state || c.stateName === state) &&
          (destId === undefined || c.destId === destId) &&
          (templates === 'exclude' ? !c.template : templates === 'only' ? c.template : true));
        const dir = desc ? -1 : 1;
        const expected = kept.sort((x, y) => (keyOf[sort](x) - keyOf[sort](y)) * dir || slotOf(x) - slotOf(y))
          .slice(offset, offset + limit).map((c) => c.id);
        const q: ConnQuery = {text, state, destId, templates, sort, desc, offset, limit};
        const host = (b.e as unknown as {queryHost: QueryHost}).queryHost;
        for (const plan of PLANS) {
          const got = queryConnIds(host, q, plan);
          ran.set(got.plan, (ran.get(got.plan) ?? 0) + 1);
          expect(got.total).toBe(kept.length);
          expect(got.ids.map((i) => b.e.table.idOf(i))).toEqual(expected);
        }
        expect(b.e.queryConns(q).rows.map((c) => c.id)).toEqual(expected);
      }), {numRuns: 400});
    // every plan really ran, not only fell back to another
    for (const plan of ['wheel', 'key-first', 'filter-first', 'select'] as const) expect(ran.get(plan) ?? 0).toBeGreaterThan(25);
  });

  it('filters whose total the counts tell (none, the template switch, one state: the tally): the wheel walk and key-first scan equal a naive sort, windows small enough to fill early', () => {
    fc.assert(fc.property(
      fc.integer({min: 40, max: 300}), fc.integer({min: 0, max: 50}),
      fc.constantFrom(...(Object.keys(keyOf) as ConnSortKey[])), fc.boolean(),
      fc.constantFrom(undefined, 'SYN_RECV', 'ESTABLISHED', 'UDP', 'NONE'),
      fc.constantFrom<ConnQuery['templates']>(undefined, 'exclude', 'only'),
      fc.integer({min: 0, max: 12}), fc.integer({min: 1, max: 8}),
      (n, seed, sort, desc, state, templates, offset, limit) => {
        const b = build(n, seed);
        const kept = b.e.allConns().filter((c) => (!state || c.stateName === state) &&
          (templates === 'exclude' ? !c.template : templates === 'only' ? c.template : true));
        const dir = desc ? -1 : 1;
        const expected = kept.sort((x, y) => (keyOf[sort](x) - keyOf[sort](y)) * dir || slotOf(x) - slotOf(y))
          .slice(offset, offset + limit).map((c) => c.id);
        const host = (b.e as unknown as {queryHost: QueryHost}).queryHost;
        for (const plan of PLANS) {
          const got = queryConnIds(host, {state, templates, sort, desc, offset, limit}, plan);
          // each forced plan applies here (the wheel only to soonest expiry first)
          if (plan && (plan !== 'wheel' || (sort === 'expires' && !desc))) expect(got.plan).toBe(plan);
          expect(got.total).toBe(kept.length);
          expect(got.ids.map((i) => b.e.table.idOf(i))).toEqual(expected);
        }
      }), {numRuns: 300});
  });

  it('slot order with no filter but the template switch: the window and the total equal a naive scan (the scan may stop early)', () => {
    fc.assert(fc.property(
      fc.integer({min: 0, max: 120}), fc.integer({min: 0, max: 50}), fc.constantFrom('include', 'exclude', 'only'),
      fc.integer({min: 0, max: 80}), fc.integer({min: 0, max: 30}),
      (n, seed, templates, offset, limit) => {
        const b = build(n, seed);
        const all = b.e.allConns().filter((c) => templates === 'include' || (templates === 'only') === c.template)
          .sort((x, y) => slotOf(x) - slotOf(y));
        const got = b.e.queryConns({templates: templates as 'include' | 'exclude' | 'only', offset, limit});
        expect(got.total).toBe(all.length);
        expect(got.rows.map((c) => c.id)).toEqual(all.slice(offset, offset + limit).map((c) => c.id));
      }), {numRuns: 150});
  });
});
