// The procfs views of IPVS (ip_vs_ctl.c ip_vs_info_seq_show, ip_vs_stats_show, ip_vs_stats_percpu_show; ip_vs_conn.c ip_vs_conn_seq_show, ip_vs_conn_sync_seq_show): /proc/net/ip_vs, /proc/net/ip_vs_stats,
// /proc/net/ip_vs_stats_percpu, /proc/net/ip_vs_conn and /proc/net/ip_vs_conn_sync.
import {type Addr, foldAddr} from '../engine/addr.js';
import {CONN_F, HZ, SVC_F} from '../engine/constants.js';
import {type ConnInfo, type Engine, PROTO_NUM} from '../engine/engine.js';
import type {Dest, Service} from '../engine/types.js';
import type {StatsCounters, StatsRates} from '../engine/stats.js';
import {hexPad, hexU, ipv6Full, padR} from './format.js';

export const IPVS_VERSION = '1.2.1';

/** The version line of /proc/net/ip_vs and ipvsadm -L. */
export function versionLine(e: Engine): string {
  return `IP Virtual Server version ${IPVS_VERSION} (size=${e.conns.kernelBuckets})`;
}

/** ip_vs_fwd_name: the forwarding method as /proc and ipvsadm print it. */
export function fwdName(d: Dest): string {
  switch (d.fwd) {
    case 'local': return 'Local';
    case 'tunnel': return 'Tunnel';
    case 'route': return 'Route';
    default: return 'Masq';
  }
}

/**
 * Services in the kernel's dump order: the address table's 256 buckets (hash of protocol, folded
 * address and port; the netns pointer term taken as 0), newest first within a bucket, then the
 * fwmark table (mark & 255).
 */
export function kernelServiceOrder(e: Engine): Service[] {
  const newestFirst = [...e.listServices()].reverse();
  const bucketOf = (s: Service): number => {
    const k = s.key;
    if (k.kind === 'fwmark') return 256 + (k.fwmark & 255);
    return ((PROTO_NUM[k.proto] ^ foldAddr(k.addr) ^ (k.port >>> 8) ^ k.port) & 255) >>> 0;
  };
  return newestFirst
    .map((s, i) => ({s, i, b: bucketOf(s)}))
    .sort((a, b) => a.b - b.b || a.i - b.i)
    .map((x) => x.s);
}

function hexAddr(a: Addr): string {
  return typeof a === 'number' ? hexU(a, 8) : ipv6Full(a);
}

