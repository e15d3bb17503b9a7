// Applying entries on a backup (ip_vs_sync.c, ip_vs_proc_conn) and the daemons end to end in one process: two engines
// joined by the in-memory network, plus crafted messages for the corner cases of ip_vs_proc_conn.
import {describe, expect, it} from 'vitest';
import {parseAddr} from '../src/engine/addr.js';
import {CONN_F} from '../src/engine/constants.js';
import type {SyncConn} from '../src/engine/sync-conn.js';
import {encodeV0Message, encodeV1Message} from '../src/sync/codec.js';
import {compareSync} from '../src/sync/compare.js';
import {SyncManager} from '../src/sync/manager.js';
import {MemorySyncNetwork} from '../src/sync/memory.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

const VIP = '198.51.100.1:443';
const CLIENT = '192.0.2.10:40000';
const RS1 = '10.1.0.2:443';
const RS2 = '10.1.0.3:443';
const ip = (t: string) => parseAddr(t)!.addr;

function director(opts: {persist?: number; fwd?: 'masq' | 'route'; services?: boolean} = {}) {
  const b = new Bench();
  if (opts.services !== false) {
    b.service('tcp', VIP, {scheduler: 'rr', persistTimeout: (opts.persist ?? 0) * S});
    b.dest(svcKey('tcp', VIP), RS1, {fwd: opts.fwd ?? 'masq'});
  }
  return b;
}

/** A master and a backup engine on one in-memory network, clocks moved together. */
async function pair(opts: {master?: Bench; backup?: Bench; version?: number; masterSyncId?: number; backupSyncId?: number} = {}) {
  const net = new MemorySyncNetwork();
  const m = opts.master ?? director();
  const b = opts.backup ?? director();
  if (opts.version !== undefined) m.e.setTunable('sync_version', String(opts.version));
  const mm = new SyncManager(m.e, net.endpoint('director1'));
  const bm = new SyncManager(b.e, net.endpoint('director2'));
  await bm.start({role: 'backup', syncId: opts.backupSyncId ?? 0});
  await mm.start({role: 'master', syncId: opts.masterSyncId ?? 0});
  /** Advance both clocks to t seconds and let the master send what is due. */
  const at = (t: number) => {
    m.at(t);
    b.at(t);
    mm.poll();
  };
  return {net, m, b, mm, bm, at};
}

function rawBackup(b: Bench) {
  b.e.startDaemon({role: 'backup'});
  const net = new MemorySyncNetwork();
  const bm = new SyncManager(b.e, net.endpoint('b'));
  bm.reconcile();
  return {
    bm,
    send: (msg: Uint8Array) => bm.backup!.receive(msg, 'test'),
  };
}

function entry(c: Partial<SyncConn>): SyncConn {
  return {af: 4, proto: 6, flags: 0, state: 1, cport: 40000, vport: 443, dport: 443, fwmark: 0, timeout: 900,
    caddr: ip('192.0.2.10'), vaddr: ip('198.51.100.1'), daddr: ip('10.1.0.2'), ...c};
}

