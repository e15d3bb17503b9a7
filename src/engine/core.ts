// The packet path, as ip_vs_core.c: ip_vs_in (lookup, port reuse, expire_nodest_conn, scheduling
// through ip_vs_schedule / ip_vs_sched_persist / ip_vs_leave, stats, state, transmit, sync, re-arm),
// ip_vs_out for replies, ip_vs_in_icmp / ip_vs_out_icmp, and the protocols' state transitions
// (set_tcp_state, udp_state_transition, set_sctp_state in ip_vs_proto_*.c) they drive.
import {type Addr, formatAddrPort, maskAddr} from './addr.js';
import {
  CONN_F, CTPL_S, DEST_F, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
  SCTP_CHUNK, SVC_F, TCP_FLAG,
} from './constants.js';
import {DBG} from './debug-log.js';
import {DIR, TCP_ACTIVE, TCP_STATE, TCP_STATE_NAMES, tcpNextState} from './proto/tcp.js';
import {SCTP_ACTIVE, SCTP_STATE, SCTP_STATE_NAMES, sctpEvent, sctpNextState} from './proto/sctp.js';
import {findScheduler} from './sched/index.js';
import {Stats} from './stats.js';
import type {Dest, Packet, Service, Verdict} from './types.js';
import {
  CT_FIN, CT_RST_CLIENT, CT_RST_SERVER, FTPDATA, FTPPORT, PROTO_NAME, SYNC_STATE, TALLY_TPL, VERDICT_ACCEPT_NOT_IPVS,
} from './netns.js';
import {IpvsXmit} from './xmit.js';

export abstract class IpvsCore extends IpvsXmit {
  /**
   * A packet addressed to the director (client -> virtual service). Returns a verdict object
   * that is reused by the next call: copy what you need to keep.
   */
  inbound(p: Packet): Verdict {
    this.resetVerdict();
    this.counters.packetsIn++;
    this.counters.bytesIn += p.len;
    if (this.backupOnly()) return this.setVerdict('accept', 'backup-only');
    if (!this.enabled) return this.setVerdict('accept', VERDICT_ACCEPT_NOT_IPVS);
    if (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6) return this.inIcmp(p);
    if (p.proto !== IPPROTO_TCP && p.proto !== IPPROTO_UDP && p.proto !== IPPROTO_SCTP) {
      // ignore_tunneled marks such packets (IPIP, GRE...) as IPVS-owned so that, decapsulated, they
      // are not processed again; either way they continue to the local stack.
      return this.setVerdict('accept', this.tunables.v.ignore_tunneled ? 'tunneled-ignored' : 'unsupported-proto');
    }
    const t = this.table;
    let cp = t.inLookup(p.af, p.proto, p.src, p.sport, p.dst, p.dport);
    if (this.dbg(DBG.PKT)) this.log.put(this.now, DBG.PKT, `ip_vs_in: ${describePacket(p)} ${cp >= 0 ? 'hit' : 'miss'}`);

    if (cp >= 0 && this.isNewConn(p)) {
      // Port reuse (ip_vs_core.c, ip_vs_in: conn_reuse_mode, is_new_conn)
      let resched = false, oldCt = false;
      const dest = this.destOfSlot(cp);
      if (this.tunables.v.expire_nodest_conn && dest && dest.weight === 0) {
        resched = true;
        oldCt = this.ctConfirmed(cp);
      } else if (this.tunables.v.conn_reuse_mode && this.isNewConnExpected(cp, this.tunables.v.conn_reuse_mode!)) {
        oldCt = this.ctConfirmed(cp);
        resched = t.nControlOf(cp) === 0 ? true : !oldCt;
      }
      if (resched) {
        if (!oldCt) t.setFlags(cp, t.flagsOf(cp) & ~CONN_F.NFCT);
        if (t.nControlOf(cp) === 0) this.expireNow(cp);
        if (oldCt) return this.setVerdict('drop', 'conntrack-reuse');
        cp = -1;
      }
    }

    if (cp >= 0) {
      const dest = this.destOfSlot(cp);
      if (dest && !(dest.flags & DEST_F.AVAILABLE)) {
        // Destination removed (ip_vs_core.c, ip_vs_in: expire_nodest_conn)
        if (this.tunables.v.expire_nodest_conn) {
          const oldCt = this.ctConfirmed(cp);
          if (!oldCt) t.setFlags(cp, t.flagsOf(cp) & ~CONN_F.NFCT);
          this.expireNow(cp);
          if (oldCt) return this.setVerdict('drop', 'conntrack-reuse');
          cp = -1;
        } else {
          if (this.dbg(DBG.SCHED)) this.log.put(this.now, DBG.SCHED, `drop packet of ${this.labelOf(cp)}: destination unavailable`);
          return this.setVerdict('drop', 'dest-unavailable', cp, dest);
        }
      }
    }

    if (cp < 0) {
      const r = this.connSchedule(p);
      if (r < 0) return this.verdict;
      cp = r;
      this.verdict.created = true;
    }
    return this.handleEntryInput(cp, p);
  }