/** /proc/net/ip_vs (ip_vs_info_seq_show). */
export function procIpVs(e: Engine): string {
  const out: string[] = [
    versionLine(e),
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn',
  ];
  for (const svc of kernelServiceOrder(e)) {
    const k = svc.key;
    const ops = svc.flags & SVC_F.ONEPACKET ? 'ops ' : '';
    let line: string;
    if (k.kind === 'fwmark') {
      line = `FWM  ${hexU(k.fwmark, 8)} ${svc.scheduler} ${ops}`;
    } else if (k.af === 6) {
      line = `${k.proto.toUpperCase()}  [${ipv6Full(k.addr as string)}]:${hexU(k.port, 4)} ${svc.scheduler} `;
    } else {
      line = `${k.proto.toUpperCase()}  ${hexU(k.addr as number, 8)}:${hexU(k.port, 4)} ${svc.scheduler} ${ops} `;
    }
    if (svc.flags & SVC_F.PERSISTENT) {
      // The timeout leaks in jiffies; the mask is the byte-swapped stored netmask (little-endian host).
      const jiffies = Math.floor((svc.timeout * HZ) / 1000);
      const mask = k.af === 6 ? (((svc.prefixLen & 0xff) << 24) >>> 0) : svc.netmask >>> 0;
      line += `persistent ${jiffies} ${hexU(mask, 8)}`;
    }
    out.push(line);
    for (const d of svc.dests) {
      const where = typeof d.addr === 'number'
        ? `${hexU(d.addr, 8)}:${hexU(d.port, 4)}`
        : `[${ipv6Full(d.addr)}]:${hexU(d.port, 4)}`;
      out.push(`  -> ${where}      ${padR(fwdName(d), 7)} ${padR(d.weight, 6)} ${padR(d.activeConns, 10)} ${padR(d.inactConns, 10)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function statsRow(s: StatsCounters | StatsRates): string {
  const v = Object.values(s) as number[];
  return `${hexPad(v[0]!, 8)} ${hexPad(v[1]!, 8)} ${hexPad(v[2]!, 8)} ${hexPad(v[3]!, 16)} ${hexPad(v[4]!, 16)}`;
}

function counterRow(s: StatsCounters): string {
  return statsRow({conns: s.conns, inpkts: s.inpkts, outpkts: s.outpkts, inbytes: s.inbytes, outbytes: s.outbytes});
}

function rateRow(r: StatsRates): string {
  return statsRow({cps: r.cps, inpps: r.inpps, outpps: r.outpps, inbps: r.inbps, outbps: r.outbps});
}

/** /proc/net/ip_vs_stats (ip_vs_stats_show): the netns totals, all numbers in hex. */
export function procIpVsStats(e: Engine): string {
  return [
    '   Total Incoming Outgoing         Incoming         Outgoing',
    '   Conns  Packets  Packets            Bytes            Bytes',
    counterRow(e.totStats.read()),
    '',
    ' Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s',
    rateRow(e.totStats.rates()),
  ].join('\n') + '\n';
}

/** /proc/net/ip_vs_stats_percpu: the engine has one CPU row, equal to the totals. */
export function procIpVsStatsPercpu(e: Engine): string {
  const tot = counterRow(e.totStats.read());
  return [
    '       Total Incoming Outgoing         Incoming         Outgoing',
    'CPU    Conns  Packets  Packets            Bytes            Bytes',
    `${hexPad(0, 3)} ${tot}`,
    `  ~ ${tot}`,
    '',
    '     Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s',
    `    ${rateRow(e.totStats.rates())}`,
  ].join('\n') + '\n';
}

/** Connection entries in /proc/net/ip_vs_conn order (hash-bucket walk; one-packet entries never appear). */
export function procConnEntries(e: Engine): ConnInfo[] {
  const out: ConnInfo[] = [];
  e.conns.forEach((c) => {
    const info = e.conn(c.id);
    if (info) out.push(info);
  }, 'hashed');
  return out;
}

/** Seconds left on an entry's timer as /proc prints them (truncated, never negative). */
export function expiresSeconds(c: ConnInfo): number {
  return Math.floor(Math.max(0, c.expiresIn) / 1000);
}

/** The virtual address of an entry as the kernel stores it (a fwmark template holds the mark). */
export function connVirtualAddr(c: ConnInfo): Addr {
  if (!c.fwmarkTemplate) return c.vaddr;
  const mark = Number(c.vaddr) >>> 0;
  if (c.af === 4) return mark;
  return `${(mark >>> 16).toString(16)}:${(mark & 0xffff).toString(16)}::`;
}

function connRowHead(c: ConnInfo): string {
  const v = connVirtualAddr(c);
  const d = c.daddr;
  const dbuf = typeof d === 'number' ? hexU(d, 8) : ipv6Full(d);
  if (c.af === 6) {
    return `${padR(c.protoName, 3)} ${ipv6Full(c.caddr as string)} ${hexU(c.cport, 4)} ${ipv6Full(String(v))} ${hexU(c.vport, 4)} ${dbuf} ${hexU(c.dport, 4)} ${padR(c.stateName, 11)}`;
  }
  return `${padR(c.protoName, 3)} ${hexAddr(c.caddr)} ${hexU(c.cport, 4)} ${hexAddr(v)} ${hexU(c.vport, 4)} ${dbuf} ${hexU(c.dport, 4)} ${padR(c.stateName, 11)}`;
}

/** /proc/net/ip_vs_conn (ip_vs_conn_seq_show). The engine has no persistence-engine data. */
export function procIpVsConn(e: Engine): string {
  const out = ['Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData'];
  for (const c of procConnEntries(e)) out.push(`${connRowHead(c)} ${expiresSeconds(c).toString().padStart(7)}`);
  return `${out.join('\n')}\n`;
}

/** /proc/net/ip_vs_conn_sync (ip_vs_conn_sync_seq_show): with the origin column. */
export function procIpVsConnSync(e: Engine): string {
  const out = ['Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires'];
  for (const c of procConnEntries(e)) {
    const origin = c.flags & CONN_F.SYNC ? 'SYNC' : 'LOCAL';
    out.push(`${connRowHead(c)} ${padR(origin, 6)} ${expiresSeconds(c).toString().padStart(7)}`);
  }
  return `${out.join('\n')}\n`;
}

export const PROC_FILES: Record<string, (e: Engine) => string> = {
  '/proc/net/ip_vs': procIpVs,
  '/proc/net/ip_vs_stats': procIpVsStats,
  '/proc/net/ip_vs_stats_percpu': procIpVsStatsPercpu,
  '/proc/net/ip_vs_conn': procIpVsConn,
  '/proc/net/ip_vs_conn_sync': procIpVsConnSync,
};