describe('a master and a backup in one process', () => {
  for (const version of [1, 0] as const) {
    it(`v${version}: the worked example reaches the backup with states, timers, server and counters`, async () => {
      const {m, b, at, bm} = await pair({master: director({persist: 300}), backup: director({persist: 300}), version});
      for (const f of ['S', 'A', 'PA']) m.in('tcp', CLIENT, VIP, f);
      m.out('tcp', RS1, CLIENT, 'FA');
      m.in('tcp', CLIENT, VIP, 'FA');
      at(3);
      const c = b.conn('tcp', CLIENT, VIP)!;
      expect(c).toMatchObject({stateName: 'TIME_WAIT', timeout: 120 * S, control: -1, nControl: 0, inPkts: 3});
      expect(c.flags & CONN_F.SYNC).toBeTruthy();
      expect(c.expiresIn).toBeGreaterThan(118 * S);
      const dest = b.e.getDest(c.destId)!;
      expect(`${dest.port}`).toBe('443');
      expect([dest.activeConns, dest.inactConns, dest.persistConns]).toEqual([0, 1, 1]);
      const t = b.templates()[0]!;
      // v1 carries the template's 300 s; v0 carries no timeout: templates get 180 s
      expect(t).toMatchObject({stateName: 'ASSURED', cport: 0, timeout: (version === 1 ? 300 : 180) * S, nControl: 0});
      expect(bm.stats().backup!.applied).toEqual(version === 1 ? {created: 2, updated: 4, replaced: 0, stale: 0} :
        {created: 2, updated: 2, replaced: 0, stale: 0});
      const cmp = compareSync(m.e, b.e);
      expect(cmp).toMatchObject({matched: 2, onlyBackup: [], stateMismatch: [], serverMismatch: [], inSync: true});
    });
  }

  it('without the service on the backup, entries stay unbound with the server from the message', async () => {
    const {m, b, at} = await pair({backup: director({services: false})});
    for (const f of ['S', 'A', 'PA']) m.in('tcp', CLIENT, VIP, f);
    at(3);
    const c = b.conn('tcp', CLIENT, VIP)!;
    expect(c).toMatchObject({destId: -1, daddr: ip('10.1.0.2'), dport: 443, stateName: 'ESTABLISHED'});
  });

  it('binding takes the forwarding method from the backup\'s own dest, keeping the synced INACTIVE bit', async () => {
    const {m, b, at} = await pair({master: director({fwd: 'route'}), backup: director({fwd: 'masq'})});
    for (const f of ['S', 'A', 'A']) m.in('tcp', CLIENT, VIP, f);
    at(3);
    expect(m.conn('tcp', CLIENT, VIP)!.fwd).toBe('route');
    const c = b.conn('tcp', CLIENT, VIP)!;
    expect(c.fwd).toBe('masq');
    expect(c.flags & (CONN_F.NOOUTPUT | CONN_F.INACTIVE)).toBe(0);
  });

  it('syncid: a backup with another syncid ignores the master; syncid 0 accepts it', async () => {
    const p1 = await pair({masterSyncId: 5, backupSyncId: 6});
    for (const f of ['S', 'A', 'A']) p1.m.in('tcp', CLIENT, VIP, f);
    p1.at(3);
    expect(p1.b.conn('tcp', CLIENT, VIP)).toBeNull();
    expect(p1.bm.stats().backup!.messages.rejected).toEqual({syncid: 1});
    const p2 = await pair({masterSyncId: 5, backupSyncId: 0});
    for (const f of ['S', 'A', 'A']) p2.m.in('tcp', CLIENT, VIP, f);
    p2.at(3);
    expect(p2.b.conn('tcp', CLIENT, VIP)).not.toBeNull();
  });

  it('IPv6 connections travel in version 1', async () => {
    const mk = () => {
      const x = new Bench();
      x.service('udp', '[2001:db8::1]:53', {scheduler: 'rr'});
      x.dest(svcKey('udp', '[2001:db8::1]:53'), '[2001:db8:1::31]:53', {fwd: 'masq'});
      return x;
    };
    const {m, b, at} = await pair({master: mk(), backup: mk()});
    for (let k = 0; k < 3; k++) m.in('udp', '[2001:db8::10]:5353', '[2001:db8::1]:53');
    at(3);
    expect(b.conn('udp', '[2001:db8::10]:5353', '[2001:db8::1]:53')).toMatchObject({daddr: '2001:db8:1::31', stateName: 'UDP'});
  });

  it('backup_only turns the backup\'s director function off while its backup role runs', async () => {
    const {b, bm} = await pair();
    b.e.setTunable('backup_only', '1');
    expect(b.in('tcp', '192.0.2.99:1000', VIP, 'S')).toMatchObject({action: 'accept', reason: 'backup-only'});
    bm.stop('backup');
    expect(b.in('tcp', '192.0.2.99:1000', VIP, 'S')).toMatchObject({action: 'forward'});
  });

  it('a role started through engine.startDaemon (as ipvsadm --start-daemon does) runs at the next poll', async () => {
    const net = new MemorySyncNetwork();
    const m = director(), b = director();
    const mm = new SyncManager(m.e, net.endpoint('m'));
    const bm = new SyncManager(b.e, net.endpoint('b'));
    b.e.startDaemon({role: 'backup'});
    m.e.startDaemon({role: 'master'});
    bm.poll();
    mm.poll();
    expect(mm.master).not.toBeNull();
    for (const f of ['S', 'A', 'A']) m.in('tcp', CLIENT, VIP, f);
    m.at(3);
    mm.poll();
    expect(b.conn('tcp', CLIENT, VIP)).not.toBeNull();
    m.e.stopDaemon('master');
    mm.poll();
    expect(mm.master).toBeNull();
    expect(() => mm.stop('master')).toThrow(/not running/);
  });

  it('demo-like traffic converges: every expected entry present with the same state and server', async () => {
    const mk = () => {
      const x = new Bench();
      x.service('tcp', '10.0.0.1:80', {scheduler: 'wlc'});
      for (const rs of ['10.1.0.11:8080', '10.1.0.12:8080']) x.dest(svcKey('tcp', '10.0.0.1:80'), rs, {fwd: 'masq'});
      x.service('tcp', '10.0.0.2:443', {scheduler: 'wrr', persistTimeout: 300 * S});
      for (const rs of ['10.1.0.21:443', '10.1.0.22:443']) x.dest(svcKey('tcp', '10.0.0.2:443'), rs, {fwd: 'route'});
      return x;
    };
    const {m, b, at, mm} = await pair({master: mk(), backup: mk()});
    const {TrafficMixer} = await import('../src/traffic/mixer.js');
    const mix = new TrafficMixer(m.e, 3);
    mix.add({kind: 'clients', to: '10.0.0.1:80', rate: 50, hold: 0});
    mix.add({kind: 'clients', to: '10.0.0.2:443', rate: 20, hold: 0, close: 'client'});
    for (let t = 0.1; t <= 5; t += 0.1) {
      mix.advance(t * S);
      at(t);
    }
    for (const x of mix.list()) mix.get(x.id).stop();
    for (let t = 5.1; t <= 9; t += 0.1) {
      mix.advance(t * S);
      at(t);
    }
    const cmp = compareSync(m.e, b.e);
    expect(cmp.stateMismatch).toEqual([]);
    expect(cmp.serverMismatch).toEqual([]);
    expect(cmp.expectedMissing).toEqual([]);
    expect(cmp.matched).toBeGreaterThan(300);
    expect(cmp.inSync).toBe(true);
    expect(mm.stats().master!.entries.sent).toBeGreaterThan(cmp.matched);
  });
});

