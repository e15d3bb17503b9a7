// When a connection is synced (ip_vs_sync.c): ip_vs_sync_conn_needed, and the walk of
// ip_vs_sync_conn / ip_vs_sync_conn_v0 that decides which entries (the connection, then its
// controllers) are appended to the master's buffer, in order. Pure engine-side logic: it reads and
// updates the entry fields the kernel updates (old_state, sync_endtime, the controller's in_pkts).
import {CONN_F, IPPROTO_SCTP, IPPROTO_TCP} from './constants.js';
import type {Engine} from './engine.js';
import {SCTP_STATE} from './proto/sctp.js';
import {TCP_STATE} from './proto/tcp.js';

/** TCP states in which an entry may be synced (ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT, TIME_WAIT). */
const TCP_SYNC_STATES = (1 << TCP_STATE.ESTABLISHED) | (1 << TCP_STATE.FIN_WAIT) | (1 << TCP_STATE.CLOSE) |
  (1 << TCP_STATE.CLOSE_WAIT) | (1 << TCP_STATE.TIME_WAIT);
const SCTP_SYNC_STATES = (1 << SCTP_STATE.ESTABLISHED) | (1 << SCTP_STATE.SHUTDOWN_SENT) |
  (1 << SCTP_STATE.SHUTDOWN_RECEIVED) | (1 << SCTP_STATE.SHUTDOWN_ACK_SENT) | (1 << SCTP_STATE.CLOSED);

/** 10 s floor of the refresh window (10UL * HZ). */
const MIN_REFRESH_DIFF = 10_000;
/** Longest control chain followed (real chains are 1-2 deep; a guard against a corrupted table). */
const MAX_CHAIN = 16;

/** in_persistence: controlled, at any depth, by a persistence template. */
function inPersistence(e: Engine, i: number): boolean {
  const t = e.table;
  let c = t.controlOf(i);
  for (let n = 0; c >= 0 && n < MAX_CHAIN; n++, c = t.controlOf(c)) {
    if (t.flagsOf(c) & CONN_F.TEMPLATE) return true;
  }
  return false;
}

/** Round down to a multiple of 4 jiffies (ms): `x & ~3UL` for non-negative x. */
function floor4(x: number): number {
  return x - (x % 4);
}

/**
 * ip_vs_sync_conn_needed: whether entry `i` goes out now, given `pkts` (its in_pkts after the
 * increment, or sync_threshold from the deferred-expiry path and for FTP controllers).
 * Updates old_state and sync_endtime exactly where the kernel does.
 */
export function syncConnNeeded(e: Engine, i: number, pkts: number): boolean {
  const t = e.table;
  const v = e.tunables.v;
  const now = e.now;
  const orig = t.syncEndOf(i);
  const timeout = t.timeoutOf(i);
  let n = floor4(now + timeout);
  const flags = t.flagsOf(i);
  const state = t.stateOf(i);
  let force = false;

  set: {
    if (flags & CONN_F.TEMPLATE) {
      force = false;
    } else if (v.sync_persist_mode && inPersistence(e, i)) {
      return false;
    } else if (t.protoOf(i) === IPPROTO_TCP) {
      if (!((1 << state) & TCP_SYNC_STATES)) return false;
      force = state !== t.oldStateOf(i);
      if (force && state !== TCP_STATE.ESTABLISHED) break set;
    } else if (t.protoOf(i) === IPPROTO_SCTP) {
      if (!((1 << state) & SCTP_SYNC_STATES)) return false;
      force = state !== t.oldStateOf(i);
      if (force && state !== SCTP_STATE.ESTABLISHED) break set;
    } else {
      force = false;
    }

    // unsigned int in the kernel: a negative sysctl value reads as a huge period.
    const refresh = (v.sync_refresh_period ?? 0) >>> 0;
    if (refresh > 0) {
      const diff = n - orig;
      const minDiff = Math.max(Math.floor(timeout / 2), MIN_REFRESH_DIFF);
      if (Math.abs(diff) < Math.min(refresh, minDiff)) {
        const retries = orig % 4;
        if (retries >= (v.sync_retries ?? 0)) return false;
        if (now < orig - timeout + Math.floor(refresh / 8)) return false;
        n += retries + 1; // n |= retries + 1 (n is a multiple of 4)
      }
    }
    const period = v.sync_period ?? 0;
    const threshold = v.sync_threshold ?? 0;
    if (period > 0) {
      if (!(flags & CONN_F.TEMPLATE) && pkts % period !== threshold) return false;
    } else if (!refresh && pkts !== threshold) {
      return false;
    }
  }
  // SET: single writer, so the compare-and-swap always succeeds and the answer is always yes.
  t.setOldState(i, state);
  t.setSyncEnd(i, n);
  return true;
}

/**
 * The entries ip_vs_sync_conn (version 1) or ip_vs_sync_conn_v0 (version 0) append for one call
 * from the packet path, in append order. Runs the decision for the entry and walks up its control
 * chain as the kernel does (incrementing a template controller's in_pkts on the way).
 *
 * v1: ONE_PACKET entries are not sent but their controllers are considered; controllers are always
 *     considered, whether or not the entry was sent.
 * v0: IPv6 and ONE_PACKET entries end the walk; a controller is considered only if the entry
 *     itself was appended.
 * `out` (cleared first) lets a caller on the packet path reuse one array.
 */
export function syncConnEntries(e: Engine, i: number, pkts: number, version: number, out: number[] = []): number[] {
  const t = e.table;
  out.length = 0;
  const threshold = e.tunables.v.sync_threshold ?? 0;
  let cp = i;
  let p = pkts;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (version === 0) {
      if (t.af(cp) !== 4 || t.flagsOf(cp) & CONN_F.ONE_PACKET) break;
      if (!syncConnNeeded(e, cp, p)) break;
      out.push(cp);
    } else if (depth > 0 || !(t.flagsOf(cp) & CONN_F.ONE_PACKET)) {
      if (syncConnNeeded(e, cp, p)) out.push(cp);
    }
    const ctl = t.controlOf(cp);
    if (ctl < 0 || !t.isLive(ctl)) break;
    p = t.flagsOf(ctl) & CONN_F.TEMPLATE ? t.countInPkt(ctl) : threshold;
    cp = ctl;
  }
  return out;
}
