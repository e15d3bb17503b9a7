// Per-packet explanations for --trace and the JSON `packets` list: which service matched, new or
// existing entry, which real server the scheduler (or a persistence template) chose, why a packet
// was dropped or not handled, and the state transition. The engine's verdict says what happened;
// the few "why" facts it does not carry (an old entry in TIME_WAIT being replaced, a template
// rejected) are read from the connection table just before the packet is handed over.
import {type Addr, formatAddr, formatAddrPort, maskAddr} from '../engine/addr.js';
import {
  DEST_F, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SCTP_CHUNK,
  SVC_F, TCP_FLAG,
} from '../engine/constants.js';
import {type ConnInfo, type Engine, describeKey} from '../engine/engine.js';
import {formatTcpFlags} from '../engine/packet.js';
import type {Dest, Packet, Service, Verdict} from '../engine/types.js';
import {fmtSeconds} from './units.js';

export interface PacketRecord {
  t_ms: number;
  tag: string;
  dir: 'in' | 'out';
  proto: string;
  src: string;
  dst: string;
  /** TCP flags, SCTP chunk name, ICMP type/code, or '' for UDP. */
  flags: string;
  len: number;
  retransmission: number;
  action: Verdict['action'];
  reason: string;
  created: boolean;
  /** Matched virtual service ("TCP 192.0.2.1:80"), or null. */
  service: string | null;
  /** Real server of the entry the packet was handled with ("10.0.0.1:80"), or null. */
  server: string | null;
  fwd: string | null;
  state_before: string | null;
  state_after: string | null;
  note: string;
}

const SCTP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(SCTP_CHUNK).map(([k, v]) => [v, k]));

