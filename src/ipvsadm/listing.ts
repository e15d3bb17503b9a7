// ipvsadm's listings (ipvsadm 1.31 print_title, print_service_entry, print_largenum, list_conn,
// list_timeout, list_daemon) and the -S save format (print_service_entry with FMT_RULE,
// print_sched_flags), byte for byte.
import {type Addr, formatAddr, formatIPv4, ipv6Words} from '../engine/addr.js';
import {IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SVC_F} from '../engine/constants.js';
import {type Engine, PROTO_NUM, type SyncDaemonConfig} from '../engine/engine.js';
import type {Dest, Service} from '../engine/types.js';
import {largenum, mmss, padL, padR} from './format.js';
import {portToAnyname} from './netdb.js';
import {type ListFormat, TUN_NAMES} from './parse.js';
import {connVirtualAddr, expiresSeconds, fwdName, kernelServiceOrder, procConnEntries, versionLine} from './proc.js';
import {getTunInfo} from './tunnel.js';

const AF_INET = 2, AF_INET6 = 10;

/** A service as ipvsadm receives it from the kernel (ipvs_service_entry_t). */
interface SvcEntry {
  svc: Service;
  af: number;
  /** 0 for fwmark services (the netlink dump carries no protocol for them). */
  protocol: number;
  addr: Addr;
  port: number;
  fwmark: number;
}

function entryOf(svc: Service): SvcEntry {
  const k = svc.key;
  const af = k.af === 6 ? AF_INET6 : AF_INET;
  if (k.kind === 'fwmark') return {svc, af, protocol: 0, addr: k.af === 6 ? '::' : 0, port: 0, fwmark: k.fwmark};
  return {svc, af, protocol: PROTO_NUM[k.proto], addr: k.addr, port: k.port, fwmark: 0};
}

/** C `int` subtraction of two unsigned 32-bit values (wraps like the original comparators). */
function cmp32(a: number, b: number): number {
  return ((a >>> 0) - (b >>> 0)) | 0;
}

function addrWords(a: Addr): number[] {
  return typeof a === 'number' ? [a] : ipv6Words(a);
}

function cmpAddr(af6: boolean, a: Addr, b: Addr): number {
  if (!af6) return cmp32(typeof a === 'number' ? a : 0, typeof b === 'number' ? b : 0);
  const wa = addrWords(a), wb = addrWords(b);
  let r = 0;
  for (let i = 0; !r && i < 4; i++) r = cmp32(wa[i] ?? 0, wb[i] ?? 0);
  return r;
}

/** ipvs_cmp_services: fwmark, af, protocol, address, port. */
function cmpServices(s1: SvcEntry, s2: SvcEntry): number {
  let r = cmp32(s1.fwmark, s2.fwmark);
  if (r) return r;
  r = s1.af - s2.af;
  if (r) return r;
  r = s1.protocol - s2.protocol;
  if (r) return r;
  r = cmpAddr(s1.af === AF_INET6, s1.addr, s2.addr);
  if (r) return r;
  return s1.port - s2.port;
}

/** ipvs_cmp_dests: address, then port. */
function cmpDests(d1: Dest, d2: Dest): number {
  const r = cmpAddr(d1.af === 6, d1.addr, d2.addr);
  if (r) return r;
  return d1.port - d2.port;
}

/** A service's real servers in ipvsadm's sorted order (address, then port). */
export function sortedDests(svc: Service): Dest[] {
  return [...svc.dests].sort(cmpDests);
}

/** addrport_to_anyname: "addr:port" ([addr]:port for IPv6); ports by name unless numeric. */
export function addrportName(addr: Addr, port: number, proto: number, numeric: boolean): string {
  const a = formatAddr(addr);
  const host = typeof addr === 'number' ? a : `[${a}]`;
  return `${host}:${numeric ? port : portToAnyname(port, proto)}`;
}

function protocolName(proto: number): string {
  switch (proto) {
    case IPPROTO_TCP: return 'TCP';
    case IPPROTO_UDP: return 'UDP';
    case IPPROTO_SCTP: return 'SCTP';
    default: return '?';
  }
}

function optionFromProtocol(proto: number): string {
  switch (proto) {
    case IPPROTO_TCP: return '-t';
    case IPPROTO_UDP: return '-u';
    case IPPROTO_SCTP: return '--sctp-service';
    default: return '--xxx-service';
  }
}