  /** Stats, state transition, transmit, in_pkts, sync and timer re-arm for an incoming packet. */
  protected handleEntryInput(cp: number, p: Packet): Verdict {
    const t = this.table;
    const dest = this.destOfSlot(cp);
    this.inStats(dest, p.len);
    this.setState(cp, DIR.INPUT, p);
    const created = this.verdict.created;
    const fl = t.flagsOf(cp);
    const v = this.transmit(cp, p, dest);
    this.verdict.created = created;
    let pkts: number;
    if (fl & CONN_F.ONE_PACKET) pkts = this.tunables.v.sync_threshold!;
    else pkts = t.countInPkt(cp);
    if (this.syncState & SYNC_STATE.MASTER) this.callSyncHook(cp, pkts);
    else if (fl & CONN_F.ONE_PACKET && t.controlOf(cp) >= 0) t.countInPkt(t.controlOf(cp));
    this.connPut(cp);
    return v;
  }

  protected backupOnly(): boolean {
    return (this.syncState & SYNC_STATE.BACKUP) !== 0 && this.tunables.v.backup_only !== 0;
  }

  /** is_new_conn: TCP with SYN, SCTP whose first chunk is INIT. */
  protected isNewConn(p: Packet): boolean {
    if (p.proto === IPPROTO_TCP) return (p.tcpFlags & TCP_FLAG.SYN) !== 0;
    if (p.proto === IPPROTO_SCTP) return p.sctpChunk === SCTP_CHUNK.INIT;
    return false;
  }

  /** is_new_conn_expected. */
  protected isNewConnExpected(cp: number, mode: number): boolean {
    const t = this.table;
    if (t.controlOf(cp) >= 0) return false;
    const st = t.stateOf(cp);
    switch (t.protoOf(cp)) {
      case IPPROTO_TCP:
        return st === TCP_STATE.TIME_WAIT || st === TCP_STATE.CLOSE ||
          ((mode & 2) !== 0 && st === TCP_STATE.FIN_WAIT && (t.flagsOf(cp) & CONN_F.NOOUTPUT) !== 0);
      case IPPROTO_SCTP:
        return st === SCTP_STATE.CLOSED;
      default:
        return false;
    }
  }

  /**
   * Whether a reused tuple is pinned by a confirmed netfilter conntrack (ip_vs_core.c, ip_vs_in's is_new_conn_expected / nf_ct_is_confirmed; docs/kernel-behaviour.md, "Port reuse"). Only entries
   * with NFCT are tracked, and 6.1 tracks IPVS flows only while an FTP (port 21) service exists.
   * A SYN meeting a TIME_WAIT/CLOSE flow that saw a FIN, or whose last packet was a client RST,
   * gets a fresh unconfirmed conntrack.
   */
  protected ctConfirmed(cp: number): boolean {
    const t = this.table;
    if (!(t.flagsOf(cp) & CONN_F.NFCT) || this.ftpServices === 0) return false;
    const st = t.stateOf(cp);
    if (t.protoOf(cp) === IPPROTO_TCP && (st === TCP_STATE.TIME_WAIT || st === TCP_STATE.CLOSE) &&
        t.ctInfoOf(cp) & (CT_FIN | CT_RST_CLIENT)) {
      return false;
    }
    return true;
  }

