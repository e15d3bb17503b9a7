import {describe, expect, it} from 'vitest';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

const VIP = '10.0.0.1:80';

function flood(b: Bench, n: number, from = 0) {
  const verdicts: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = from + i;
    verdicts.push(b.in('tcp', `198.18.${(k >> 8) & 255}.${k & 255}:${1024 + (k % 60000)}`, VIP, 'S').action);
  }
  return verdicts;
}

function bench() {
  const b = new Bench();
  b.service('tcp', VIP, {scheduler: 'rr'});
  b.dest(svcKey('tcp', VIP), '10.1.0.1:80', {fwd: 'masq'});
  return b;
}

describe('defense modes (update_defense_level)', () => {
  it('drop_packet=1 with plenty of memory stays 1 and drops nothing', () => {
    const b = bench();
    b.e.setAvailablePages(1500);
    b.e.setTunable('drop_packet', '1');
    b.at(1);
    expect(b.e.readTunable('drop_packet')).toBe('1');
    expect(b.e.defense.dropRate).toBe(0);
    expect(flood(b, 10).every((a) => a === 'forward')).toBe(true);
  });

  it('available memory below amemthresh flips drop_packet 1->2 with rate amemthresh/(amemthresh-avail)', () => {
    const b = bench();
    b.e.setAvailablePages(1500);
    b.e.setTunable('drop_packet', '1');
    b.e.setAvailablePages(768);
    b.at(1);
    expect(b.e.readTunable('drop_packet')).toBe('2');
    expect(b.e.defense.dropRate).toBe(4);
    // attempts #1..#3 pass, #4 dropped, #5..#7 pass, #8 dropped
    expect(flood(b, 8)).toEqual(['forward', 'forward', 'forward', 'drop', 'forward', 'forward', 'forward', 'drop']);
    b.e.setAvailablePages(512);
    b.at(2);
    expect(b.e.defense.dropRate).toBe(2);
    b.e.setAvailablePages(2000);
    b.at(3);
    expect(b.e.readTunable('drop_packet')).toBe('1');
    expect(b.e.defense.dropRate).toBe(0);
  });

  it('drop_packet=3 with am_droprate=10 on a fresh boot drops attempt #1, then #11', () => {
    const b = bench();
    b.e.setTunable('drop_packet', '3'); // written value differs: immediate update_defense_level
    const v = flood(b, 12);
    expect(v[0]).toBe('drop');
    expect(v.slice(1, 10).every((a) => a === 'forward')).toBe(true);
    expect(v[10]).toBe('drop');
    expect(b.e.counters.dropped.get('drop-packet-defense')).toBe(2);
  });

  it('drop_packet never drops packets of existing connections', () => {
    const b = bench();
    b.in('tcp', '192.0.2.1:1', VIP, 'S');
    b.e.setAvailablePages(0);
    b.e.setTunable('drop_packet', '3');
    b.e.setTunable('am_droprate', '1');
    b.at(1);
    expect(b.in('tcp', '192.0.2.1:1', VIP, 'A').action).toBe('forward');
    expect(b.in('tcp', '192.0.2.1:2', VIP, 'S').action).toBe('drop');
  });

  it('secure_tcp 1 switches to the dos table when memory runs short and back when it recovers', () => {
    const b = bench();
    b.e.setTunable('secure_tcp', '1');
    expect(b.e.defense.secureTable).toBe(false);
    b.e.setAvailablePages(100);
    b.at(1);
    expect(b.e.readTunable('secure_tcp')).toBe('2');
    expect(b.e.defense.secureTable).toBe(true);
    b.e.setAvailablePages(5000);
    b.at(2);
    expect(b.e.readTunable('secure_tcp')).toBe('1');
    expect(b.e.defense.secureTable).toBe(false);
  });

  it('the defense timer runs every second of virtual time, not between', () => {
    const b = bench();
    b.e.setTunable('drop_entry', '1');
    b.e.setAvailablePages(10);
    b.at(0.999);
    expect(b.e.readTunable('drop_entry')).toBe('1');
    b.at(1);
    expect(b.e.readTunable('drop_entry')).toBe('2');
  });

  it('the simulated host: a SYN flood drains available pages by the kernel entry size (320 B)', () => {
    const b = new Bench({memory: {totalBytes: 64 * 2 ** 20, usedBytes: 32 * 2 ** 20}});
    b.service('tcp', VIP, {scheduler: 'rr'});
    b.dest(svcKey('tcp', VIP), '10.1.0.1:80', {fwd: 'masq'});
    const before = b.e.availablePages();
    expect(before).toBe(8192);
    flood(b, 1280); // 1280 * 320 B = 100 pages
    expect(b.e.availablePages()).toBe(8092);
  });
});

describe('drop_entry random sweep (ip_vs_random_dropentry)', () => {
  it('drops SYN_RECV entries from the visited buckets and counts them by cause', () => {
    const b = bench();
    flood(b, 4000);
    const before = b.e.table.count;
    b.e.setTunable('drop_entry', '3');
    b.at(1);
    const dropped = before - b.e.table.count;
    expect(dropped).toBeGreaterThan(0);
    expect(b.e.counters.dropEntry.get('SYN_RECV')).toBe(dropped);
    // 128 of 4096 buckets per run: about 1/32 of the table, never all of it
    expect(dropped).toBeLessThan(before / 8);
  });

  it('keeps ESTABLISHED entries younger than 60 s and those with more than 8 packets', () => {
    const b = bench();
    for (let i = 0; i < 300; i++) {
      const c = `192.0.2.${i % 250}:${2000 + i}`;
      b.in('tcp', c, VIP, 'S'); b.in('tcp', c, VIP, 'A');
      if (i % 2) for (let k = 0; k < 8; k++) b.in('tcp', c, VIP, 'PA'); // 10 packets
    }
    b.e.setTunable('drop_entry', '3');
    for (let t = 1; t <= 30; t++) b.at(t);
    expect(b.e.table.count).toBe(300); // too young
    for (let t = 31; t <= 120; t++) b.at(t);
    const left = b.e.allConns();
    expect(left.length).toBeLessThan(300);
    // every dropped entry had 2 packets; all busy ones survive
    expect(left.filter((c) => c.inPkts === 10)).toHaveLength(150);
    expect(b.e.counters.dropEntry.get('ESTABLISHED')).toBe(300 - left.length);
  });

  it('an unassured template is dropped, an assured one kept', () => {
    const b = new Bench();
    b.service('tcp', VIP, {scheduler: 'rr', persistTimeout: 3600 * S});
    b.dest(svcKey('tcp', VIP), '10.1.0.1:80', {fwd: 'masq'});
    for (let i = 0; i < 2000; i++) b.in('tcp', `198.18.${i >> 8}.${i & 255}:1000`, VIP, 'S');
    b.in('tcp', '192.0.2.1:1000', VIP, 'S'); b.in('tcp', '192.0.2.1:1000', VIP, 'A');
    b.e.setTunable('drop_entry', '3');
    for (let t = 1; t <= 200; t++) b.at(t);
    const tpl = b.templates();
    expect(tpl.some((t) => t.stateName === 'ASSURED')).toBe(true);
    expect(tpl.filter((t) => t.stateName === 'NONE').length).toBeLessThan(2000);
    expect(b.e.counters.dropEntry.get('template')).toBeGreaterThan(0);
  });
});