const FWD_NAMES: Record<string, string> = {masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route', bypass: 'Bypass'};

function protoName(p: number): string {
  switch (p) {
    case IPPROTO_TCP: return 'TCP';
    case IPPROTO_UDP: return 'UDP';
    case IPPROTO_SCTP: return 'SCTP';
    case IPPROTO_ICMP: return 'ICMP';
    case IPPROTO_ICMPV6: return 'ICMPv6';
    default: return `proto ${p}`;
  }
}

function flagsText(p: Packet): string {
  if (p.proto === IPPROTO_TCP) return formatTcpFlags(p.tcpFlags);
  if (p.proto === IPPROTO_SCTP) return SCTP_NAMES[p.sctpChunk] ?? `chunk ${p.sctpChunk}`;
  if (p.icmp) return `type ${p.icmp.type} code ${p.icmp.code}`;
  return '';
}

function isOpening(p: Packet): boolean {
  if (p.proto === IPPROTO_TCP) return (p.tcpFlags & TCP_FLAG.SYN) !== 0;
  if (p.proto === IPPROTO_SCTP) return p.sctpChunk === SCTP_CHUNK.INIT;
  return false;
}

function serverOf(c: ConnInfo): string {
  return formatAddrPort(c.daddr, c.dport);
}

function svcName(svc: Service): string {
  return describeKey(svc.key);
}

/** The template an incoming packet of a persistent service would use (ip_vs_sched_persist's key). */
function templateFor(e: Engine, svc: Service, p: Packet): number {
  const snet = maskAddr(p.src, svc.netmask, svc.prefixLen);
  const k = svc.key;
  let proto = p.proto, vaddr: Addr = p.dst, vport = 0, fwm = false;
  if (k.kind === 'addr' && p.dport === k.port) vport = k.port !== 21 ? p.dport : 0;
  else if (k.kind === 'fwmark') {
    proto = IPPROTO_IP;
    vaddr = k.fwmark;
    fwm = true;
  }
  return e.conns.lookupTemplate(p.af, proto, snet, vaddr, vport, fwm);
}

function reasonText(e: Engine, v: Verdict, svc: Service | undefined, entryDest: Dest | null, p: Packet): string {
  const t = e.tunables.v;
  switch (v.reason) {
    case 'not-ipvs': return 'no virtual service matches: not IPVS traffic, passed to the local stack';
    case 'first-packet-filter':
      if (p.proto === IPPROTO_SCTP) {
        return `no connection entry and the first chunk is not INIT${t.sloppy_sctp ? ' (or is ABORT)' : ' (sloppy_sctp=0)'}: passed to the local stack`;
      }
      return `no connection entry and not a SYN${p.tcpFlags & TCP_FLAG.RST ? ' (RST never opens one)' : t.sloppy_tcp ? '' : ' (sloppy_tcp=0)'}: passed to the local stack`;
    case 'drop-packet-defense': return `drop_packet defense (mode ${t.drop_packet}, dropping 1 of every ${e.defense.dropRate} new connections)`;
    case 'no-destination':
      return `${svc ? `${svc.scheduler} found` : 'found'} no usable real server (none, all weight 0 or overloaded): ICMP port unreachable sent`;
    case 'dest-unavailable':
      return `the entry's real server ${entryDest ? formatAddrPort(entryDest.addr, entryDest.port) : ''} was removed and expire_nodest_conn=0 (the entry stays until it times out)`;
    case 'conntrack-reuse': return 'the reused port is pinned by a confirmed conntrack entry (conntrack=1): the client must retry';
    case 'backup-only': return 'backup_only=1 while the backup sync daemon runs: the director does not balance';
    case 'unsupported-proto': return 'protocol not handled by IPVS';
    case 'ftp-data-ignored': return 'FTP data connection left to the FTP helper (not scheduled)';
    case 'icmp-bad-checksum': return 'ICMP error with a bad checksum';
    case 'icmp-unrelated': return 'ICMP not related to any IPVS entry';
    case 'icmp-embedded-no-dest': return 'ICMP error whose embedded packet found no real server';
    case 'frag-needed': return 'larger than the path MTU with DF set: ICMP fragmentation needed sent';
    case 'nat-icmp-send': return 'reply from a NAT real server with no entry, nat_icmp_send=1: ICMP port unreachable back to it';
    case 'no-entry': return 'no connection entry for this reply: not IPVS traffic (leaves untranslated)';
    default: return v.reason;
  }
}

function actionText(e: Engine, v: Verdict, svc: Service | undefined, entryDest: Dest | null, p: Packet): string {
  let s: string;
  switch (v.action) {
    case 'forward': s = 'forwarded'; break;
    case 'bypass': s = 'bypass: sent on unchanged to its original destination (cache_bypass)'; break;
    case 'drop': s = `DROPPED: ${reasonText(e, v, svc, entryDest, p)}`; break;
    default: s = `not handled: ${reasonText(e, v, svc, entryDest, p)}`;
  }
  return s;
}

export interface SendOutcome {
  verdict: Verdict;
  record: PacketRecord | null;
}

/** Hand a packet to the engine; with `explain`, also build its record and explanation. */
export function sendPacket(e: Engine, dir: 'in' | 'out', p: Packet, tag: string, explain: boolean, retransmission = 0): SendOutcome {
  if (!explain) {
    const v = dir === 'in' ? e.inbound(p) : e.outbound(p);
    return {verdict: {...v}, record: null};
  }
  const l4 = p.proto === IPPROTO_TCP || p.proto === IPPROTO_UDP || p.proto === IPPROTO_SCTP;
  const t = e.conns;
  const pre = !l4 ? -1 : dir === 'in'
    ? t.lookupIn(p.af, p.proto, p.src, p.sport, p.dst, p.dport)
    : t.lookupOut(p.af, p.proto, p.src, p.sport, p.dst, p.dport);
  const preInfo = pre >= 0 ? e.conn(pre) : null;
  const preDest = pre >= 0 ? e.destOf(pre) : null;
  const svc = dir === 'in' && l4 ? e.serviceFind(p.af, p.fwmark, p.proto, p.dst, p.dport) : undefined;
  const persistent = svc !== undefined && (svc.flags & SVC_F.PERSISTENT) !== 0;
  const preTpl = persistent ? templateFor(e, svc!, p) : -1;
  const preTplInfo = preTpl >= 0 ? e.conn(preTpl) : null;
  const preTplDest = preTpl >= 0 ? e.destOf(preTpl) : null;
  const before = {
    expireNodest: e.tunables.v.expire_nodest_conn!, reuse: e.tunables.v.conn_reuse_mode!, eqt: e.tunables.v.expire_quiescent_template!,
  };

  const verdict = {...(dir === 'in' ? e.inbound(p) : e.outbound(p))};
  const post = verdict.conn >= 0 ? e.conn(verdict.conn) : null;
  const bits: string[] = [];
  const opening = isOpening(p);

  if (dir === 'in' && l4) {
    if (verdict.created) {
      if (preInfo) {
        const old = `entry in ${preInfo.stateName} -> ${serverOf(preInfo)}`;
        if (preDest && !(preDest.flags & DEST_F.AVAILABLE)) {
          bits.push(`${old} whose real server was removed; expire_nodest_conn=1 expired it, new entry`);
        } else if (opening && before.expireNodest && preDest && preDest.weight === 0) {
          bits.push(`SYN on ${old} (quiesced, weight 0); expire_nodest_conn=1: old entry expired, rescheduled`);
        } else {
          bits.push(`SYN reuses the port of ${old}; conn_reuse_mode=${before.reuse}: old entry expired, rescheduled`);
        }
      }
      const label = svc ? `${svcName(svc)}` : 'service';
      const dest = verdict.dest;
      const where = post ? serverOf(post) : dest ? formatAddrPort(dest.addr, dest.port) : '?';
      const fwd = post ? FWD_NAMES[post.fwd] : dest ? FWD_NAMES[dest.fwd] : '';
      if (verdict.action === 'bypass') {
        bits.push(`${label}: no real server, cache_bypass=1: new bypass entry`);
      } else if (persistent && preTpl >= 0 && post && post.control === preTpl) {
        let s = `${label}: persistence template ${tplLabel(preTplInfo)} -> ${where} ${fwd}, new entry`;
        if (dest && dest.weight === 0) s += ` (server quiesced, weight 0: expire_quiescent_template=${before.eqt} keeps it)`;
        bits.push(s);
      } else if (persistent && preTpl >= 0) {
        const why = !preTplDest || !(preTplDest.flags & DEST_F.AVAILABLE)
          ? 'its server was removed'
          : preTplDest.weight === 0 ? `its server is quiesced and expire_quiescent_template=${before.eqt}` : 'not usable';
        const oldServer = preTplInfo ? formatAddrPort(preTplInfo.daddr, preTplInfo.dport) : '?';
        bits.push(`${label}: template -> ${oldServer} invalidated (${why}); ${svc!.scheduler} chose ${where} ${fwd}, new template and entry`);
      } else if (persistent) {
        bits.push(`${label}: ${svc!.scheduler} chose ${where} ${fwd} (weight ${dest?.weight ?? '?'}), new persistence template and entry`);
      } else {
        bits.push(`${label}: ${svc ? svc.scheduler : 'scheduler'} chose ${where} ${fwd} (weight ${dest?.weight ?? '?'}), new entry`);
      }
    } else if (post) {
      if (preInfo && opening && pre === verdict.conn) {
        const why = preInfo.control >= 0 ? 'it belongs to a persistence template'
          : before.reuse === 0 ? 'conn_reuse_mode=0'
          : `${preInfo.stateName} is not a reusable state`;
        bits.push(`SYN on existing entry in ${preInfo.stateName}, not rescheduled (${why}): stays on ${serverOf(post)}`);
      } else {
        bits.push(`existing entry -> ${serverOf(post)} ${FWD_NAMES[post.fwd]}`);
      }
    } else if (svc && !verdict.created && verdict.reason !== 'first-packet-filter') {
      bits.push(`${svcName(svc)}`);
    }
  } else if (dir === 'out' && l4) {
    if (post) bits.push(`reply of entry ${formatAddrPort(post.caddr, post.cport)} -> ${formatAddrPort(post.vaddr, post.vport)}`);
  } else if (p.icmp) {
    const i = p.icmp.inner;
    bits.push(`ICMP error about ${protoName(i.proto)} ${formatAddrPort(i.src, i.sport)} -> ${formatAddrPort(i.dst, i.dport)}`);
    if (post) bits.push(`entry -> ${serverOf(post)}`);
  }

  let stateBefore: string | null = null, stateAfter: string | null = null;
  if (l4 && (post || verdict.created)) {
    stateBefore = verdict.created ? (p.proto === IPPROTO_UDP ? null : 'NONE') : (preInfo && pre === verdict.conn ? preInfo.stateName : null);
    stateAfter = post ? post.stateName : null;
    if (post && stateBefore !== null && stateBefore !== stateAfter) bits.push(`${stateBefore} -> ${stateAfter}`);
    else if (post) bits.push(`state ${stateAfter}`);
    else if (verdict.created && verdict.action !== 'drop') bits.push('one-packet scheduling: entry released at once');
  }
  bits.push(actionText(e, verdict, svc, verdict.reason === 'dest-unavailable' ? verdict.dest : preDest, p));
  if (verdict.icmpSent) bits.push(`ICMP ${verdict.icmpSent.type}/${verdict.icmpSent.code} sent`);

  const record: PacketRecord = {
    t_ms: e.now,
    tag,
    dir,
    proto: protoName(p.proto),
    src: l4 ? formatAddrPort(p.src, p.sport) : formatAddr(p.src),
    dst: l4 ? formatAddrPort(p.dst, p.dport) : formatAddr(p.dst),
    flags: flagsText(p),
    len: p.len,
    retransmission,
    action: verdict.action,
    reason: verdict.reason,
    created: verdict.created,
    service: svc ? svcName(svc) : null,
    server: post ? serverOf(post) : verdict.dest ? formatAddrPort(verdict.dest.addr, verdict.dest.port) : null,
    fwd: post ? FWD_NAMES[post.fwd] ?? post.fwd : verdict.dest ? FWD_NAMES[verdict.dest.fwd] ?? null : null,
    state_before: stateBefore,
    state_after: stateAfter,
    note: bits.join('; '),
  };
  return {verdict, record};
}

function tplLabel(c: ConnInfo | null): string {
  if (!c) return '';
  const v = c.fwmarkTemplate ? `FWM ${c.vaddr}` : formatAddrPort(c.vaddr, c.vport);
  return `(${formatAddrPort(c.caddr, 0).replace(/:0$/, '')} -> ${v})`;
}

/** One trace line for a packet record. */
export function traceLine(r: PacketRecord): string {
  const flags = r.flags ? ` ${r.flags}` : '';
  const rt = r.retransmission ? ` (retransmission ${r.retransmission})` : '';
  return `${fmtSeconds(r.t_ms).padStart(8)} ${r.tag.padEnd(6)} ${r.dir.padEnd(3)} ${r.proto} ${r.src} -> ${r.dst}${flags} ${r.len}B${rt}: ${r.note}`;
}

/** A trace line that is not a packet (actions, session outcomes, replies the director never sees). */
export function noteLine(tMs: number, tag: string, text: string): string {
  return `${fmtSeconds(tMs).padStart(8)} ${tag.padEnd(6)} ${text}`;
}