describe('ip_vs_proc_conn corner cases (crafted messages)', () => {
  it('a new active entry for a tuple bound elsewhere replaces it; an INACTIVE one is a stale notice', () => {
    const b = director();
    b.dest(svcKey('tcp', VIP), RS2, {fwd: 'masq'});
    const {send, bm} = rawBackup(b);
    send(encodeV1Message(0, [entry({})]));
    const d1 = b.e.getDest(b.conn('tcp', CLIENT, VIP)!.destId)!;
    expect(d1.activeConns).toBe(1);
    send(encodeV1Message(0, [entry({daddr: ip('10.1.0.3')})]));
    const c = b.conn('tcp', CLIENT, VIP)!;
    expect(c.daddr).toBe(ip('10.1.0.3'));
    expect(d1.activeConns).toBe(0);
    expect(b.e.allConns()).toHaveLength(1);
    send(encodeV1Message(0, [entry({state: 5, flags: CONN_F.INACTIVE})])); // old server, INACTIVE
    expect(b.conn('tcp', CLIENT, VIP)).toMatchObject({daddr: ip('10.1.0.3'), stateName: 'ESTABLISHED'});
    expect(bm.stats().backup!.applied).toEqual({created: 1, updated: 0, replaced: 1, stale: 1});
  });

  it('an update moves the entry between activeconns and inactconns and changes only the 0x0700 bits', () => {
    const b = director();
    const {send} = rawBackup(b);
    send(encodeV1Message(0, [entry({flags: CONN_F.DROUTE | CONN_F.NOOUTPUT})]));
    const c0 = b.conn('tcp', CLIENT, VIP)!;
    const d = b.e.getDest(c0.destId)!;
    expect([d.activeConns, d.inactConns]).toEqual([1, 0]);
    expect(c0.fwd).toBe('masq'); // from the backup's dest
    send(encodeV1Message(0, [entry({state: 5, timeout: 120, flags: CONN_F.INACTIVE | CONN_F.IN_SEQ | CONN_F.TUNNEL | CONN_F.NO_CPORT,
      inSeq: {initSeq: 1, delta: 2, previousDelta: 3}})]));
    const c1 = b.conn('tcp', CLIENT, VIP)!;
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
    expect(c1.flags & 0x0700).toBe(CONN_F.INACTIVE | CONN_F.IN_SEQ);
    expect(c1.flags & ~0x0700).toBe(c0.flags & ~0x0700); // forwarding, NO_CPORT... untouched
    expect(c1).toMatchObject({stateName: 'TIME_WAIT', timeout: 120 * S});
  });

  it('timeouts: v1 seconds (capped to what the engine holds), v1 0 and v0 use the protocol table, templates 180 s', () => {
    const b = director();
    const {send} = rawBackup(b);
    b.e.setTimeouts(1000, 0, 0);
    send(encodeV1Message(0, [entry({timeout: 0})]));
    expect(b.conn('tcp', CLIENT, VIP)!.timeout).toBe(1000 * S); // ESTABLISHED per --set
    send(encodeV1Message(0, [entry({timeout: 0xffffffff})]));
    expect(b.conn('tcp', CLIENT, VIP)!.timeout).toBe(4294967 * S);
    send(encodeV0Message(0, [entry({state: 4, cport: 40001})]));
    expect(b.conn('tcp', '192.0.2.10:40001', VIP)!.timeout).toBe(120 * S); // FIN_WAIT
    send(encodeV0Message(0, [entry({flags: CONN_F.TEMPLATE | CONN_F.INACTIVE, cport: 0, state: 1})]));
    expect(b.templates()[0]).toMatchObject({timeout: 180 * S, fwmark: 0});
  });

  it('fwmark templates: bound to the fwmark service by the v1 mark; v0 carries none and stays unbound', () => {
    const b = new Bench();
    b.fwmarkService(7, {scheduler: 'rr', persistTimeout: 300 * S});
    b.dest({kind: 'fwmark', af: 4, fwmark: 7}, '10.1.0.2:0', {fwd: 'route'});
    const {send} = rawBackup(b);
    const tpl = entry({proto: 0, vaddr: 7, vport: 0, dport: 0, cport: 0, fwmark: 7, timeout: 300,
      flags: CONN_F.TEMPLATE | CONN_F.INACTIVE | CONN_F.DROUTE | CONN_F.NOOUTPUT});
    send(encodeV1Message(0, [tpl]));
    const t = b.templates()[0]!;
    expect(t).toMatchObject({fwmarkTemplate: true, vaddr: 7, protoName: 'IP', timeout: 300 * S});
    expect(t.destId).toBeGreaterThan(0);
    expect(b.e.getDest(t.destId)!.persistConns).toBe(1);
    // a v0 template (another client) carries no mark: its service is not found, it stays unbound
    send(encodeV0Message(0, [{...tpl, caddr: ip('192.0.2.11')}]));
    const t2 = b.templates().find((x) => x.caddr === ip('192.0.2.11'))!;
    expect(t2).toMatchObject({fwmarkTemplate: true, destId: -1, timeout: 180 * S});
  });

  it('entries are created before their service exists and bound once a later update finds it', () => {
    const b = new Bench();
    const {send} = rawBackup(b);
    send(encodeV1Message(0, [entry({})]));
    expect(b.conn('tcp', CLIENT, VIP)!.destId).toBe(-1);
    b.service('tcp', VIP, {scheduler: 'rr'});
    const d = b.dest(svcKey('tcp', VIP), RS1, {fwd: 'masq'});
    send(encodeV1Message(0, [entry({})]));
    expect(b.conn('tcp', CLIENT, VIP)!.destId).toBe(d.id);
    expect(d.activeConns).toBe(1);
  });

  it('a datagram longer than the backup\'s sync_maxlen is cut to it, so its size check fails', () => {
    const b = director();
    b.e.startDaemon({role: 'backup', syncMaxLen: 1024}); // clamp: [1024, 65535 - 28]
    const bm = new SyncManager(b.e, new MemorySyncNetwork().endpoint('b'));
    bm.reconcile();
    expect(bm.backup!.syncMaxLen).toBe(1024);
    const conns = Array.from({length: 30}, (_, k) => entry({cport: 1000 + k})); // 8 + 30 * 36 = 1088 bytes
    const res = bm.backup!.receive(encodeV1Message(0, conns));
    expect(res.decoded).toMatchObject({ok: false, reject: 'size-mismatch', size: 1088, length: 1024});
    expect(b.e.table.count).toBe(0);
    expect(bm.backup!.receive(encodeV1Message(0, conns.slice(0, 28))).applied).toHaveLength(28);
  });

  it('start/stop errors come from the engine: EEXIST, ESRCH, EINVAL', async () => {
    const b = director();
    const bm = new SyncManager(b.e, new MemorySyncNetwork().endpoint('b'));
    await bm.start({role: 'backup'});
    await expect(bm.start({role: 'backup'})).rejects.toMatchObject({errno: 'EEXIST'});
    expect(() => bm.stop('master')).toThrow(expect.objectContaining({errno: 'ESRCH'}));
    await expect(bm.start({role: 'master', syncId: 300})).rejects.toMatchObject({errno: 'EINVAL'});
    bm.close();
    expect(b.e.syncState).toBe(0);
  });

  it('a v0 entry with the ONE_PACKET bit is created unhashed and expires at once', () => {
    const b = director();
    const {send, bm} = rawBackup(b);
    send(encodeV0Message(0, [entry({proto: 17, state: 0, flags: CONN_F.ONE_PACKET})]));
    expect(b.e.table.count).toBe(0);
    expect(bm.stats().backup!.applied.created).toBe(1);
  });
});

