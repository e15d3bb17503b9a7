// What a sync backup accepts. The kernel (ip_vs_sync.c, sync_thread_backup / ip_vs_process_message)
// checks the datagram's size, the syncid and each entry, never the sender: the optional allowed-peer
// list is lvsdeck's own. Synced entries are ordinary entries for the memory defenses: they count
// against amemthresh and drop_entry removes them (ip_vs_random_dropentry has no SYNC exemption).
import {createSocket} from 'node:dgram';
import {describe, expect, it} from 'vitest';
import {attachSyncDaemons} from '../src/sim/sync-attach.js';
import {Simulation} from '../src/sim/simulation.js';
import {parseAddr} from '../src/engine/addr.js';
import type {SyncConn} from '../src/engine/sync-conn.js';
import {SyncBackup, SyncPeerError} from '../src/sync/backup.js';
import {encodeV1Message} from '../src/sync/codec.js';
import {Bench, svcKey} from './helpers/engine-fixture.js';

const ip = (t: string) => parseAddr(t)!.addr;

function synced(i: number, timeoutS = 0xffffffff / 1000 | 0): SyncConn {
  return {
    af: 4, proto: 6, flags: 0, state: 3, cport: 1024 + (i % 60000), vport: 80, dport: 80, fwmark: 0,
    timeout: timeoutS, caddr: ip(`198.18.${(i >> 8) & 0xff}.${i & 0xff}`), vaddr: ip('10.0.0.1'), daddr: ip('10.1.0.1'),
  };
}

function backupBench(memory?: {totalBytes: number; usedBytes: number}) {
  const b = new Bench({seed: 5, ...(memory ? {memory} : {})});
  b.service('tcp', '10.0.0.1:80', {scheduler: 'rr'});
  b.dest(svcKey('tcp', '10.0.0.1:80'), '10.1.0.1:80', {fwd: 'route'});
  return {b, cfg: b.e.startDaemon({role: 'backup'})};
}

describe('sync backup: allowed peers (lvsdeck addition; the kernel accepts any sender)', () => {
  it('without a list every sender is accepted, as the kernel does', () => {
    const {b, cfg} = backupBench();
    const backup = new SyncBackup(b.e, cfg);
    expect(backup.receive(encodeV1Message(0, [synced(1)]), '203.0.113.66:4000').applied).toHaveLength(1);
  });

  it('with a list, a datagram from elsewhere is dropped before decoding and counted as "sender"', () => {
    const {b, cfg} = backupBench();
    const backup = new SyncBackup(b.e, cfg, {allowedPeers: ['192.0.2.10', '2001:db8::/64', '10.9.0.0/16']});
    const msg = encodeV1Message(0, [synced(1)]);
    const r = backup.receive(msg, '203.0.113.66:4000');
    expect(r.decoded.reject).toBe('sender');
    expect(r.applied).toHaveLength(0);
    expect(b.e.conns.count).toBe(0);
    expect(backup.stats.messages.rejected).toEqual({sender: 1});
    expect(backup.receive(msg, null).decoded.reject).toBe('sender'); // unknown sender: refused too
    expect(backup.receive(msg, '192.0.2.10:8848').applied).toHaveLength(1);
    expect(backup.receive(encodeV1Message(0, [synced(2)]), '::ffff:10.9.3.4:8848').applied).toHaveLength(1);
    expect(backup.receive(encodeV1Message(0, [synced(3)]), '2001:db8::7:8848').applied).toHaveLength(1);
  });

  it('a bad list entry is refused with its text', () => {
    const {b, cfg} = backupBench();
    expect(() => new SyncBackup(b.e, cfg, {allowedPeers: ['10.0.0.0/33']})).toThrow(SyncPeerError);
    expect(() => new SyncBackup(b.e, cfg, {allowedPeers: ['nope']})).toThrow(/bad allowed peer 'nope'/);
  });
});

describe('sync backup: synced entries meet the memory defenses like any other (ip_vs_random_dropentry)', () => {
  it('a flood of synced entries with 49-day timeouts lowers available memory, turns drop_entry on, and drop_entry removes them', () => {
    // 64 MiB host, 48 MiB used: 4096 free pages; each entry costs the kernel's slab object
    const {b, cfg} = backupBench({totalBytes: 64 * 2 ** 20, usedBytes: 48 * 2 ** 20});
    b.e.setTunable('drop_entry', '1');
    b.e.setTunable('amemthresh', '2048');
    const backup = new SyncBackup(b.e, cfg);
    const before = b.e.availablePages();
    for (let k = 0; k < 800; k++) {
      backup.receive(encodeV1Message(0, Array.from({length: 40}, (_, j) => synced(k * 40 + j))), '192.0.2.10:8848');
    }
    expect(b.e.conns.count).toBe(32_000);
    expect(b.e.availablePages()).toBeLessThan(2048); // the synced entries use the host's memory
    expect(before).toBeGreaterThan(2048);
    // the defense timer runs every second; drop_entry only takes entries idle for 60 s (todrop_entry)
    b.e.tick(b.e.now + 120_000);
    const dropped = [...b.e.counters.dropEntry.values()].reduce((a, n) => a + n, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(b.e.conns.count).toBe(32_000 - dropped);
  });
});

describe('--sync-allow of the live UI and serve: the host\'s sync daemons (src/sim/sync-attach.ts) get the list', () => {
  it('a backup started with an allowed-peer list drops a datagram from another sender over real UDP on loopback', async () => {
    const port = 20000 + (process.pid % 20000);
    const hosts = [['192.0.2.1'], ['127.0.0.1']].map(async (allowedPeers) => {
      const sim = new Simulation({seed: 1});
      return attachSyncDaemons(sim, {roles: ['backup'], peer: `127.0.0.1:${port + (allowedPeers[0] === '127.0.0.1' ? 100 : 0)}`, allowedPeers});
    });
    const [refusing, accepting] = await Promise.all(hosts);
    const sock = createSocket('udp4');
    try {
      const empty = Buffer.from([0, 0, 0, 8, 0, 0, 0, 0]);   // a message with no entries (count 0, size 8)
      await new Promise<void>((r) => sock.send(empty, port, '127.0.0.1', () => r()));
      await new Promise<void>((r) => sock.send(empty, port + 100, '127.0.0.1', () => r()));
      const backupOf = (m: typeof refusing) => m.stats().backup!;
      for (let i = 0; i < 100 && (!backupOf(refusing).messages.rejected.sender || !backupOf(accepting).lastFrom); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(backupOf(refusing).messages.rejected).toEqual({sender: 1});
      expect(backupOf(accepting).messages).toMatchObject({received: 1, rejected: {}});
      expect(backupOf(accepting).lastFrom).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      sock.close();
      refusing.close();
      accepting.close();
    }
  });
});
