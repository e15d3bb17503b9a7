// Parsers for what the running kernel's IPVS exposes as text: /proc/net/ip_vs_stats,
// /proc/net/ip_vs_conn(_sync), ipvsadm's --stats/--rate/--exact listings, -L --daemon, /proc/meminfo,
// /proc/vmstat and /dev/kmsg records. Pure functions over strings: the I/O lives in host.ts.
import {type Addr, parseAddrPort} from '../engine/addr.js';
import type {StatsCounters, StatsRates} from '../engine/stats.js';

/** /proc/net/ip_vs_stats (ip_vs_stats_show): two rows of hexadecimal numbers, totals then rates. */
export function parseIpvsStats(text: string): {totals: StatsCounters; rates: StatsRates} {
  const rows = text.split('\n').filter((l) => /^\s*[0-9A-Fa-f]+(\s+[0-9A-Fa-f]+){4}\s*$/.test(l))
    .map((l) => l.trim().split(/\s+/).map((h) => parseInt(h, 16)));
  if (rows.length < 2) throw new Error('unexpected /proc/net/ip_vs_stats format');
  const [t, r] = rows as [number[], number[]];
  return {
    totals: {conns: t[0]!, inpkts: t[1]!, outpkts: t[2]!, inbytes: t[3]!, outbytes: t[4]!},
    rates: {cps: r[0]!, inpps: r[1]!, outpps: r[2]!, inbps: r[3]!, outbps: r[4]!},
  };
}

/** One row of /proc/net/ip_vs_conn (ip_vs_conn_seq_show) or ip_vs_conn_sync (with Origin). */
export interface ProcConn {
  protoName: string;
  caddr: Addr; cport: number;
  vaddr: Addr; vport: number;
  daddr: Addr; dport: number;
  stateName: string;
  /** Seconds until the timer fires, as the kernel rounds it (jiffies_delta_to_msecs / 1000). */
  expiresSec: number;
  /** 'LOCAL' or 'SYNC' in ip_vs_conn_sync; '' in ip_vs_conn. */
  origin: string;
  pe: string;
}

/** An address field: 8 hex digits (IPv4, host order) or a full IPv6 address (%pI6). */
function procAddr(text: string): Addr | null {
  if (/^[0-9A-F]{8}$/i.test(text)) return parseInt(text, 16) >>> 0;
  return parseAddrPort(`[${text}]:0`)?.addr ?? null;
}

/**
 * Parse the rows of ip_vs_conn/ip_vs_conn_sync text; malformed rows are skipped (the file is read in
 * pieces, so a row may be cut at either end of a piece).
 */
export function parseConnRows(text: string, out: ProcConn[] = [], limit = Infinity): ProcConn[] {
  let start = 0;
  while (start < text.length && out.length < limit) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const row = parseConnRow(text.slice(start, end));
    if (row) out.push(row);
    start = end + 1;
  }
  return out;
}

export function parseConnRow(line: string): ProcConn | null {
  const f = line.trim().split(/\s+/);
  if (f.length < 9 || f[0] === 'Pro') return null;
  const [protoName, ca, cp, va, vp, da, dp, stateName] = f as [string, string, string, string, string, string, string, string];
  const caddr = procAddr(ca), vaddr = procAddr(va), daddr = procAddr(da);
  if (caddr === null || vaddr === null || daddr === null) return null;
  const sync = f[8] === 'LOCAL' || f[8] === 'SYNC';
  const expiresSec = Number(f[sync ? 9 : 8]);
  if (!Number.isFinite(expiresSec)) return null;
  return {
    protoName, caddr, cport: parseInt(cp, 16), vaddr, vport: parseInt(vp, 16), daddr, dport: parseInt(dp, 16),
    stateName, expiresSec, origin: sync ? f[8]! : '', pe: f.slice(sync ? 10 : 9).join(' '),
  };
}

/** A row of `ipvsadm -Ln --stats --exact` or `--rate --exact`: a service or, indented, a real server. */
export interface ListedStatsRow {
  /** 'TCP 198.18.0.100:80' style label for services; 'addr:port' for real servers. */
  service: string;
  dest: string | null;
  values: [number, number, number, number, number];
}