  /**
   * Returns the new entry, or -1 with this.verdict set. `p` is the packet as the client sent it;
   * for an ICMP-embedded one, `schedView` is the embedded packet as carried (inverse), which is
   * what the kernel hands the schedulers (dh/lblc/lblcr then key on its destination: the client).
   */
  protected connSchedule(p: Packet, icmpEmbedded = false, schedView: Packet = p): number {
    const v = this.tunables.v;
    if (!icmpEmbedded) {
      if (p.proto === IPPROTO_TCP) {
        if (p.tcpFlags & TCP_FLAG.RST || !(v.sloppy_tcp || p.tcpFlags & TCP_FLAG.SYN)) {
          this.setVerdict('accept', 'first-packet-filter');
          return -1;
        }
      } else if (p.proto === IPPROTO_SCTP) {
        const ok = p.sctpChunk === SCTP_CHUNK.INIT || (v.sloppy_sctp !== 0 && p.sctpChunk !== SCTP_CHUNK.ABORT);
        if (!ok) {
          this.setVerdict('accept', 'first-packet-filter');
          return -1;
        }
      }
    }
    const svc = this.serviceFind(p.af, p.fwmark, p.proto, p.dst, p.dport);
    if (this.dbg(DBG.SVC_LOOKUP)) this.log.put(this.now, DBG.SVC_LOOKUP, `lookup service: ${formatAddrPort(p.dst, p.dport)} -> ${svc ? this.serviceLabel(svc) : 'not found'}`);
    if (!svc) {
      this.setVerdict('accept', VERDICT_ACCEPT_NOT_IPVS);
      return -1;
    }
    if (this.defense.todrop()) {
      if (this.dbg(DBG.PKT)) this.log.put(this.now, DBG.PKT, `drop_packet: dropping ${describePacket(p)}`);
      this.setVerdict('drop', 'drop-packet-defense');
      return -1;
    }
    const r = this.ipvsSchedule(svc, p, schedView);
    if (r >= 0) return r;
    if (r === -1) this.leave(svc, p, icmpEmbedded); // no destination
    else if (r === -2) this.setVerdict('accept', 'ftp-data-ignored');
    return -1;
  }

  /** ip_vs_schedule: >= 0 entry; -1 no destination (ignored 0); -2 deliberately ignored (1). */
  protected ipvsSchedule(svc: Service, p: Packet, schedView: Packet): number {
    if (p.sport === FTPDATA) return -2;
    if (svc.flags & SVC_F.PERSISTENT) return this.schedPersist(svc, p, schedView);
    if (svc.key.kind === 'addr' && p.dport !== svc.key.port) {
      if (svc.key.port === 0) {
        if (this.dbg(DBG.ERROR)) this.log.put(this.now, DBG.ERROR, 'Schedule: port zero only supported in persistent services, check your ipvs configuration');
      }
      return -1;
    }
    const dest = this.runScheduler(svc, schedView);
    if (!dest) return -1;
    const flags = svc.flags & SVC_F.ONEPACKET && p.proto === IPPROTO_UDP ? CONN_F.ONE_PACKET : 0;
    const cp = this.connNew(p.af, p.proto, p.src, p.sport, p.dst, p.dport, dest, dest.port || p.dport, flags, p.fwmark);
    this.connStats(svc, dest);
    return cp;
  }

  protected runScheduler(svc: Service, p: Packet): Dest | null {
    const sched = findScheduler(svc.scheduler);
    const dest = sched ? sched.schedule(svc, p, this.schedCtx) : null;
    if (!dest) {
      if (this.dbg(DBG.ERROR)) this.log.put(this.now, DBG.ERROR, `${svc.scheduler}: ${this.serviceLabel(svc)} - no destination available`);
    } else {
      if (this.dbg(DBG.SCHED)) this.log.put(this.now, DBG.SCHED, `${svc.scheduler}: ${describePacket(p)} -> ${formatAddrPort(dest.addr, dest.port)} ` +
        `activeconns ${dest.activeConns} inactconns ${dest.inactConns} weight ${dest.weight}`);
    }
    return dest;
  }

