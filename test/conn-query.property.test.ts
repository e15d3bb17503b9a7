import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {formatAddrPort} from '../src/engine/addr.js';
import type {ConnInfo, ConnSortKey} from '../src/engine/engine.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

function build(n: number, seed: number) {
  const b = new Bench({seed});
  b.service('tcp', '10.0.0.1:80', {scheduler: 'rr', persistTimeout: seed % 2 ? 100 * S : 0});
  b.service('udp', '10.0.0.2:53', {scheduler: 'rr'});
  b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80', {fwd: 'masq'});
  b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.2:80', {fwd: 'route'});
  b.dest(svcKey('udp', '10.0.0.2:53'), '10.1.0.3:53', {fwd: 'masq'});
  for (let k = 0; k < n; k++) {
    b.at(k * 0.1);
    const client = `192.0.2.${(k * 7 + seed) % 200}:${1000 + ((k * 13) % 50)}`;
    if (k % 3 === 0) b.in('udp', client, '10.0.0.2:53');
    else {
      b.in('tcp', client, '10.0.0.1:80', 'S');
      if (k % 4 === 0) b.in('tcp', client, '10.0.0.1:80', 'A');
    }
  }
  return b;
}

const keyOf: Record<ConnSortKey, (c: ConnInfo) => number> = {
  proto: (c) => c.proto,
  client: (c) => (c.caddr as number) * 65536 + c.cport,
  virtual: (c) => (c.vaddr as number) * 65536 + c.vport,
  real: (c) => (c.daddr as number) * 65536 + c.dport,
  state: (c) => c.proto * 256 + c.state + (c.template ? 65536 : 0),
  expires: (c) => c.expiresIn,
  inpkts: (c) => c.inPkts,
  outpkts: (c) => c.outPkts,
};

describe('connection window query (property)', () => {
  it('filtered, sorted windows equal a naive filter + full sort', () => {
    fc.assert(fc.property(
      fc.integer({min: 0, max: 120}), fc.integer({min: 0, max: 50}),
      fc.constantFrom(...(Object.keys(keyOf) as ConnSortKey[])), fc.boolean(),
      fc.constantFrom('', 'tcp', 'udp', 'SYN_RECV', 'ESTABLISHED', '10.1.0.1', '10.1.0.2:80', '53', '192.0.2.1', '0.2.7'),
      fc.integer({min: 0, max: 60}), fc.integer({min: 1, max: 30}),
      (n, seed, sort, desc, text, offset, limit) => {
        const b = build(n, seed);
        const all = b.e.allConns();
        const label = (c: ConnInfo) => `${b.e.connLabel(c.id)} ${c.stateName}`.toLowerCase();
        const naiveMatch = (c: ConnInfo): boolean => {
          if (!text) return true;
          if (text === 'tcp' || text === 'udp') return c.protoName.toLowerCase() === text;
          if (/^[A-Z_]+$/.test(text)) return c.stateName === text;
          if (/^\d+$/.test(text)) return [c.cport, c.vport, c.dport].includes(Number(text));
          if (text.includes(':')) return [formatAddrPort(c.caddr, c.cport), formatAddrPort(c.vaddr, c.vport), formatAddrPort(c.daddr, c.dport)].includes(text);
          if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) return [c.caddr, c.vaddr, c.daddr].map((a) => formatAddrPort(a, 0).slice(0, -2)).includes(text);
          return label(c).includes(text);
        };
        const dir = desc ? -1 : 1;
        const expected = all.filter(naiveMatch)
          .sort((x, y) => (keyOf[sort](x) - keyOf[sort](y)) * dir || (x.id - y.id))
          .slice(offset, offset + limit).map((c) => c.id);
        const got = b.e.queryConns({text, sort, desc, offset, limit});
        expect(got.total).toBe(all.filter(naiveMatch).length);
        expect(got.rows.map((c) => c.id)).toEqual(expected);
      }), {numRuns: 150});
  });

  it('slot order with no filter but the template switch: the window and the total equal a naive scan (the scan may stop early)', () => {
    fc.assert(fc.property(
      fc.integer({min: 0, max: 120}), fc.integer({min: 0, max: 50}), fc.constantFrom('include', 'exclude', 'only'),
      fc.integer({min: 0, max: 80}), fc.integer({min: 0, max: 30}),
      (n, seed, templates, offset, limit) => {
        const b = build(n, seed);
        const all = b.e.allConns().filter((c) => templates === 'include' || (templates === 'only') === c.template).sort((x, y) => x.id - y.id);
        const got = b.e.queryConns({templates: templates as 'include' | 'exclude' | 'only', offset, limit});
        expect(got.total).toBe(all.length);
        expect(got.rows.map((c) => c.id)).toEqual(all.slice(offset, offset + limit).map((c) => c.id));
      }), {numRuns: 150});
  });
});
