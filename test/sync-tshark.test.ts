// Cross-check with Wireshark's IPVS dissector: a version 0 master sends on loopback (127.0.0.1),
// tshark captures, and its decode (-d udp.port==PORT,ipvs) must show the header and entry fields
// we wrote. Skipped when tshark is not installed (Debian package: tshark) or cannot capture.
import {spawn, spawnSync} from 'node:child_process';
import dgram from 'node:dgram';
import {afterAll, describe, expect, it} from 'vitest';
import {formatIPv4} from '../src/engine/addr.js';
import {encodeV0Message, decodeMessage} from '../src/sync/codec.js';
import {udpTransport} from '../src/sync/daemon.js';
import {SyncManager} from '../src/sync/manager.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

const hasTshark = spawnSync('sh', ['-c', 'command -v tshark'], {encoding: 'utf8'}).status === 0;
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const f of cleanups) f();
});

const FIELDS = ['ipvs.conncount', 'ipvs.syncid', 'ipvs.size', 'ipvs.proto', 'ipvs.cport', 'ipvs.vport', 'ipvs.dport',
  'ipvs.caddr', 'ipvs.vaddr', 'ipvs.daddr', 'ipvs.flags', 'ipvs.state', 'ipvs.in_seq.initial', 'ipvs.out_seq.delta'];

