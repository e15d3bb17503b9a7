// ipvsadm listings and the procfs views, compared with fixed text written from the layouts in
// ip_vs_ctl.c (ip_vs_info_seq_show, ip_vs_stats_show), ip_vs_conn.c (ip_vs_conn_seq_show) and
// ipvsadm.c (print_title, print_service_entry, print_largenum, FMT_RULE); trailing blanks are significant.
import {describe, expect, it} from 'vitest';
import {box, words} from './helpers/ipvsadm.js';
import {parseAddr} from '../src/engine/addr.js';
import {Engine} from '../src/engine/engine.js';
import type {StatsRates} from '../src/engine/stats.js';
import type {Service} from '../src/engine/types.js';
import {runIpvsadm} from '../src/ipvsadm/exec.js';
import {largenum, mmss} from '../src/ipvsadm/format.js';
import {procIpVs, procIpVsConn, procIpVsConnSync, procIpVsStats, procIpVsStatsPercpu} from '../src/ipvsadm/proc.js';
import {packetFromSpec} from '../src/engine/packet.js';

const text = (...ls: string[]) => ls.map((l) => `${l}\n`).join('');


function out(e: Engine, cmd: string): string {
  const r = runIpvsadm(e, words(cmd));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

function svcOf(e: Engine, i = 0): Service {
  return e.listServices()[i]!;
}

function setStats(target: {stats: {conns: number; inpkts: number; outpkts: number; inbytes: number; outbytes: number; rates: () => StatsRates}}, v: number[], r?: number[]): void {
  const s = target.stats;
  [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes] = v as [number, number, number, number, number];
  if (r) s.rates = () => ({cps: r[0]!, inpps: r[1]!, outpps: r[2]!, inbps: r[3]!, outbps: r[4]!});
}

describe('print_largenum', () => {
  it('switches to K, M, G, T at 10^8, 10^9, 10^11, 10^14 and pads to 9', () => {
    expect(largenum(0, false)).toBe('        0');
    expect(largenum(99_999_999, false)).toBe(' 99999999');
    expect(largenum(100_000_000, false)).toBe('  100000K');
    expect(largenum(999_999_999, false)).toBe('  999999K');
    expect(largenum(1_000_000_000, false)).toBe('    1000M');
    expect(largenum(99_999_999_999, false)).toBe('   99999M');
    expect(largenum(123_456_789_012, false)).toBe('     123G');
    expect(largenum(100_000_000_000_000, false)).toBe('     100T');
  });

  it('--exact prints all digits in max(9, digits+1)', () => {
    expect(largenum(12, true)).toBe('       12');
    expect(largenum(12_345_678, true)).toBe(' 12345678');
    expect(largenum(123_456_789_012, true)).toBe(' 123456789012');
  });

  it('expire is %02d:%02d of minutes and seconds, minutes unbounded', () => {
    expect(mmss(899)).toBe('14:59');
    expect(mmss(7200)).toBe('120:00');
    expect(mmss(0)).toBe('00:00');
  });
});

describe('ipvsadm -L (default format)', () => {
  it('prints the version line, the titles and services with their real servers (ipvsadm.c print_title, print_service_entry)', () => {
    const e = box('-A -t 10.0.0.1:80 -s wlc -p 360 -M 255.255.255.0', '-a -t 10.0.0.1:80 -r 192.168.0.2:80 -m');
    expect(out(e, '-L -n')).toBe(text(
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.0.0.1:80 wlc persistent 360 mask 255.255.255.0',
      '  -> 192.168.0.2:80               Masq    1      0          0         ',
    ));
  });

  it('prints the title lines even with no service, and names ports without -n', () => {
    expect(out(new Engine(), '-Ln')).toBe(text(
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    ));
    const e = box('-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g');
    expect(out(e, '-L').split('\n').slice(3, 5)).toEqual([
      'TCP  10.0.0.1:http rr',
      '  -> 10.1.0.1:http                Route   1      0          0         ',
    ]);
  });

  it('sorts services by (fwmark, af, protocol, address, port) and dests by (address, port)', () => {
    const e = box(
      '-A -f 3 -s rr', '-A -u 10.0.0.1:53 -s rr', '-A -t 10.0.0.2:80 -s rr', '-A -t 10.0.0.1:443 -s rr',
      '-A -t 10.0.0.1:80 -s rr', '-A -t [2001:db8::1]:80 -s rr', '-A -f 2 -6 -s rr',
      '-a -t 10.0.0.1:80 -r 10.1.0.9:80 -m', '-a -t 10.0.0.1:80 -r 10.1.0.10:80 -m', '-a -t 10.0.0.1:80 -r 10.1.0.9:79 -m',
    );
    expect(out(e, '-Ln').split('\n').slice(3)).toEqual([
      'TCP  10.0.0.1:80 rr',
      '  -> 10.1.0.9:79                  Masq    1      0          0         ',
      '  -> 10.1.0.9:80                  Masq    1      0          0         ',
      '  -> 10.1.0.10:80                 Masq    1      0          0         ',
      'TCP  10.0.0.1:443 rr',
      'TCP  10.0.0.2:80 rr',
      'UDP  10.0.0.1:53 rr',
      'TCP  [2001:db8::1]:80 rr',
      'FWM  2 IPv6 rr',
      'FWM  3 rr',
      '',
    ]);
    // --nosort keeps the kernel's order: real servers newest first
    const nosort = out(e, '-Ln --nosort').split('\n').filter((l) => l.startsWith('  -> 10.1'));
    expect(nosort.map((l) => l.slice(5, 20).trim())).toEqual(['10.1.0.9:79', '10.1.0.10:80', '10.1.0.9:80']);
  });

  it('compares addresses as C int differences (wrap-around, libipvs.c ipvs_cmp_services / ipvs_cmp_dests)', () => {
    // 200.0.0.1 - 10.0.0.1 exceeds 2^31: the difference is negative, so 200.0.0.1 sorts first.
    const e = box('-A -t 10.0.0.1:80 -s rr', '-A -t 200.0.0.1:80 -s rr');
    expect(out(e, '-Ln').split('\n').slice(3, 5)).toEqual(['TCP  200.0.0.1:80 rr', 'TCP  10.0.0.1:80 rr']);
  });

  it('prints scheduler flags by scheduler, ops, pe and IPv6 masks', () => {
    const e = box(
      '-A -u 10.0.0.1:5060 -s sh -p 120 --pe sip -o -b sh-port,sh-fallback',
      '-A -t 10.0.0.2:80 -s wlc -b flag-2',
      '-A -t [2001:db8::1]:80 -s mh -p 60 -M 64 -b mh-port',
      '-A -t 10.0.0.3:80 -s sh -b flag-3',
    );
    expect(out(e, '-Ln').split('\n').slice(3, 7)).toEqual([
      'TCP  10.0.0.2:80 wlc (flag-2)',
      'TCP  10.0.0.3:80 sh ()',
      'UDP  10.0.0.1:5060 sh (sh-fallback,sh-port) persistent 120 pe sip ops',
      'TCP  [2001:db8::1]:80 mh (mh-port) persistent 60 mask 64',
    ]);
  });

  it('prints fwmarks >= 2^31 with %d (negative), as ipvsadm 1.31 does', () => {
    const e = box('-A -f 4294967295 -s rr');
    expect(out(e, '-Ln').split('\n')[3]).toBe('FWM  -1 rr');
    expect(out(e, '-Sn')).toBe('-A -f -1 -s rr\n');
  });

  it('truncates IPv4 service names to 33 and real server names to 28 characters', () => {
    const e = box('-A -t 100.100.100.100:65535 -s rr', '-a -t 100.100.100.100:65535 -r 200.200.200.200:65535 -m');
    const ls = out(e, '-Ln').split('\n');
    expect(ls[3]).toBe('TCP  100.100.100.100:65535 rr');
    expect(ls[4]).toBe('  -> 200.200.200.200:65535        Masq    1      0          0         ');
  });

  it('-L SERVICE prints the titles and that service only; --tun-info shows tunnel settings', () => {
    const e = box('-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue --tun-port 6080 --tun-csum',
      '-a -t 10.0.0.1:80 -r 10.1.0.2 -m', '-A -t 10.0.0.2:80 -s rr');
    expect(out(e, '-Ln -t 10.0.0.1:80 --tun-info')).toBe(text(
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn',
      'TCP  10.0.0.1:80 rr',
      '  -> 10.1.0.1:80                  Tunnel  gue:6080:+c   1      0          0         ',
      '  -> 10.1.0.2:80                  Masq    n/a           1      0          0         ',
    ));
  });
});

describe('numeric formats (ipvsadm.c print_largenum)', () => {
  // TCP 203.0.113.5:443 rr -p 120, one real server 10.2.0.7:443 -m -w 3 with 1 active, 4 inactive
  // and 2 persistent connections; 12 conns / 84 / 60 packets / 4680 / 5748 bytes; rates 1/12/9/1840/2210.
  function example(): Engine {
    const e = box('-A -t 203.0.113.5:443 -s rr -p 120', '-a -t 203.0.113.5:443 -r 10.2.0.7:443 -m -w 3');
    const svc = svcOf(e);
    const d = svc.dests[0]!;
    setStats(svc, [12, 84, 60, 4680, 5748], [1, 12, 9, 1840, 2210]);
    setStats(d, [12, 84, 60, 4680, 5748], [1, 12, 9, 1840, 2210]);
    d.activeConns = 1;
    d.inactConns = 4;
    d.persistConns = 2;
    return e;
  }

  it('--stats', () => {
    expect(out(example(), '-Ln --stats')).toBe(text(
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
      '  -> RemoteAddress:Port',
      'TCP  203.0.113.5:443                    12       84       60     4680     5748',
      '  -> 10.2.0.7:443                       12       84       60     4680     5748',
    ));
  });

  it('--rate', () => {
    expect(out(example(), '-Ln --rate')).toBe(text(
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS',
      '  -> RemoteAddress:Port',
      'TCP  203.0.113.5:443                     1       12        9     1840     2210',
      '  -> 10.2.0.7:443                        1       12        9     1840     2210',
    ));
  });

  it('--persistent-conn', () => {
    expect(out(example(), '-Ln --persistent-conn')).toBe(text(
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn ',
      '  -> RemoteAddress:Port',
      'TCP  203.0.113.5:443 rr persistent 120',
      '  -> 10.2.0.7:443                 3         2           1          4         ',
    ));
  });

  it('--thresholds', () => {
    const e = box('-A -t 203.0.113.5:443 -s rr', '-a -t 203.0.113.5:443 -r 10.2.0.7:443 -m -x 100 -y 50');
    expect(out(e, '-Ln --thresholds')).toBe(text(
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn ',
      '  -> RemoteAddress:Port',
      'TCP  203.0.113.5:443 rr',
      '  -> 10.2.0.7:443                 100        50         0          0         ',
    ));
  });

  it('large numbers: 123456789012 connections print as 123G, with --exact in full', () => {
    const e = example();
    setStats(svcOf(e), [123456789012, 0, 0, 0, 0]);
    expect(out(e, '-Ln --stats').split('\n')[3]).toBe('TCP  203.0.113.5:443                  123G        0        0        0        0');
    expect(out(e, '-Ln --stats --exact').split('\n')[3]).toBe('TCP  203.0.113.5:443              123456789012        0        0        0        0');
  });

  it('--rate real server rows print cps/pps as plain %8llu even with huge values', () => {
    const e = example();
    setStats(svcOf(e).dests[0]!, [0, 0, 0, 0, 0], [123456789, 1, 2, 300000000, 4]);
    expect(out(e, '-Ln --rate').split('\n')[4]).toBe('  -> 10.2.0.7:443                 123456789        1        2  300000K        4');
  });
});

describe('-S save format (ipvsadm.c, FMT_RULE)', () => {
  it('prints one command per line, sorted, without thresholds; tunnels with their type', () => {
    const e = box(
      '-A -t 10.0.0.1:80 -s wlc -p 360 -M 255.255.255.0',
      '-a -t 10.0.0.1:80 -r 192.168.0.2:80 -m -w 1 -x 10 -y 5',
      '-a -t 10.0.0.1:80 -r 192.168.0.3:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum',
      '-a -t 10.0.0.1:80 -r 192.168.0.4:80 -i -w 1',
      '-A -u 10.0.0.1:5060 -s sh -p 360 --pe sip -o -b sh-port',
      '-A -f 7 -s rr',
      '-A -f 7 -6 -s rr',
    );
    expect(out(e, '-S -n')).toBe(text(
      '-A -t 10.0.0.1:80 -s wlc -p 360 -M 255.255.255.0',
      '-a -t 10.0.0.1:80 -r 192.168.0.2:80 -m -w 1',
      '-a -t 10.0.0.1:80 -r 192.168.0.3:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum',
      '-a -t 10.0.0.1:80 -r 192.168.0.4:80 -i -w 1 --tun-type ipip',
      '-A -u 10.0.0.1:5060 -s sh -p 360 --pe sip -o -b sh-port',
      '-A -f 7 -s rr',
      '-A -f 7 -6 -s rr',
    ));
  });

  it('names ports without -n, never saves a netmask of a non-persistent service, and a lone SCHED3 on sh gives "-b "', () => {
    const e = box('-A -t 10.0.0.1:443 -s sh -b flag-3', '-A -t [2001:db8::5]:80 -s rr -p 30 -M 48', '-A -t 10.0.0.9:80 -s rr -M 255.0.0.0');
    expect(out(e, '-S')).toBe(text(
      '-A -t 10.0.0.1:https -s sh -b ',
      '-A -t 10.0.0.9:http -s rr',
      '-A -t [2001:db8::5]:http -s rr -p 30 -M 48',
    ));
  });

  it('round-trips: -S output fed to -R gives the same -S output', () => {
    const e = box(
      '-A -t 10.0.0.1:80 -s rr -p 100 -M 255.255.0.0', '-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -m -w 7',
      '-a -t 10.0.0.1:80 -r 10.1.0.3 -i --tun-type gue --tun-port 5555 --tun-remcsum', '-A -u [2001:db8::1]:53 -s sh -o',
      '-a -u [2001:db8::1]:53 -r [2001:db8::10]:53 -m -w 0', '-A -f 9 -6 -s mh -p -b mh-fallback',
    );
    for (const numeric of [true, false]) {
      const saved = out(e, numeric ? '-Sn' : '-S');
      const fresh = new Engine();
      const r = runIpvsadm(fresh, ['-R'], {stdin: saved});
      expect(r.code).toBe(0);
      expect(out(fresh, numeric ? '-Sn' : '-S')).toBe(saved);
    }
  });
});

describe('-c, --timeout, --daemon', () => {
  it('lists connections with expire mm:ss (truncated) and the /proc order', () => {
    const e = box('-A -t 198.51.100.1:443 -s rr', '-a -t 198.51.100.1:443 -r 10.1.0.2 -m');
    const v = e.inbound(packetFromSpec({proto: 'tcp', src: '192.0.2.10:40000', dst: '198.51.100.1:443', flags: 'S'}));
    expect(v.action).toBe('forward');
    e.outbound(packetFromSpec({proto: 'tcp', src: '10.1.0.2:443', dst: '192.0.2.10:40000', flags: 'SA'}));
    e.inbound(packetFromSpec({proto: 'tcp', src: '192.0.2.10:40000', dst: '198.51.100.1:443', flags: 'A'}));
    e.tick(500);
    expect(out(e, '-Lnc')).toBe(text(
      'IPVS connection entries',
      'pro expire state       source             virtual            destination',
      'TCP 14:59  ESTABLISHED 192.0.2.10:40000   198.51.100.1:443   10.1.0.2:443',
    ));
    e.tick(12_500);
    expect(out(e, '-Lnc').split('\n')[2]).toBe('TCP 14:47  ESTABLISHED 192.0.2.10:40000   198.51.100.1:443   10.1.0.2:443');
    expect(out(e, '-Lc').split('\n')[2]).toBe('TCP 14:47  ESTABLISHED 192.0.2.10:40000   198.51.100.1:https 10.1.0.2:https');
    expect(out(e, '-Lnc --persistent-conn').split('\n')[1]).toBe(
      'pro expire state       source             virtual            destination        pe name          pe_data');
  });

  it('shows persistence templates with the masked client, port 0 and NONE/ASSURED', () => {
    const e = box('-A -t 198.51.100.1:443 -s rr -p 60 -M 255.255.255.0', '-a -t 198.51.100.1:443 -r 10.1.0.2 -m');
    e.inbound(packetFromSpec({proto: 'tcp', src: '192.0.2.10:40000', dst: '198.51.100.1:443', flags: 'S'}));
    e.tick(400);
    const rows = out(e, '-Lnc').split('\n').slice(2, 4).sort();
    expect(rows).toEqual([
      'TCP 00:59  NONE        192.0.2.0:0        198.51.100.1:443   10.1.0.2:443',
      'TCP 00:59  SYN_RECV    192.0.2.10:40000   198.51.100.1:443   10.1.0.2:443',
    ]);
  });

  it('--timeout after --set', () => {
    const e = box('--set 30 20 10');
    expect(out(e, '-L --timeout')).toBe('Timeout (tcp tcpfin udp): 30 20 10\n');
    expect(out(box(), '-L --timeout')).toBe('Timeout (tcp tcpfin udp): 900 120 300\n');
  });

  it('--daemon: one line per role, master first, with the effective parameters', () => {
    const e = box('--start-daemon backup --mcast-interface eth1 --syncid 9', '--start-daemon master --mcast-interface eth1 --syncid 9');
    expect(out(e, '-L --daemon')).toBe(text(
      'master sync daemon (mcast=eth1, syncid=9, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)',
      'backup sync daemon (mcast=eth1, syncid=9, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)',
    ));
    const f = box('--start-daemon master --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 3 --sync-maxlen 1000');
    expect(out(f, '-L --daemon')).toBe('master sync daemon (mcast=eth0, syncid=0, maxlen=1000, group=239.1.1.1, port=9000, ttl=3)\n');
    expect(out(box(), '-L --daemon')).toBe('');
  });
});

describe('/proc views', () => {
  it('/proc/net/ip_vs (ip_vs_info_seq_show; persistence timeout in jiffies with HZ=1000)', () => {
    const e = box(
      '-A -t 203.0.113.5:443 -s rr',
      '-a -t 203.0.113.5:443 -r 10.2.0.7:8443 -m -w 3',
      '-A -u 203.0.113.5:53 -s sh -o -p 120 -M 255.255.255.0',
      '-A -f 42 -s rr',
    );
    // ipvsadm would force a -g real server onto the service port; this example uses 8443.
    e.addDest(svcOf(e).key, 4, parseAddr('10.2.0.8')!.addr, 8443, {fwd: 'route', weight: 1});
    const d7 = svcOf(e).dests.find((d) => d.addr === parseAddr('10.2.0.7')!.addr)!;
    d7.activeConns = 2;
    d7.inactConns = 5;
    const all = procIpVs(e);
    expect(all.split('\n').slice(0, 3).join('\n')).toBe([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn',
    ].join('\n'));
    const body = all.split('\n').slice(3);
    const tcp = body.indexOf('TCP  CB007105:01BB rr  ');
    expect(tcp).toBeGreaterThanOrEqual(0);
    expect(body.slice(tcp, tcp + 3)).toEqual([
      'TCP  CB007105:01BB rr  ',
      '  -> 0A020008:20FB      Route   1      0          0         ',
      '  -> 0A020007:20FB      Masq    3      2          5         ',
    ]);
    expect(body).toContain('UDP  CB007105:0035 sh ops  persistent 120000 FFFFFF00');
    expect(body[body.length - 2]).toBe('FWM  0000002A rr ');
  });

  it('/proc/net/ip_vs: IPv6 in %pI6 form, prefix length byte-swapped', () => {
    const e = box('-A -t [2001:db8::1]:80 -s rr -p 10 -M 64', '-a -t [2001:db8::1]:80 -r [2001:db8::a]:80 -m');
    expect(procIpVs(e).split('\n').slice(3, 5)).toEqual([
      'TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 rr persistent 10000 40000000',
      '  -> [2001:0db8:0000:0000:0000:0000:0000:000a]:0050      Masq    1      0          0         ',
    ]);
  });

  it('/proc/net/ip_vs_stats (ip_vs_stats_show)', () => {
    const e = new Engine();
    setStats({stats: e.totStats}, [300, 70000, 65536, 123456789, 987654321], [2, 17, 16, 1500, 20000]);
    expect(procIpVsStats(e)).toBe(text(
      '   Total Incoming Outgoing         Incoming         Outgoing',
      '   Conns  Packets  Packets            Bytes            Bytes',
      '     12C    11170    10000          75BCD15         3ADE68B1',
      '',
      ' Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s',
      '       2       11       10              5DC             4E20',
    ));
    expect(procIpVsStatsPercpu(e)).toBe(text(
      '       Total Incoming Outgoing         Incoming         Outgoing',
      'CPU    Conns  Packets  Packets            Bytes            Bytes',
      '  0      12C    11170    10000          75BCD15         3ADE68B1',
      '  ~      12C    11170    10000          75BCD15         3ADE68B1',
      '',
      '     Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s',
      '           2       11       10              5DC             4E20',
    ));
  });

  it('/proc/net/ip_vs_conn and _sync (ip_vs_conn_seq_show, ip_vs_conn_sync_seq_show)', () => {
    const e = box('-A -t 198.51.100.1:443 -s rr -p 60 -M 255.255.255.0', '-a -t 198.51.100.1:443 -r 10.1.0.2 -m');
    e.inbound(packetFromSpec({proto: 'tcp', src: '192.0.2.10:40000', dst: '198.51.100.1:443', flags: 'S'}));
    e.outbound(packetFromSpec({proto: 'tcp', src: '10.1.0.2:443', dst: '192.0.2.10:40000', flags: 'SA'}));
    e.inbound(packetFromSpec({proto: 'tcp', src: '192.0.2.10:40000', dst: '198.51.100.1:443', flags: 'A'}));
    e.tick(400);
    const conn = procIpVsConn(e).split('\n');
    expect(conn[0]).toBe('Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData');
    expect(conn.slice(1, 3).sort()).toEqual([
      'TCP C0000200 0000 C6336401 01BB 0A010002 01BB ASSURED          59',
      'TCP C000020A 9C40 C6336401 01BB 0A010002 01BB ESTABLISHED     899',
    ]);
    const sync = procIpVsConnSync(e).split('\n');
    expect(sync[0]).toBe('Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires');
    expect(sync).toContain('TCP C000020A 9C40 C6336401 01BB 0A010002 01BB ESTABLISHED LOCAL      899');
  });

  it('an invalidated template is listed with ports 65535 (ip_vs_check_template sets vport/dport 0xffff)', () => {
    const e = box('-A -t 198.51.100.1:443 -s rr -p 60', '-a -t 198.51.100.1:443 -r 10.1.0.2 -m', '-a -t 198.51.100.1:443 -r 10.1.0.3 -m');
    e.setTunable('expire_quiescent_template', '1');
    e.inbound(packetFromSpec({proto: 'tcp', src: '192.0.2.10:40000', dst: '198.51.100.1:443', flags: 'S'}));
    e.tick(20_500);
    const first = e.allConns().find((c) => !c.template)!;
    runIpvsadm(e, words(`-e -t 198.51.100.1:443 -r ${first.daddr === parseAddr('10.1.0.2')!.addr ? '10.1.0.2' : '10.1.0.3'} -m -w 0`));
    e.inbound(packetFromSpec({proto: 'tcp', src: '192.0.2.10:40001', dst: '198.51.100.1:443', flags: 'S'}));
    const rows = out(e, '-Lnc').split('\n');
    expect(rows.some((r) => /^TCP 00:39  NONE {8}192\.0\.2\.10:0 {7}198\.51\.100\.1:65535 10\.1\.0\.\d:65535$/.test(r))).toBe(true);
  });
});