function fwdSwitch(d: Dest): string {
  switch (d.fwd) {
    case 'masq': return '-m';
    case 'tunnel': return '-i';
    default: return '-g';
  }
}

/** print_sched_flags: names by scheduler, comma-separated ('' if none has a name). */
export function schedFlagNames(sched: string, flags: number): string {
  const names: string[] = [];
  if (sched === 'sh' || sched === 'mh') {
    if (flags & SVC_F.SCHED1) names.push(`${sched}-fallback`);
    if (flags & SVC_F.SCHED2) names.push(`${sched}-port`);
  } else {
    if (flags & SVC_F.SCHED1) names.push('flag-1');
    if (flags & SVC_F.SCHED2) names.push('flag-2');
    if (flags & SVC_F.SCHED3) names.push('flag-3');
  }
  return names.join(',');
}

const SCHED_BITS = SVC_F.SCHED1 | SVC_F.SCHED2 | SVC_F.SCHED3;

/** The dotted netmask as inet_ntoa prints it. */
function maskText(svc: Service): string {
  return formatIPv4(svc.netmask >>> 0);
}

function printTitle(fmt: ListFormat, out: string[]): void {
  const head = padR('Prot LocalAddress:Port', 33);
  if (fmt.stats) {
    out.push(`${head} ${padL('Conns', 8)} ${padL('InPkts', 8)} ${padL('OutPkts', 8)} ${padL('InBytes', 8)} ${padL('OutBytes', 8)}`, '  -> RemoteAddress:Port');
  } else if (fmt.rate) {
    out.push(`${head} ${padL('CPS', 8)} ${padL('InPPS', 8)} ${padL('OutPPS', 8)} ${padL('InBPS', 8)} ${padL('OutBPS', 8)}`, '  -> RemoteAddress:Port');
  } else if (fmt.thresholds) {
    out.push(`${head} ${padR('Uthreshold', 10)} ${padR('Lthreshold', 10)} ${padR('ActiveConn', 10)} ${padR('InActConn', 10)}`, '  -> RemoteAddress:Port');
  } else if (fmt.persistentConn) {
    out.push(`${head} ${padR('Weight', 9)} ${padR('PersistConn', 11)} ${padR('ActiveConn', 10)} ${padR('InActConn', 10)}`, '  -> RemoteAddress:Port');
  } else if (fmt.tunInfo) {
    out.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn');
  } else if (!fmt.rule) {
    out.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  }
}

function fwdTunInfo(d: Dest): string {
  if (d.fwd !== 'tunnel') return 'n/a';
  const t = getTunInfo(d);
  const csum = ['-c', '+c', 'r+c'][t.flags] ?? '-c';
  if (t.type === 1) return `gue:${t.port}:${csum}`;
  if (t.type === 2) return `gre:${csum}`;
  return 'ipip';
}

function tunnelRule(svcName: string, dname: string, d: Dest): string {
  const t = getTunInfo(d);
  const csumOpt = ['--tun-nocsum', '--tun-csum', '--tun-remcsum'][t.flags] ?? '--tun-nocsum';
  const head = `-a ${svcName} -r ${dname} ${fwdSwitch(d)} -w ${d.weight}`;
  if (t.type === 1) return `${head} --tun-type ${TUN_NAMES[1]} --tun-port ${t.port} ${csumOpt}`;
  if (t.type === 2) return `${head} --tun-type ${TUN_NAMES[2]} ${csumOpt}`;
  return `${head} --tun-type ${TUN_NAMES[0]}`;
}

