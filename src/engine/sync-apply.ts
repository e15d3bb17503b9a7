// Applying one received sync entry on a backup (ip_vs_sync.c, ip_vs_proc_conn): look the entry up,
// replace or ignore on a server change, update flags (BACKUP_UPD_MASK) and counters of an existing
// entry or create a new one bound through the backup's own configuration, then state, in_pkts,
// timeout and the timer. Controller links are not recreated. Pure engine-side logic.
import {type Addr, type Af, ipv6Words} from './addr.js';
import {CONN_F, HZ, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SECOND} from './constants.js';
import type {Engine} from './engine.js';
import type {SyncConn} from './sync-conn.js';
import type {Dest} from './types.js';

/** Template timeout when the message carries none (version 0): 3*60*HZ. */
export const SYNC_TEMPLATE_TIMEOUT = 180 * SECOND;
/**
 * Largest timeout the engine can hold (its timeout field is a uint32 of ms). The kernel caps at
 * MAX_SCHEDULE_TIMEOUT/HZ seconds, which no 32-bit seconds value reaches; we cap at ~49.7 days.
 */
export const SYNC_MAX_TIMEOUT_S = Math.floor(0xffffffff / HZ);

export type SyncApplyOutcome =
  /** a new entry was created */
  | 'created'
  /** an existing entry was updated */
  | 'updated'
  /** an existing entry with another real server was expired and a new one created */
  | 'replaced'
  /** an INACTIVE entry for a tuple now bound elsewhere: the expiry notice of a replaced entry, ignored */
  | 'stale';

export interface SyncApplyResult {
  outcome: SyncApplyOutcome;
  /** The entry, or -1 for 'stale' (and for ONE_PACKET entries, which expire at once). */
  conn: number;
}

/** The mark a fwmark template carries in vaddr (the first 32 bits of the address field). */
export function markOfVaddr(vaddr: Addr): number {
  return typeof vaddr === 'number' ? vaddr >>> 0 : ipv6Words(vaddr)[0];
}

function sameAddr(a: Addr, b: Addr): boolean {
  return a === b;
}

/**
 * ip_vs_find_dest: the service by fwmark or (protocol, vaddr, vport) with the usual fallbacks, then
 * the dest by (daddr, dport); for fwmark services with non-NAT forwarding the port is first 0.
 */
export function syncFindDest(e: Engine, af: Af, daddr: Addr, dport: number, vaddr: Addr, vport: number,
  proto: number, fwmark: number, flags: number): Dest | null {
  const svc = e.serviceFind(af, fwmark, proto, vaddr, vport);
  if (!svc) return null;
  let port = dport;
  if (fwmark && (flags & CONN_F.FWD_MASK) !== CONN_F.MASQ) port = 0;
  const match = (p: number) => svc.dests.find((d) => d.af === af && d.addr === daddr && d.port === p);
  return match(port) ?? match(port ^ dport) ?? null;
}

/** ip_vs_ct_in_get for a template: (af, proto, caddr, cport, vaddr or mark, vport), TEMPLATE set. */
function templateLookup(e: Engine, c: SyncConn, fwm: boolean, vaddr: Addr): number {
  const t = e.table;
  if (c.cport === 0) return t.templateLookup(c.af, c.proto, c.caddr, vaddr, c.vport, fwm);
  // Templates with a client port are never made by a director; a hostile or odd master can send
  // them. The table has no keyed lookup for those, so walk it (rare by construction).
  let found = -1;
  t.forEachHashed((i) => {
    if (found >= 0 || !(t.flagsOf(i) & CONN_F.TEMPLATE)) return;
    if (t.protoOf(i) !== c.proto || t.clientPortOf(i) !== c.cport || t.virtualPortOf(i) !== c.vport) return;
    if (t.af(i) !== c.af || t.isFwmarkTemplate(i) !== fwm) return;
    if (!sameAddr(t.clientAddr(i), c.caddr) || !sameAddr(t.virtualAddr(i), vaddr)) return;
    found = i;
  });
  return found;
}

