// Connection life, as ip_vs_conn.c: ip_vs_conn_new with ip_vs_bind_dest / ip_vs_unbind_dest,
// the timer (ip_vs_conn_put, ip_vs_conn_expire, ip_vs_conn_expire_now, ip_vs_conn_del), the
// defense sweeps that remove entries (ip_vs_random_dropentry with todrop_entry,
// ip_vs_expire_nodest_conn_flush), and what a sync backup needs (ip_vs_proc_conn's helpers).
import type {Addr, Af} from './addr.js';
import {
  CONN_DEFER_TIMEOUT, CONN_F, CONN_INITIAL_TIMEOUT, CTPL_S, DEST_F, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SECOND,
  SVC_F,
} from './constants.js';
import type {ConnId} from './conn-view.js';
import {DBG} from './debug-log.js';
import {TCP_STATE, TCP_STATE_NAMES} from './proto/tcp.js';
import {SCTP_STATE, SCTP_STATE_NAMES} from './proto/sctp.js';
import type {Dest} from './types.js';
import {IpvsNetns, PROTO_NAME, SYNC_STATE, type SyncHook} from './netns.js';

export abstract class IpvsConn extends IpvsNetns {
  /** ip_vs_conn_new + ip_vs_bind_dest. */
  protected connNew(af: Af, proto: number, caddr: Addr, cport: number, vaddr: Addr, vport: number,
    dest: Dest | null, dport: number, flags: number, fwmark: number, fwmarkTemplate = false): number {
    const daddr: Addr = dest ? dest.addr : (af === 4 ? 0 : '::');
    return this.createConn(af, dest ? dest.af : af, proto, caddr, cport, vaddr, vport, daddr, dport, flags, fwmark,
      fwmarkTemplate, dest, '');
  }

  /**
   * The common part of ip_vs_conn_new: allocate and hash, bind the dest, arm the first 3 s timer.
   * The fields come as arguments: the packet path builds no object per connection.
   */
  protected createConn(af: Af, daf: Af, proto: number, caddr: Addr, cport: number, vaddr: Addr, vport: number,
    daddr: Addr, dport: number, connFlags: number, fwmark: number, fwmarkTemplate: boolean, dest: Dest | null,
    note: string): number {
    const t = this.table;
    const flags = this.tunables.v.conntrack ? connFlags | CONN_F.NFCT : connFlags;
    // bindDest sets the dest
    const i = t.createEntry(af, daf, proto, caddr, cport, vaddr, vport, daddr, dport, flags, fwmark, fwmarkTemplate, -1,
      this.now, !(flags & CONN_F.ONE_PACKET));
    if (dest) this.bindDest(i, dest);
    this.tally[this.tallyIndex(i)]!++;
    t.setTimeout(i, CONN_INITIAL_TIMEOUT);
    t.arm(i, this.now + CONN_INITIAL_TIMEOUT);
    if (!(flags & CONN_F.TEMPLATE)) this.counters.connsCreated++;
    if (this.dbg(DBG.CONN)) this.log.put(this.now, DBG.CONN, `${note}new conn ${this.labelOf(i)}`);
    return i;
  }

  /** ip_vs_bind_dest: flags from the dest, counters, OVERLOAD. */
  protected bindDest(i: number, dest: Dest): void {
    const t = this.table;
    let connFlags = dest.connFlags;
    if (t.protoOf(i) !== IPPROTO_UDP) connFlags &= ~CONN_F.ONE_PACKET;
    if (t.flagsOf(i) & CONN_F.SYNC) {
      if (!(t.flagsOf(i) & CONN_F.TEMPLATE)) connFlags &= ~CONN_F.INACTIVE;
      t.setFlags(i, t.flagsOf(i) & ~(CONN_F.FWD_MASK | CONN_F.NOOUTPUT));
    }
    t.setFlags(i, t.flagsOf(i) | connFlags);
    t.setDestId(i, dest.id);
    dest.refs++;
    if (t.flagsOf(i) & CONN_F.TEMPLATE) dest.persistConns++;
    else if (t.flagsOf(i) & CONN_F.INACTIVE) dest.inactConns++;
    else dest.activeConns++;
    if (dest.uThreshold !== 0 && dest.activeConns + dest.inactConns >= dest.uThreshold) {
      dest.flags |= DEST_F.OVERLOAD;
    }
  }