function printServiceEntry(se: SvcEntry, fmt: ListFormat, out: string[]): void {
  const svc = se.svc;
  let svcName: string;
  if (se.fwmark) {
    const mark = se.fwmark | 0; // printed with %d
    if (fmt.rule) svcName = se.af === AF_INET6 ? `-f ${mark} -6` : `-f ${mark}`;
    else svcName = se.af === AF_INET6 ? `FWM  ${mark} IPv6` : `FWM  ${mark}`;
  } else {
    const vname = addrportName(se.addr, se.port, se.protocol, fmt.numeric);
    if (fmt.rule) {
      svcName = `${optionFromProtocol(se.protocol)} ${vname}`;
    } else {
      svcName = `${padR(protocolName(se.protocol), 4)} ${vname}`;
      if (se.af !== AF_INET6) svcName = svcName.slice(0, 33);
    }
  }
  const persistent = (svc.flags & SVC_F.PERSISTENT) !== 0;
  const timeoutS = Math.floor(svc.timeout / 1000);
  const st = svc.stats.read(), rt = svc.stats.rates();
  let line: string;
  if (fmt.rule) {
    line = `-A ${svcName} -s ${svc.scheduler}`;
    if (persistent) {
      line += ` -p ${timeoutS}`;
      if (se.af === AF_INET && svc.netmask >>> 0 !== 0xffffffff) line += ` -M ${maskText(svc)}`;
      if (se.af === AF_INET6 && svc.prefixLen !== 128) line += ` -M ${svc.prefixLen}`;
    }
    if (svc.pe) line += ` --pe ${svc.pe}`;
    if (svc.flags & SVC_F.ONEPACKET) line += ' -o';
    if (svc.flags & SCHED_BITS) line += ` -b ${schedFlagNames(svc.scheduler, svc.flags)}`;
  } else if (fmt.stats) {
    line = padR(svcName, 33) + [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes].map((v) => largenum(v, fmt.exact)).join('');
  } else if (fmt.rate) {
    line = padR(svcName, 33) + [rt.cps, rt.inpps, rt.outpps, rt.inbps, rt.outbps].map((v) => largenum(v, fmt.exact)).join('');
  } else {
    line = `${svcName} ${svc.scheduler}`;
    if (svc.flags & SCHED_BITS) line += ` (${schedFlagNames(svc.scheduler, svc.flags)})`;
    if (persistent) {
      line += ` persistent ${timeoutS}`;
      if (se.af === AF_INET && svc.netmask >>> 0 !== 0xffffffff) line += ` mask ${maskText(svc)}`;
      if (se.af === AF_INET6 && svc.prefixLen !== 128) line += ` mask ${svc.prefixLen}`;
      if (svc.pe) line += ` pe ${svc.pe}`;
    }
    if (svc.flags & SVC_F.ONEPACKET) line += ' ops';
  }
  out.push(line);

  const dests = fmt.nosort ? [...svc.dests] : [...svc.dests].sort(cmpDests);
  for (const d of dests) {
    let dname = addrportName(d.addr, d.port, se.protocol, fmt.numeric);
    if (!fmt.rule && d.af !== 6) dname = dname.slice(0, 28);
    const ds = d.stats.read(), dr = d.stats.rates();
    if (fmt.rule) {
      out.push(d.fwd === 'tunnel' ? tunnelRule(svcName, dname, d) : `-a ${svcName} -r ${dname} ${fwdSwitch(d)} -w ${d.weight}`);
    } else if (fmt.stats) {
      out.push(`  -> ${padR(dname, 28)}` + [ds.conns, ds.inpkts, ds.outpkts, ds.inbytes, ds.outbytes].map((v) => largenum(v, fmt.exact)).join(''));
    } else if (fmt.rate) {
      out.push(`  -> ${padR(dname, 28)} ${padL(dr.cps, 8)} ${padL(dr.inpps, 8)} ${padL(dr.outpps, 8)}` +
        largenum(dr.inbps, fmt.exact) + largenum(dr.outbps, fmt.exact));
    } else if (fmt.thresholds) {
      out.push(`  -> ${padR(dname, 28)} ${padR(d.uThreshold, 10)} ${padR(d.lThreshold, 10)} ${padR(d.activeConns, 10)} ${padR(d.inactConns, 10)}`);
    } else if (fmt.persistentConn) {
      out.push(`  -> ${padR(dname, 28)} ${padR(d.weight, 9)} ${padR(d.persistConns, 11)} ${padR(d.activeConns, 10)} ${padR(d.inactConns, 10)}`);
    } else if (fmt.tunInfo) {
      out.push(`  -> ${padR(dname, 28)} ${padR(fwdName(d), 7)} ${padR(fwdTunInfo(d), 13)} ${padR(d.weight, 6)} ${padR(d.activeConns, 10)} ${padR(d.inactConns, 10)}`);
    } else {
      out.push(`  -> ${padR(dname, 28)} ${padR(fwdName(d), 7)} ${padR(d.weight, 6)} ${padR(d.activeConns, 10)} ${padR(d.inactConns, 10)}`);
    }
  }
}