  /** ip_vs_sched_persist (ip_vs_core.c). */
  protected schedPersist(svc: Service, p: Packet, schedView: Packet): number {
    const t = this.table;
    const snet = maskAddr(p.src, svc.netmask, svc.prefixLen);
    const svcPort = svc.key.kind === 'addr' ? svc.key.port : 0;
    let tplProto = p.proto, tplVaddr: Addr = p.dst, tplVport: number, fwmarkKey = false;
    if (svc.key.kind === 'addr' && p.dport === svcPort) {
      tplVport = svcPort !== FTPPORT ? p.dport : 0;
    } else if (svc.key.kind === 'fwmark') {
      // For fwmark services "dport != svc->port" always holds (svc->port is 0).
      tplProto = IPPROTO_IP;
      tplVaddr = svc.key.fwmark;
      tplVport = 0;
      fwmarkKey = true;
    } else {
      tplVport = 0;
    }
    let ct = t.templateLookup(p.af, tplProto, snet, tplVaddr, tplVport, fwmarkKey);
    let dest: Dest | null;
    if (ct < 0 || !this.checkTemplate(ct, null)) {
      dest = this.runScheduler(svc, schedView);
      if (!dest) return -1;
      const dport = svc.key.kind === 'addr' && p.dport === svcPort && svcPort !== FTPPORT ? dest.port : 0;
      ct = this.connNew(p.af, tplProto, snet, 0, tplVaddr, tplVport, dest, dport, CONN_F.TEMPLATE, p.fwmark, fwmarkKey);
      t.setTimeout(ct, svc.timeout);
      if (this.dbg(DBG.BIND)) this.log.put(this.now, DBG.BIND, `new template ${this.labelOf(ct)}`);
    } else {
      dest = this.destOfSlot(ct)!;
    }
    let dport = p.dport;
    if (svc.key.kind === 'addr' && p.dport === svcPort && dest.port) dport = dest.port;
    const flags = svc.flags & SVC_F.ONEPACKET && p.proto === IPPROTO_UDP ? CONN_F.ONE_PACKET : 0;
    const cp = this.connNew(p.af, p.proto, p.src, p.sport, p.dst, p.dport, dest, dport, flags, p.fwmark);
    t.setControl(cp, ct);
    this.connPut(ct); // re-arms the template with its own timeout
    this.connStats(svc, dest);
    return cp;
  }

  /** ip_vs_check_template: invalidate (ports 0xffff) a template whose dest is unusable. */
  protected checkTemplate(ct: number, cdest: Dest | null): boolean {
    const t = this.table;
    const dest = this.destOfSlot(ct);
    const quiescent = dest !== null && this.tunables.v.expire_quiescent_template !== 0 && dest.weight === 0;
    if (!dest || !(dest.flags & DEST_F.AVAILABLE) || quiescent || (cdest && dest !== cdest)) {
      if (t.virtualPortOf(ct) !== 0xffff) {
        t.setPorts(ct, 0, 0xffff, 0xffff);
      }
      if (this.dbg(DBG.BIND)) this.log.put(this.now, DBG.BIND, `template ${this.labelOf(ct)} invalidated`);
      return false;
    }
    return true;
  }

  /** ip_vs_leave: cache bypass, FTP fallback accept, ICMP port unreachable and drop. */
  protected leave(svc: Service, p: Packet, icmpEmbedded: boolean): void {
    const dstLocal = this.isLocalAddr(p.af, p.dst);
    if (this.tunables.v.cache_bypass && svc.key.kind === 'fwmark' && !icmpEmbedded && !dstLocal &&
        !isMulticastOrBroadcast(p.dst)) {
      const flags = CONN_F.BYPASS | (svc.flags & SVC_F.ONEPACKET && p.proto === IPPROTO_UDP ? CONN_F.ONE_PACKET : 0);
      const cp = this.connNew(p.af, p.proto, p.src, p.sport, p.dst, p.dport, null, 0, flags, 0);
      this.verdict.created = true;
      this.handleEntryInput(cp, p);
      return;
    }
    if (svc.key.kind === 'addr' && svc.key.port === FTPPORT && p.dport !== FTPPORT) {
      this.setVerdict('accept', 'ftp-data-ignored');
      return;
    }
    if (icmpEmbedded) {
      this.setVerdict('drop', 'icmp-embedded-no-dest');
      return;
    }
    this.sendIcmp(p.af === 4 ? 3 : 1, p.af === 4 ? 3 : 4);
    this.setVerdict('drop', 'no-destination');
  }

  /** ip_vs_conn_stats: one new connection for dest, service and total. */
  protected connStats(svc: Service, dest: Dest): void {
    dest.stats.conns++;
    svc.stats.conns++;
    this.totStats.conns++;
  }

  /** ip_vs_in_stats / ip_vs_out_stats: one packet for the dest, its service and the total. */
  protected inStats(dest: Dest | null, len: number): void {
    if (!dest || !(dest.flags & DEST_F.AVAILABLE)) return;
    countIn(dest.stats, len);
    countIn(dest.svc.stats, len);
    countIn(this.totStats, len);
  }

  protected outStats(dest: Dest | null, len: number): void {
    if (!dest || !(dest.flags & DEST_F.AVAILABLE)) return;
    countOut(dest.stats, len);
    countOut(dest.svc.stats, len);
    countOut(this.totStats, len);
  }