  /** ip_vs_unbind_dest. */
  protected unbindDest(i: number): void {
    const t = this.table;
    const dest = this.destOfSlot(i);
    if (!dest) return;
    if (t.flagsOf(i) & CONN_F.TEMPLATE) dest.persistConns--;
    else if (t.flagsOf(i) & CONN_F.INACTIVE) dest.inactConns--;
    else dest.activeConns--;
    const total = dest.activeConns + dest.inactConns;
    if (dest.lThreshold !== 0) {
      if (total < dest.lThreshold) dest.flags &= ~DEST_F.OVERLOAD;
    } else if (dest.uThreshold !== 0) {
      if (total * 4 < dest.uThreshold * 3) dest.flags &= ~DEST_F.OVERLOAD;
    } else {
      dest.flags &= ~DEST_F.OVERLOAD;
    }
    dest.refs--;
    t.setDestId(i, -1);
  }

  /** ip_vs_conn_put: re-arm the timer to now + timeout; a ONE_PACKET entry expires at once. */
  protected connPut(cp: number): void {
    const t = this.table;
    if (t.flagsOf(cp) & CONN_F.ONE_PACKET) {
      this.expireEntry(cp, this.now);
      return;
    }
    t.arm(cp, this.now + t.timeoutOf(cp));
  }

  protected expireEntry(i: number, firedAt: number): void {
    const t = this.table;
    if (t.nControlOf(i) > 0) {
      // Still controls others: expire later, in 60-second steps, and the timeout stays 60 s.
      t.setTimeout(i, CONN_DEFER_TIMEOUT);
      if (this.syncState & SYNC_STATE.MASTER) this.callSyncHook(i, this.tunables.v.sync_threshold!);
      t.arm(i, firedAt + CONN_DEFER_TIMEOUT);
      if (this.dbg(DBG.CONN)) this.log.put(this.now, DBG.CONN, `delayed: conn ${this.labelOf(i)} controls ${t.nControlOf(i)}`);
      return;
    }
    const ctl = t.controlOf(i);
    if (ctl >= 0) {
      const hasRef = t.timeoutOf(i) === 0;
      t.setControl(i, -1);
      if (hasRef && t.nControlOf(ctl) === 0 &&
          (!(t.flagsOf(ctl) & CONN_F.TEMPLATE) || !(t.stateOf(ctl) & CTPL_S.ASSURED))) {
        if (this.dbg(DBG.DROP_ENTRY)) this.log.put(this.now, DBG.DROP_ENTRY, 'drop controlling connection');
        this.connDel(ctl);
      }
    }
    if (this.dbg(DBG.CONN)) this.log.put(this.now, DBG.CONN, `expire conn ${this.labelOf(i)}`);
    this.unbindDest(i);
    if (!(t.flagsOf(i) & CONN_F.TEMPLATE)) this.counters.connsExpired++;
    this.tally[this.tallyIndex(i)]!--;
    t.free(i);
  }

  /** ip_vs_conn_del on an entry by id (nothing if it is gone). */
  delEntry(id: ConnId): void {
    const i = this.table.slotOf(id);
    if (i >= 0) this.connDel(i);
  }

  /** ip_vs_conn_del: cancel a pending timer and expire now, dropping the chain's idle controller. */
  protected connDel(i: number): void {
    const t = this.table;
    if (!t.isLive(i) || !t.disarm(i)) return;
    if (t.controlOf(i) >= 0) t.setTimeout(i, 0);
    this.expireEntry(i, this.now);
  }

  /** ip_vs_conn_expire_now: the pending timer fires at once. */
  protected expireNow(i: number): void {
    const t = this.table;
    if (t.disarm(i)) this.expireEntry(i, this.now);
  }

  protected expireUntil(t: number): void {
    this.now = t;
    const due = this.due;
    due.length = 0;
    this.table.collectDue(t, due);
    for (const i of due) {
      // A due entry may have been freed or re-armed by an earlier one's expiry in this batch.
      if (!this.table.isLive(i) || this.table.timerPending(i)) continue;
      this.expireEntry(i, this.table.expiresOf(i));
    }
  }

  /** ip_vs_random_dropentry: visit (table size >> 5) random kernel buckets. */
  randomDropEntry(): void {
    const t = this.table;
    const mask = t.kernelBuckets - 1;
    const rounds = t.kernelBuckets >> 5;
    for (let r = 0; r < rounds; r++) {
      const bucket = this.rng.u32() & mask;
      t.forEachInKernelBucket(bucket, (i) => {
        if (!t.isLive(i) || t.nControlOf(i) > 0) return;
        const cause = this.dropEntryCause(i);
        if (cause === null) return;
        if (this.dbg(DBG.DROP_ENTRY)) this.log.put(this.now, DBG.DROP_ENTRY, `drop connection ${this.labelOf(i)} (${cause})`);
        this.counters.dropEntry.set(cause, (this.counters.dropEntry.get(cause) ?? 0) + 1);
        this.connDel(i);
      });
    }
  }

