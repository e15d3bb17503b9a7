// The kernel backend's parsers over text captured from a real 6.1 kernel (tools/kernel-vm).
import {chmodSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {kernelIpvsadm, kernelSysctl} from '../src/kernel/cli.js';
import {KernelHost} from '../src/kernel/host.js';
import {openKernelBackend} from '../src/kernel/open.js';
import {parseAddr} from '../src/engine/addr.js';
import {KernelBackend, parseSave} from '../src/kernel/backend.js';
import {destArgs, serviceArgs, serviceOptionArgs} from '../src/kernel/ipvsadm-args.js';
import {
  defenseMemory, isIpvsMessage, parseConnRows, parseDaemons, parseIpvsadmNumbers, parseIpvsStats, parseKmsg, parsePersistConns,
} from '../src/kernel/proc.js';
import {SVC_F} from '../src/engine/constants.js';

const STATS = `   Total Incoming Outgoing         Incoming         Outgoing
   Conns  Packets  Packets            Bytes            Bytes
       4       17       10              502              5D6

 Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
       0        3        2               9E               B9
`;
const CONN = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP C6120002 A610 C6120064 0050 C6130102 0050 ESTABLISHED     897
TCP C6120002 D8B0 C6120064 0050 C6130102 0050 TIME_WAIT       116
UDP C6120002 0000 C6120064 0035 C6130102 0035 NONE             59
TCP fd00:0000:0000:0000:0000:0000:0000:0002 A610 fd00:0000:0000:0000:0000:0000:0000:0001 01BB fd00:0001:0000:0000:0000:0000:0000:0002 01BB SYN_RECV         59
TCP C6120002 D8`;
const SYNC = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires
TCP C6120002 A610 C6120064 0050 C6130102 0050 ESTABLISHED LOCAL      897
`;
const LISTED = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  198.18.0.100:80                     4       23       16     1282     1494
  -> 198.19.1.2:80                       2        9        6      502      538
FWM  7                                   0        0        0        0        0
`;
const PERSIST = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn 
  -> RemoteAddress:Port
UDP  198.18.0.100:53 wlc persistent 60
  -> 198.19.1.2:53                1         4           0          0         
`;

describe('kernel /proc and ipvsadm parsers (formats of Linux 6.1)', () => {
  it('ip_vs_stats: hexadecimal totals and rates (ip_vs_stats_show)', () => {
    expect(parseIpvsStats(STATS)).toEqual({
      totals: {conns: 4, inpkts: 0x17, outpkts: 0x10, inbytes: 0x502, outbytes: 0x5d6},
      rates: {cps: 0, inpps: 3, outpps: 2, inbps: 0x9e, outbps: 0xb9},
    });
    expect(() => parseIpvsStats('garbage')).toThrow(/ip_vs_stats/);
  });

  it('ip_vs_conn rows (ip_vs_conn_seq_show): IPv4 hex, full IPv6, templates; a cut last row is skipped', () => {
    const rows = parseConnRows(CONN);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({protoName: 'TCP', caddr: parseAddr('198.18.0.2')!.addr, cport: 0xa610, vport: 80,
      daddr: parseAddr('198.19.1.2')!.addr, stateName: 'ESTABLISHED', expiresSec: 897, origin: ''});
    expect(rows[2]).toMatchObject({protoName: 'UDP', cport: 0, stateName: 'NONE', expiresSec: 59});
    expect(rows[3]).toMatchObject({caddr: parseAddr('fd00::2')!.addr, vport: 443, stateName: 'SYN_RECV'});
    expect(parseConnRows(CONN, [], 2)).toHaveLength(2);
  });

  it('ip_vs_conn_sync rows carry the Origin column', () => {
    expect(parseConnRows(SYNC)[0]).toMatchObject({origin: 'LOCAL', expiresSec: 897, stateName: 'ESTABLISHED'});
  });

  it('ipvsadm -Ln --stats --exact rows per service and real server', () => {
    expect(parseIpvsadmNumbers(LISTED)).toEqual([
      {service: 'TCP 198.18.0.100:80', dest: null, values: [4, 23, 16, 1282, 1494]},
      {service: 'TCP 198.18.0.100:80', dest: '198.19.1.2:80', values: [2, 9, 6, 502, 538]},
      {service: 'FWM 7', dest: null, values: [0, 0, 0, 0, 0]},
    ]);
    expect(parsePersistConns(PERSIST).get('UDP 198.18.0.100:53|198.19.1.2:53')).toBe(4);
  });

  it('ipvsadm -L --daemon lines', () => {
    expect(parseDaemons('master sync daemon (mcast=d-cl, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n'))
      .toEqual([{role: 'master', mcastIfn: 'd-cl', syncId: 5, maxlen: 1472, group: '224.0.0.81', port: 8848, ttl: 1}]);
  });

  it('update_defense_level memory: nr_free_pages + Buffers in pages, against amemthresh', () => {
    const m = defenseMemory('MemTotal:        1000000 kB\nMemFree:          806612 kB\nBuffers:             400 kB\n', 'nr_free_pages 201653\n');
    expect(m).toEqual({availablePages: 201653 + 100, totalPages: 250000});
  });

  it('/dev/kmsg records: level, sequence, IPVS messages only', () => {
    const k = parseKmsg('6,387,34551917,-;IPVS: sync thread started: state = MASTER, mcast_ifn = d-cl, syncid = 5, id = 0\n')!;
    expect(k).toMatchObject({level: 6, seq: 387, usec: 34551917});
    expect(isIpvsMessage(k.msg)).toBe(true);
    expect(isIpvsMessage(parseKmsg('6,1,0,-;Command line: quiet')!.msg)).toBe(false);
    expect(parseKmsg(' SUBSYSTEM=pci')).toBeNull();
  });

  it('ipvsadm -S -n output parses into services and real servers with our ipvsadm parser', () => {
    const cfg = parseSave(`-A -t 198.18.0.100:80 -s rr
-a -t 198.18.0.100:80 -r 198.19.1.2:80 -m -w 2
-A -u 198.18.0.100:53 -s wlc -p 60
-A -t [fd00::1]:443 -s mh -b mh-fallback,mh-port
-a -t [fd00::1]:443 -r [fd00:1::2]:443 -g -w 1
-A -f 7 -s sh -b sh-port
`);
    expect(cfg.map((s) => s.label)).toEqual(['TCP 198.18.0.100:80', 'UDP 198.18.0.100:53', 'TCP [fd00::1]:443', 'FWM 7']);
    expect(cfg[0]!.dests[0]).toMatchObject({label: '198.19.1.2:80', opts: {fwd: 'masq', weight: 2}});
    expect(cfg[1]!.opts.persistTimeout).toBe(60_000);
  });

  it('ipvsadm arguments for a change are what ipvsadm -S prints for that configuration', () => {
    const key = {kind: 'addr' as const, af: 4 as const, proto: 'udp' as const, addr: parseAddr('198.18.0.100')!.addr, port: 53};
    expect([...serviceArgs(key), ...serviceOptionArgs(key, {scheduler: 'sh', persistTimeout: 60_000, flags: SVC_F.SCHED1 | SVC_F.ONEPACKET})])
      .toEqual(['-u', '198.18.0.100:53', '-s', 'sh', '-p', '60', '-o', '-b', 'sh-fallback']);
    expect(serviceArgs({kind: 'fwmark', af: 6, fwmark: 3})).toEqual(['-f', '3', '-6']);
    expect(destArgs(parseAddr('fd00::2')!.addr, 80, {fwd: 'tunnel', weight: 0})).toEqual(['-r', '[fd00::2]:80', '-i', '-w', '0']);
  });
});

describe('the head read behind the Connections view\'s first page (KernelHost.readHead)', () => {
  const proc = mkdtempSync(join(tmpdir(), 'lvsdeck-head-'));
  mkdirSync(join(proc, 'net'));
  const header = CONN.split('\n')[0]!, row = CONN.split('\n')[1]!;
  writeFileSync(join(proc, 'net/ip_vs_conn'), [header, ...Array.from({length: 5000}, () => row)].join('\n') + '\n');
  const host = new KernelHost(proc);

  it('stops at the lines a page needs (the kernel formats every byte it hands out), cut at a whole line', () => {
    const head = host.readHead('net/ip_vs_conn', 256 << 10, 82);
    const lines = head.text.split('\n').filter(Boolean);
    expect(head.complete).toBe(false);
    expect(lines.length).toBeGreaterThanOrEqual(82);
    expect(head.text.length).toBeLessThanOrEqual(16 << 10);
    expect(head.text.endsWith('\n')).toBe(true);
    expect(parseConnRows(head.text).length).toBe(lines.length - 1);
  });

  it('without a line count it reads up to the byte bound; a table under the bounds is complete', () => {
    const head = host.readHead('net/ip_vs_conn', 64 << 10);
    expect(head.complete).toBe(false);
    expect(head.text.length).toBeGreaterThan(60 << 10);
    writeFileSync(join(proc, 'net/small'), `${header}\n${row}\n${row}\n`);
    const small = host.readHead('net/small', 256 << 10, 82);
    expect(small.complete).toBe(true);
    expect(parseConnRows(small.text)).toHaveLength(2);
  });
});

describe('kernel front ends refuse clearly', () => {
  const fakeProc = (withIpvs: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-proc-'));
    mkdirSync(join(dir, 'net'), {recursive: true});
    if (withIpvs) writeFileSync(join(dir, 'net/ip_vs'), 'IP Virtual Server version 1.2.1 (size=4096)\n');
    return dir;
  };

  it('a kernel without IPVS (/proc/net/ip_vs missing) is refused, naming modprobe ip_vs', () => {
    const r = openKernelBackend({allowWrites: false, host: new KernelHost(fakeProc(false), '')});
    expect('error' in r && r.error).toMatch(/no IPVS.*\/net\/ip_vs is missing.*modprobe ip_vs/);
    expect(kernelSysctl(['-a'], new KernelHost(fakeProc(false), '')).stderr).toMatch(/no IPVS/);
  });

  it('a host without ipvsadm is refused, naming the Debian package', () => {
    const r = openKernelBackend({allowWrites: false, host: new KernelHost(fakeProc(true), '/nonexistent')});
    expect('error' in r && r.error).toMatch(/ipvsadm is not installed: install the Debian package 'ipvsadm'/);
    const o = kernelIpvsadm(['-Ln'], new KernelHost(fakeProc(true), '/nonexistent'));
    expect([o.code, o.stderr]).toEqual([2, expect.stringMatching(/apt-get install ipvsadm/)]);
  });
});

describe('connection ids of the kernel backend (several sessions on one backend: lvsdeck serve --kernel)', () => {
  /** /proc with IPVS and CONN as ip_vs_conn, and an ipvsadm that lists an empty table. */
  function fakeKernel() {
    const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-kernel-'));
    for (const d of ['proc/net', 'proc/sys/net/ipv4/vs', 'bin']) mkdirSync(join(dir, d), {recursive: true});
    writeFileSync(join(dir, 'proc/net/ip_vs'), 'IP Virtual Server version 1.2.1 (size=4096)\n');
    writeFileSync(join(dir, 'proc/net/ip_vs_stats'), STATS);
    writeFileSync(join(dir, 'proc/net/ip_vs_conn'), CONN + '\n');
    writeFileSync(join(dir, 'proc/meminfo'), 'MemTotal: 1024000 kB\nMemFree: 512000 kB\nBuffers: 1000 kB\n');
    writeFileSync(join(dir, 'proc/vmstat'), 'nr_free_pages 128000\n');
    writeFileSync(join(dir, 'bin/ipvsadm'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, 'bin/ipvsadm'), 0o755);
    return {dir, backend: new KernelBackend({host: new KernelHost(join(dir, 'proc'), join(dir, 'bin')), kmsg: false, pollMs: 0})};
  }

  it('an id names one tuple whatever page another session queried since; unseen for 5 s it is gone (null), never another entry', () => {
    const {dir, backend} = fakeKernel();
    const first = backend.queryConns({offset: 0, limit: 2});
    const second = backend.queryConns({offset: 2, limit: 2});
    expect(first.rows.map((r) => r.stateName)).toEqual(['ESTABLISHED', 'TIME_WAIT']);
    expect(second.rows.map((r) => r.stateName)).toEqual(['NONE', 'SYN_RECV']);
    // session A asks for the entry it showed first, after session B's query: still A's entry
    expect(backend.connDetail(first.rows[0]!.id)!.info.stateName).toBe('ESTABLISHED');
    expect(backend.connDetail(second.rows[1]!.id)!.info.stateName).toBe('SYN_RECV');
    expect(new Set([...first.rows, ...second.rows].map((r) => r.id)).size).toBe(4);
    // the same tuple keeps its id in any later page
    expect(backend.queryConns({offset: 1, limit: 3}).rows.map((r) => r.id)).toEqual([first.rows[1]!.id, second.rows[0]!.id, second.rows[1]!.id]);
    // the ESTABLISHED entry expires: its id answers null once no query has returned it for 5 s
    writeFileSync(join(dir, 'proc/net/ip_vs_conn'), CONN.split('\n').filter((l) => !l.includes('ESTABLISHED')).join('\n') + '\n');
    const later = Date.now() + 6000;
    const now = Date.now;
    Date.now = () => later;
    try {
      const page = backend.queryConns({offset: 0, limit: 10});
      expect(page.rows.map((r) => r.stateName)).toEqual(['TIME_WAIT', 'NONE', 'SYN_RECV']);
      expect(backend.connDetail(first.rows[0]!.id)).toBeNull();
      expect(backend.connDetail(first.rows[1]!.id)!.info.stateName).toBe('TIME_WAIT');
    } finally {
      Date.now = now;
      backend.close();
    }
  });
});