  protected setState(cp: number, dir: number, p: Packet): void {
    const t = this.table;
    const proto = t.protoOf(cp);
    if (proto === IPPROTO_UDP) {
      t.setTimeout(cp, this.timeouts.udp[0]!);
      if (dir === DIR.OUTPUT) this.assureController(cp);
      return;
    }
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_SCTP) return;
    let d = dir;
    if (t.flagsOf(cp) & CONN_F.NOOUTPUT) {
      if (dir === DIR.OUTPUT) t.setFlags(cp, t.flagsOf(cp) & ~CONN_F.NOOUTPUT);
      else d = DIR.INPUT_ONLY;
    }
    const cur = t.stateOf(cp);
    let next: number, active: readonly boolean[], timeouts: readonly number[], names: readonly string[], established: number;
    if (proto === IPPROTO_TCP) {
      if (t.flagsOf(cp) & CONN_F.NFCT) this.trackConntrack(cp, dir, p.tcpFlags);
      next = tcpNextState(this.defense.secureTable, d, p.tcpFlags, cur);
      active = TCP_ACTIVE; timeouts = this.timeouts.tcp; names = TCP_STATE_NAMES; established = TCP_STATE.ESTABLISHED;
    } else {
      next = sctpNextState(d, sctpEvent(p.sctpChunk, p.sctpChunkLen, p.sctpNextChunk), cur);
      active = SCTP_ACTIVE; timeouts = this.timeouts.sctp; names = SCTP_STATE_NAMES; established = SCTP_STATE.ESTABLISHED;
    }
    if (next !== cur) {
      const dest = this.destOfSlot(cp);
      if (dest) {
        const inactive = (t.flagsOf(cp) & CONN_F.INACTIVE) !== 0;
        if (!inactive && !active[next]) {
          dest.activeConns--;
          dest.inactConns++;
          t.setFlags(cp, t.flagsOf(cp) | CONN_F.INACTIVE);
        } else if (inactive && active[next]) {
          dest.activeConns++;
          dest.inactConns--;
          t.setFlags(cp, t.flagsOf(cp) & ~CONN_F.INACTIVE);
        }
      }
      if (next === established) this.assureController(cp);
      if (this.dbg(DBG.STATE)) this.log.put(this.now, DBG.STATE, `${PROTO_NAME[proto]!.toUpperCase()} ${['input', 'output', 'input only'][d]} ` +
        `${names[cur]}->${names[next]} ${this.labelOf(cp)}`);
    }
    if (next !== cur) {
      this.tally[this.tallyIndex(cp)]!--;
      t.setState(cp, next);
      this.tally[this.tallyIndex(cp)]!++;
    }
    t.setTimeout(cp, timeouts[next]!);
  }

  /** ip_vs_control_assure_ct: mark the controlling template ASSURED. */
  protected assureController(cp: number): void {
    const t = this.table;
    const ct = t.controlOf(cp);
    if (ct >= 0 && t.flagsOf(ct) & CONN_F.TEMPLATE && !(t.stateOf(ct) & CTPL_S.ASSURED)) {
      this.tally[TALLY_TPL]!--;
      t.setState(ct, t.stateOf(ct) | CTPL_S.ASSURED);
      this.tally[TALLY_TPL + 1]!++;
    }
  }

  protected trackConntrack(cp: number, dir: number, flags: number): void {
    const t = this.table;
    let ct = t.ctInfoOf(cp);
    if (flags & TCP_FLAG.FIN) ct |= CT_FIN;
    if (flags & TCP_FLAG.RST) ct = (ct & CT_FIN) | (dir === DIR.OUTPUT ? CT_RST_SERVER : CT_RST_CLIENT);
    else ct &= CT_FIN;
    t.setCtInfo(cp, ct);
  }

  /** A packet from a real server (or the VIP for DR/TUN replies routed back) to a client. */
  outbound(p: Packet): Verdict {
    this.resetVerdict();
    this.counters.packetsOut++;
    this.counters.bytesOut += p.len;
    if (!this.enabled) return this.setVerdict('accept', VERDICT_ACCEPT_NOT_IPVS);
    if (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6) return this.outIcmp(p);
    if (p.proto !== IPPROTO_TCP && p.proto !== IPPROTO_UDP && p.proto !== IPPROTO_SCTP) {
      return this.setVerdict('accept', 'unsupported-proto');
    }
    const t = this.table;
    const cp = t.outLookup(p.af, p.proto, p.src, p.sport, p.dst, p.dport);
    if (cp >= 0) {
      const dest = this.destOfSlot(cp);
      this.outStats(dest, p.len);
      this.setState(cp, DIR.OUTPUT, p);
      t.countOutPkt(cp);
      const v = this.setVerdict('forward', '', cp, dest);
      this.connPut(cp);
      return v;
    }
    if (this.tunables.v.nat_icmp_send && this.hasRealService(p.af, p.proto, p.src, p.sport)) {
      const isReset = (p.proto === IPPROTO_TCP && (p.tcpFlags & TCP_FLAG.RST) !== 0) ||
        (p.proto === IPPROTO_SCTP && p.sctpChunk === SCTP_CHUNK.ABORT);
      if (!isReset) {
        this.sendIcmp(p.af === 4 ? 3 : 1, p.af === 4 ? 3 : 4);
        return this.setVerdict('drop', 'nat-icmp-send');
      }
    }
    return this.setVerdict('accept', 'no-entry');
  }

  protected icmpRelated(p: Packet): boolean {
    const icmp = p.icmp;
    if (!icmp) return false;
    if (p.af === 4) return icmp.type === 3 || icmp.type === 4 || icmp.type === 11;
    return icmp.type < 128;
  }

  protected inIcmp(p: Packet): Verdict {
    if (!this.icmpRelated(p)) return this.setVerdict('accept', 'icmp-unrelated');
    const inner = p.icmp!.inner;
    if (inner.proto !== IPPROTO_TCP && inner.proto !== IPPROTO_UDP && inner.proto !== IPPROTO_SCTP) {
      return this.setVerdict('accept', 'icmp-unrelated');
    }
    // The embedded packet went director -> client; look it up with the addresses swapped back.
    let cp = this.table.inLookup(inner.af, inner.proto, inner.dst, inner.dport, inner.src, inner.sport);
    if (cp < 0) {
      if (!this.tunables.v.schedule_icmp) return this.setVerdict('accept', 'icmp-unrelated');
      const asClient: Packet = {...inner, src: inner.dst, sport: inner.dport, dst: inner.src, dport: inner.sport, fwmark: p.fwmark};
      const r = this.connSchedule(asClient, true, {...inner, fwmark: p.fwmark, inverse: true});
      if (r < 0) return this.verdict;
      cp = r;
      this.verdict.created = true;
      this.table.arm(cp, this.now + this.table.timeoutOf(cp));
    }
    if (!p.icmp!.checksumOk) return this.setVerdict('drop', 'icmp-bad-checksum', cp);
    const dest = this.destOfSlot(cp);
    this.inStats(dest, p.len);
    // No state transition and no timer re-arm for ICMP about an existing entry (ip_vs_core.c, ip_vs_in_icmp).
    return this.setVerdict('forward', '', cp, dest);
  }

  protected outIcmp(p: Packet): Verdict {
    if (!this.icmpRelated(p)) return this.setVerdict('accept', 'icmp-unrelated');
    const inner = p.icmp!.inner;
    // The embedded packet went client -> real server (or VIP); find it as a reply would be found.
    const cp = this.table.outLookup(inner.af, inner.proto, inner.dst, inner.dport, inner.src, inner.sport);
    if (cp < 0) return this.setVerdict('accept', 'icmp-unrelated');
    if ((this.table.flagsOf(cp) & CONN_F.FWD_MASK) === CONN_F.MASQ && !p.icmp!.checksumOk) {
      return this.setVerdict('drop', 'icmp-bad-checksum', cp);
    }
    const dest = this.destOfSlot(cp);
    this.outStats(dest, p.len);
    return this.setVerdict('forward', '', cp, dest);
  }
}

function countIn(s: Stats, len: number): void {
  s.inpkts++;
  s.inbytes += len;
}

function countOut(s: Stats, len: number): void {
  s.outpkts++;
  s.outbytes += len;
}

function describePacket(p: Packet): string {
  const proto = PROTO_NAME[p.proto]?.toUpperCase() ?? `proto ${p.proto}`;
  return `${proto} ${formatAddrPort(p.src, p.sport)}->${formatAddrPort(p.dst, p.dport)}`;
}

function isMulticastOrBroadcast(a: Addr): boolean {
  if (typeof a === 'number') return a >>> 28 === 0xe || a === 0xffffffff;
  return a.startsWith('ff');
}