/** Services in listing order: ipvsadm's sort, or the kernel's dump order with --nosort. */
export function listedServices(e: Engine, nosort: boolean): Service[] {
  const entries = kernelServiceOrder(e).map(entryOf);
  if (!nosort) entries.sort(cmpServices);
  return entries.map((x) => x.svc);
}

/** list_all: the version line (not for -S), the titles, every service. */
export function listAll(e: Engine, fmt: ListFormat): string {
  const out: string[] = [];
  if (!fmt.rule) out.push(versionLine(e));
  printTitle(fmt, out);
  for (const svc of listedServices(e, fmt.nosort)) printServiceEntry(entryOf(svc), fmt, out);
  return out.length ? `${out.join('\n')}\n` : '';
}

/** list_service: the titles and one service (no version line). */
export function listService(svc: Service, fmt: ListFormat): string {
  const out: string[] = [];
  printTitle(fmt, out);
  printServiceEntry(entryOf(svc), fmt, out);
  return `${out.join('\n')}\n`;
}

/** -S: the rules, sorted, one command per line. */
export function saveRules(e: Engine, numeric: boolean): string {
  const fmt: ListFormat = {
    numeric, stats: false, rate: false, thresholds: false, persistentConn: false, nosort: false, exact: false,
    tunInfo: false, rule: true,
  };
  return listAll(e, fmt);
}

function connProto(name: string): number {
  return name === 'TCP' ? IPPROTO_TCP : name === 'UDP' ? IPPROTO_UDP : name === 'SCTP' ? IPPROTO_SCTP : 0;
}

/** list_conn: ipvsadm -c, read from /proc/net/ip_vs_conn in its order. */
export function listConn(e: Engine, fmt: ListFormat): string {
  const out = ['IPVS connection entries'];
  if (fmt.persistentConn) {
    out.push(`pro expire ${padR('state', 11)} ${padR('source', 18)} ${padR('virtual', 18)} ${padR('destination', 18)} ${padR('pe name', 16)} pe_data`);
  } else {
    out.push(`pro expire ${padR('state', 11)} ${padR('source', 18)} ${padR('virtual', 18)} destination`);
  }
  for (const c of procConnEntries(e)) {
    const proto = connProto(c.protoName);
    const cname = addrportName(c.caddr, c.cport, proto, fmt.numeric);
    const vname = addrportName(connVirtualAddr(c), c.vport, proto, fmt.numeric);
    const dname = addrportName(c.daddr, c.dport, proto, fmt.numeric);
    out.push(`${padR(c.protoName, 3)} ${padR(mmss(expiresSeconds(c)), 6)} ${padR(c.stateName, 11)} ${padR(cname, 18)} ${padR(vname, 18)} ${dname}`);
  }
  return `${out.join('\n')}\n`;
}

/** list_timeout. */
export function listTimeout(e: Engine): string {
  const t = e.getTimeouts();
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;
}

/** The sync message size a daemon reports (start_sync_thread's computation; interface MTU 1500). */
export function effectiveSyncMaxLen(d: SyncDaemonConfig): number {
  const hlen = d.mcastGroup.includes(':') ? 48 : 28;
  const mtu = 1500;
  if (!d.syncMaxLen) return d.role === 'master' ? 1500 - hlen : Math.min(Math.max(mtu, 1500), 65535) - hlen;
  return Math.min(Math.max(d.syncMaxLen, d.role === 'master' ? 1 : 1024), 65535 - hlen);
}

/** list_daemon: one line per running role, master first. */
export function listDaemon(e: Engine): string {
  const out: string[] = [];
  for (const role of ['master', 'backup'] as const) {
    const d = e.syncDaemons[role];
    if (!d) continue;
    let line = `${role} sync daemon (mcast=${d.mcastIfn}, syncid=${d.syncId}`;
    const maxlen = effectiveSyncMaxLen(d);
    if (maxlen) line += `, maxlen=${maxlen}`;
    if (d.mcastGroup) line += `, group=${d.mcastGroup}`;
    if (d.mcastPort) line += `, port=${d.mcastPort}`;
    if (d.mcastTtl) line += `, ttl=${d.mcastTtl}`;
    out.push(`${line})`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