const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}`;

describe.skipIf(!hasTshark)('tshark reads our version 0 messages', () => {
  it('header and entry fields match what the master wrote', async (ctx) => {
    const sock = dgram.createSocket('udp4');
    cleanups.push(() => { try { sock.close(); } catch { /* closed */ } });
    const got: Uint8Array[] = [];
    sock.on('message', (m) => got.push(new Uint8Array(m)));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;

    // Live capture and decode: tshark prints one line of fields per datagram it dissects.
    const cap = spawn('tshark', ['-i', 'lo', '-l', '-f', `udp and dst port ${port}`, '-a', 'duration:30',
      '-d', `udp.port==${port},ipvs`, '-T', 'fields', '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f])],
    {stdio: ['ignore', 'pipe', 'pipe']});
    cleanups.push(() => { if (cap.exitCode === null) cap.kill('SIGKILL'); });
    let err = '';
    cap.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const lines: string[] = [];
    let partial = '';
    cap.stdout.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
    });
    // "Capturing on" comes before the capture is live: probe with empty v0 messages (nr_conns 0,
    // size 4) until tshark shows one.
    const probe = Uint8Array.from([0, 42, 0, 4]);
    for (let k = 0; k < 100 && lines.length === 0 && cap.exitCode === null; k++) {
      sock.send(probe, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
    }
    if (lines.length === 0) {
      ctx.skip(`tshark cannot capture on lo here: ${err.trim().split('\n').pop()}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
    got.length = 0;
    const isProbe = (l: string) => l.split('\t')[2] === '4'; // size 4: a probe
    const real = () => lines.filter((l) => !isProbe(l));

    // A version 0 master with small messages (4 entries each) over the UDP transport.
    const b = new Bench();
    const vip = '198.51.100.1:443';
    b.service('tcp', vip, {scheduler: 'rr', persistTimeout: 300 * S});
    b.dest(svcKey('tcp', vip), '10.1.0.2:443', {fwd: 'masq'});
    b.e.setTunable('sync_version', '0');
    const mgr = new SyncManager(b.e, udpTransport({peer: {host: '127.0.0.1', port}}));
    cleanups.push(() => mgr.close());
    await mgr.start({role: 'master', syncId: 42, syncMaxLen: 4 + 4 * 24});
    for (let k = 0; k < 3; k++) {
      const client = `192.0.2.${10 + k}:${40000 + k}`;
      for (const f of ['S', 'A', 'PA']) b.in('tcp', client, vip, f);
      b.out('tcp', '10.1.0.2:443', client, 'FA');
      b.in('tcp', client, vip, 'FA');
    }
    b.at(3);
    mgr.poll();
    // plus one hand-made message with sequence data (host order on the wire)
    const seqMsg = encodeV0Message(42, [{af: 4, proto: 6, flags: 0x0600, state: 1, cport: 40100, vport: 21, dport: 21,
      fwmark: 0, timeout: 0, caddr: 0xc000020a, vaddr: 0xc6336401, daddr: 0x0a010002,
      inSeq: {initSeq: 0x11223344, delta: 0x10, previousDelta: 8}, outSeq: {initSeq: 0xaabbccdd, delta: 0x20, previousDelta: 0x18}}]);
    sock.send(seqMsg, port, '127.0.0.1');

    for (let k = 0; k < 100 && (got.length < 4 || real().length < 4); k++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    cap.kill('SIGINT');
    // 3 clients x (C, T at the request; C, T at the close) = 12 entries in 4-entry messages, + the seq message
    expect(got.length).toBe(4);
    const rows = real().map((l) => l.split('\t'));
    expect(rows).toHaveLength(4);
    const tpls = b.e.allConns().filter((c) => c.template).length;
    expect(tpls).toBe(3);

    rows.forEach((cols, k) => {
      const f = Object.fromEntries(FIELDS.map((name, j) => [name, cols[j] ?? '']));
      const d = decodeMessage(got[k]!);
      expect(d.version).toBe(0);
      expect(Number(f['ipvs.conncount'])).toBe(d.nrConns);
      expect(Number(f['ipvs.syncid'])).toBe(42);
      expect(Number(f['ipvs.size'])).toBe(got[k]!.length);
      const list = (name: string) => f[name]!.split(',');
      expect(list('ipvs.proto')).toEqual(d.entries.map((e) => hex(e.conn.proto, 2)));
      expect(list('ipvs.cport')).toEqual(d.entries.map((e) => String(e.conn.cport)));
      expect(list('ipvs.vport')).toEqual(d.entries.map((e) => String(e.conn.vport)));
      expect(list('ipvs.dport')).toEqual(d.entries.map((e) => String(e.conn.dport)));
      expect(list('ipvs.caddr')).toEqual(d.entries.map((e) => formatIPv4(e.conn.caddr as number)));
      expect(list('ipvs.vaddr')).toEqual(d.entries.map((e) => formatIPv4(e.conn.vaddr as number)));
      expect(list('ipvs.daddr')).toEqual(d.entries.map((e) => formatIPv4(e.conn.daddr as number)));
      expect(list('ipvs.flags')).toEqual(d.entries.map((e) => hex(e.conn.flags, 4)));
      expect(list('ipvs.state')).toEqual(d.entries.map((e) => hex(e.conn.state, 4)));
    });
    const seqRow = rows.find((r) => r[FIELDS.indexOf('ipvs.size')] === '52')!;
    // what the engine holds is what went out: every connection's last state and server, and the template
    const sent = rows.filter((r) => r !== seqRow).flatMap((cols) => {
      const f = cols.map((c) => c.split(','));
      return f[4]!.map((cport, j) => `${f[7]![j]}:${cport} ${f[9]![j]}:${f[6]![j]} ${f[11]![j]} ${f[10]![j]}`);
    });
    for (const c of b.e.allConns()) {
      const line = `${formatIPv4(c.caddr as number)}:${c.cport} ${formatIPv4(c.daddr as number)}:${c.dport} ` +
        `${hex(c.state, 4)} ${hex(c.flags & 0xffff & ~0x40, 4)}`;
      expect(sent).toContain(line);
    }
    // The kernel copies sequence data in host order (little-endian on x86); the dissector reads
    // network order, so it shows the words byte-swapped.
    expect(seqRow[FIELDS.indexOf('ipvs.in_seq.initial')]).toBe('0x44332211');
    expect(seqRow[FIELDS.indexOf('ipvs.out_seq.delta')]).toBe('0x20000000');
  }, 40_000);
});