  /** The eligibility rules of ip_vs_random_dropentry; returns the cause or null to keep. */
  protected dropEntryCause(i: number): string | null {
    const t = this.table;
    const fl = t.flagsOf(i);
    if (fl & CONN_F.TEMPLATE) {
      const dest = this.destOfSlot(i);
      if (dest && dest.svc.flags & SVC_F.ONEPACKET) return this.todropEntry(i) ? 'template' : null;
      return t.stateOf(i) & CTPL_S.ASSURED ? null : 'template';
    }
    const proto = t.protoOf(i), st = t.stateOf(i);
    if (proto === IPPROTO_TCP) {
      if (st === TCP_STATE.SYN_RECV || st === TCP_STATE.SYNACK) return TCP_STATE_NAMES[st]!;
      if (st === TCP_STATE.ESTABLISHED) return this.todropEntry(i) ? 'ESTABLISHED' : null;
      return null;
    }
    if (proto === IPPROTO_SCTP) {
      if (st === SCTP_STATE.INIT1 || st === SCTP_STATE.INIT) return SCTP_STATE_NAMES[st]!;
      if (st === SCTP_STATE.ESTABLISHED) return this.todropEntry(i) ? 'ESTABLISHED' : null;
      return null;
    }
    return this.todropEntry(i) ? PROTO_NAME[proto] ?? 'other' : null;
  }

  /** todrop_entry: idle >= 60 s since the timer was last armed, then the per-count rate gate. */
  protected todropEntry(i: number): boolean {
    const t = this.table;
    if (t.timeoutOf(i) + this.now < t.expiresOf(i) + 60 * SECOND) return false;
    return this.defense.todropEntry(t.inPktsOf(i));
  }

  /** ip_vs_expire_nodest_conn_flush: remove entries whose dest is gone (and their idle controllers). */
  protected nodestFlush(): void {
    const t = this.table;
    const victims: number[] = [];
    t.forEachHashed((i) => {
      const d = this.destOfSlot(i);
      if (!d || d.flags & DEST_F.AVAILABLE || t.nControlOf(i) > 0) return;
      victims.push(i);
    });
    for (const i of victims) {
      if (!t.isLive(i) || t.nControlOf(i) > 0) continue;
      const ctl = t.controlOf(i);
      if (this.dbg(DBG.DROP_ENTRY)) this.log.put(this.now, DBG.DROP_ENTRY, `del connection ${this.labelOf(i)} (destination gone)`);
      this.connDel(i);
      if (ctl >= 0 && t.isLive(ctl) && t.nControlOf(ctl) === 0) this.connDel(ctl);
    }
  }

  /** The destination an entry is bound to, by entry id (null: unbound or the entry is gone). */
  destOf(id: ConnId): Dest | null {
    const i = this.table.slotOf(id);
    return i >= 0 ? this.destOfSlot(i) : null;
  }

  /**
   * Register a sync hook (the master daemon's ip_vs_sync_conn). Returns the function that removes
   * it. Hooks run only while SYNC_STATE.MASTER is set.
   */
  onSyncConn(hook: SyncHook): () => void {
    this.syncHooks = [...this.syncHooks, hook];
    return () => { this.syncHooks = this.syncHooks.filter((h) => h !== hook); };
  }

  /**
   * ip_vs_conn_new for an entry received from a master: the real server address and port come from
   * the message (the dest may be null: the entry then stays unbound), `flags` already carry SYNC.
   * Returns the new entry; state 0, timeout 3 s, timer armed, as any new entry.
   */
  syncConnNew(c: {
    af: Af; proto: number; caddr: Addr; cport: number; vaddr: Addr; vport: number; daddr: Addr; dport: number;
    flags: number; fwmark: number; fwmarkTemplate: boolean;
  }, dest: Dest | null): number {
    return this.createConn(c.af, c.af, c.proto, c.caddr, c.cport, c.vaddr, c.vport, c.daddr, c.dport, c.flags, c.fwmark,
      c.fwmarkTemplate, dest, 'BACKUP, ');
  }

  /** ip_vs_try_bind_dest's binding step: bind an unbound entry (counters, flags from the dest). */
  syncBindDest(i: number, dest: Dest): void {
    if (this.table.destIdOf(i) >= 0) return;
    this.bindDest(i, dest);
  }

  /** Set an entry's state as a sync update does (keeps the per-state tally right). */
  syncSetState(i: number, state: number): void {
    const t = this.table;
    this.tally[this.tallyIndex(i)]!--;
    t.setState(i, state);
    this.tally[this.tallyIndex(i)]!++;
  }

  /** ip_vs_conn_expire_now on an entry a sync message replaces. */
  syncExpireNow(i: number): void {
    this.expireNow(i);
  }

  /** ip_vs_conn_put at the end of ip_vs_proc_conn: re-arm to now + timeout (ONE_PACKET: expire). */
  syncPut(i: number): void {
    this.connPut(i);
  }
}