/** ipvsadm -Ln --stats/--rate --exact: five numbers per service and per real server. */
export function parseIpvsadmNumbers(text: string): ListedStatsRow[] {
  const out: ListedStatsRow[] = [];
  let service = '';
  for (const line of text.split('\n')) {
    const m = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    const d = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) {
      service = `${m[1]} ${m[2]}`;
      out.push({service, dest: null, values: m.slice(3, 8).map(Number) as ListedStatsRow['values']});
    } else if (d && service) {
      out.push({service, dest: d[1]!, values: d.slice(2, 7).map(Number) as ListedStatsRow['values']});
    }
  }
  return out;
}

/** ipvsadm -Ln --persistent-conn: the PersistConn column per real server ("service|dest" keys). */
export function parsePersistConns(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let service = '';
  for (const line of text.split('\n')) {
    const s = /^(TCP|UDP|SCTP|FWM)\s+(\S+)/.exec(line);
    const d = /^\s+->\s+(\S+)\s+\d+\s+(\d+)\s+\d+\s+\d+/.exec(line);
    if (s) service = `${s[1]} ${s[2]}`;
    else if (d && service) out.set(`${service}|${d[1]}`, Number(d[2]));
  }
  return out;
}

/** One line of `ipvsadm -L --daemon`. */
export interface DaemonLine {
  role: 'master' | 'backup';
  mcastIfn: string;
  syncId: number;
  maxlen: number;
  group: string;
  port: number;
  ttl: number;
}

export function parseDaemons(text: string): DaemonLine[] {
  const out: DaemonLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(master|backup) sync daemon \((.*)\)\s*$/.exec(line);
    if (!m) continue;
    const kv = new Map(m[2]!.split(',').map((p) => {
      const [k, v] = p.trim().split('=');
      return [k!, v ?? ''] as const;
    }));
    out.push({
      role: m[1] as 'master' | 'backup', mcastIfn: kv.get('mcast') ?? '', syncId: Number(kv.get('syncid') ?? 0),
      maxlen: Number(kv.get('maxlen') ?? 0), group: kv.get('group') ?? '', port: Number(kv.get('port') ?? 0),
      ttl: Number(kv.get('ttl') ?? 0),
    });
  }
  return out;
}

/**
 * The memory update_defense_level (ip_vs_ctl.c) compares with amemthresh: si_meminfo's freeram +
 * bufferram, in pages. freeram is vmstat's nr_free_pages; bufferram is meminfo's Buffers (kB).
 */
export function defenseMemory(meminfo: string, vmstat: string, pageSize = 4096): {availablePages: number; totalPages: number} {
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? NaN);
  const freePages = Number(/^nr_free_pages (\d+)/m.exec(vmstat)?.[1] ?? NaN);
  const pagesPerKb = 1024 / pageSize;
  const free = Number.isFinite(freePages) ? freePages : Math.floor(kb('MemFree') * pagesPerKb);
  const buffers = Math.floor((kb('Buffers') || 0) * pagesPerKb);
  return {availablePages: free + buffers, totalPages: Math.floor(kb('MemTotal') * pagesPerKb)};
}

/** A /dev/kmsg record ("prio,seq,usec,flags;message"), or null for continuation lines. */
export interface KmsgRecord {
  level: number;
  seq: number;
  usec: number;
  msg: string;
}

export function parseKmsg(record: string): KmsgRecord | null {
  const m = /^(\d+),(\d+),(\d+),[^;]*;(.*)$/.exec(record.split('\n')[0]!);
  if (!m) return null;
  return {level: Number(m[1]) & 7, seq: Number(m[2]), usec: Number(m[3]), msg: m[4]!};
}

/** The kernel's IPVS messages: pr_* with the "IPVS: " prefix (ip_vs.h's pr_fmt). */
export function isIpvsMessage(msg: string): boolean {
  return msg.startsWith('IPVS: ') || msg.startsWith('IPVS:');
}
