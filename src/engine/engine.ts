// The engine facade: one object over the shared state of netns.ts with every part stacked on it
// (conn.ts, ctl.ts, xmit.ts, core.ts, view.ts, one per kernel file), plus tick(), which runs every
// timer on virtual time in order. Pure and deterministic: time and randomness come from the caller.
import {formatAddr} from './addr.js';
import {DEFENSE_PERIOD, ESTIMATOR_PERIOD} from './constants.js';
import type {ConnId} from './conn-view.js';
import {type SyncApplyResult, applySyncConn} from './sync-apply.js';
import {buildSyncConn, type SyncConn} from './sync-conn.js';
import {syncConnEntries} from './sync-decision.js';
import {IpvsView} from './view.js';

export {
  PROTO_NAME, PROTO_NUM, SYNC_STATE, type ConnId, type ConnInfo, type ConnQuery, type ConnSortKey, type ConnView,
  type DestSnapshot, type EngineOptions, type EngineSnapshot, type HostMemory, type ServiceSnapshot, type SyncDaemonConfig,
  type SyncHook,
} from './netns.js';
export {describeKey} from './ctl.js';

export class Engine extends IpvsView {
  /** Advance virtual time to `to` (ms), running every timer due on the way in time order. */
  tick(to: number): void {
    if (to < this.now) return;
    for (;;) {
      const next = Math.min(this.nextDefense, this.nextEstimate, this.nextTrash, this.nodestFlushAt);
      if (next > to) break;
      this.expireUntil(next);
      if (this.nodestFlushAt === next) { this.nodestFlushAt = Infinity; this.nodestFlush(); }
      if (this.nextDefense === next) {
        this.nextDefense += DEFENSE_PERIOD;
        this.defenseTimer();
        this.schedulerTicks();
      }
      if (this.nextEstimate === next) {
        this.nextEstimate += ESTIMATOR_PERIOD;
        if (this.estimationRunning) this.estimate();
      }
      if (this.nextTrash === next) this.trashTimer();
    }
    this.expireUntil(to);
  }

  /**
   * The entries ip_vs_sync_conn appends for a hook call on `conn` (the entry, then its controllers
   * as the decision allows), as ids; runs the decision, updating sync_endtime and old_state.
   */
  syncEntries(conn: ConnId, pkts: number, version: number): ConnId[] {
    const i = this.table.slotOf(conn);
    if (i < 0) return [];
    const slots = syncConnEntries(this, i, pkts, version, this.syncScratch);
    return slots.map((s) => this.table.idOf(s));
  }

  /** An entry as the sync protocol carries it, or null when it is gone. */
  syncConnOf(conn: ConnId): SyncConn | null {
    const i = this.table.slotOf(conn);
    return i >= 0 ? buildSyncConn(this, i) : null;
  }

  /** ip_vs_proc_conn: apply one received entry (backup side); the result's `conn` is an id. */
  applySync(c: SyncConn, flags: number, timeoutS: number): SyncApplyResult {
    const r = applySyncConn(this, c, flags, timeoutS);
    return r.conn >= 0 ? {...r, conn: this.table.idOf(r.conn)} : r;
  }
}

export {formatAddr};