/** pd->timeout_table[state] of the engine's (per-netns, --set adjusted) protocol tables. */
function protocolTimeout(e: Engine, proto: number, state: number): number | undefined {
  switch (proto) {
    case IPPROTO_TCP: return e.timeouts.tcp[state];
    case IPPROTO_UDP: return e.timeouts.udp[state];
    case IPPROTO_SCTP: return e.timeouts.sctp[state];
    default: return undefined;
  }
}

/**
 * ip_vs_proc_conn. `flags` are the effective flags (v1: received & BACKUP_MASK | SYNC; v0:
 * received | SYNC without HASHED); `timeoutS` is the received timeout in seconds (0 for v0).
 * The caller has validated protocol and state (ip_vs_proc_sync_conn / ip_vs_process_message_v0).
 * Sequence and persistence-engine data are not kept: the engine has no application helpers.
 */
export function applySyncConn(e: Engine, c: SyncConn, flags: number, timeoutS: number): SyncApplyResult {
  const t = e.table;
  const tpl = (flags & CONN_F.TEMPLATE) !== 0;
  // protocol IPPROTO_IP only for templates of fwmark services: vaddr is then the mark
  const fwm = tpl && c.proto === IPPROTO_IP;
  const vaddr: Addr = fwm ? markOfVaddr(c.vaddr) : c.vaddr;
  let cp: number;
  let outcome: SyncApplyOutcome = 'updated';

  if (!tpl) {
    cp = t.inLookup(c.af, c.proto, c.caddr, c.cport, vaddr, c.vport);
    if (cp >= 0 && (t.destPortOf(cp) !== c.dport || t.daf(cp) !== c.af || !sameAddr(t.destAddr(cp), c.daddr))) {
      if (!(flags & CONN_F.INACTIVE)) {
        e.syncExpireNow(cp);
        cp = -1;
        outcome = 'replaced';
      } else {
        return {outcome: 'stale', conn: -1};
      }
    }
  } else {
    cp = templateLookup(e, c, fwm, vaddr);
  }

  if (cp >= 0) {
    const dest = e.destOfSlot(cp);
    if ((t.flagsOf(cp) ^ flags) & CONN_F.INACTIVE && !tpl && dest) {
      if (flags & CONN_F.INACTIVE) {
        dest.activeConns--;
        dest.inactConns++;
      } else {
        dest.activeConns++;
        dest.inactConns--;
      }
    }
    t.setFlags(cp, ((flags & CONN_F.BACKUP_UPD_MASK) | (t.flagsOf(cp) & ~CONN_F.BACKUP_UPD_MASK)) >>> 0);
    if (!dest) {
      // ip_vs_try_bind_dest: with the entry's own fields
      const d = syncFindDest(e, t.af(cp), t.destAddr(cp), t.destPortOf(cp), t.virtualAddr(cp), t.virtualPortOf(cp),
        t.protoOf(cp), t.fwmarkOf(cp), t.flagsOf(cp));
      if (d) e.syncBindDest(cp, d);
    }
  } else {
    const dest = syncFindDest(e, c.af, c.daddr, c.dport, vaddr, c.vport, c.proto, c.fwmark, flags);
    cp = e.syncConnNew({
      af: c.af, proto: c.proto, caddr: c.caddr, cport: c.cport, vaddr, vport: c.vport, daddr: c.daddr,
      dport: c.dport, flags, fwmark: c.fwmark, fwmarkTemplate: fwm,
    }, dest);
    if (outcome !== 'replaced') outcome = 'created';
  }

  t.setInPkts(cp, e.tunables.v.sync_threshold ?? 0);
  e.syncSetState(cp, c.state);
  t.setOldState(cp, t.stateOf(cp));
  let timeout: number;
  if (timeoutS) {
    timeout = Math.min(timeoutS, SYNC_MAX_TIMEOUT_S) * HZ;
  } else {
    const pt = tpl ? undefined : protocolTimeout(e, c.proto, c.state);
    timeout = pt ?? SYNC_TEMPLATE_TIMEOUT;
  }
  t.setTimeout(cp, timeout);
  const onePacket = (t.flagsOf(cp) & CONN_F.ONE_PACKET) !== 0;
  e.syncPut(cp);
  return {outcome, conn: onePacket ? -1 : cp};
}
