// What a sync daemon did, for status lines, the UI and tests. One object per running role.

export interface SyncDaemonStats {
  role: 'master' | 'backup';
  syncId: number;
  /** Sync threads / UDP ports (clamp(sync_ports, 1, 64) when the first role started). */
  threads: number;
  /** Message size limit in use (UDP payload bytes). */
  syncMaxLen: number;
  /** Datagrams: sent (master) or received (backup); rejected by reason (see docs/sync.md). */
  messages: {sent: number; received: number; rejected: Record<string, number>};
  /** Entries: sent in messages (master) or examined (backup); rejected by reason. */
  entries: {sent: number; received: number; rejected: Record<string, number>};
  bytes: {sent: number; received: number};
  /**
   * Master: finished messages waiting per thread (sb_queue_tail's queue) against sync_qlen_max,
   * entries waiting in the current (unfinished) buffers, and messages discarded on a full queue.
   */
  queue: {length: number; max: number; perThread: number[]; pendingEntries: number; dropped: number};
  /** Backup: what ip_vs_proc_conn did with the accepted entries. */
  applied: {created: number; updated: number; replaced: number; stale: number};
  /** Engine (virtual) time of the last message sent or received, and the wall clock (ms epoch). */
  lastMessageAt: number | null;
  lastMessageWall: number | null;
  /** Backup: sender of the last datagram ("addr:port"). */
  lastFrom: string | null;
  /** Last transport error (socket bind/send), if any. */
  lastError: string | null;
}

export function newStats(role: 'master' | 'backup', syncId: number, threads: number, syncMaxLen: number): SyncDaemonStats {
  return {
    role, syncId, threads, syncMaxLen,
    messages: {sent: 0, received: 0, rejected: {}},
    entries: {sent: 0, received: 0, rejected: {}},
    bytes: {sent: 0, received: 0},
    queue: {length: 0, max: 0, perThread: new Array<number>(threads).fill(0), pendingEntries: 0, dropped: 0},
    applied: {created: 0, updated: 0, replaced: 0, stale: 0},
    lastMessageAt: null,
    lastMessageWall: null,
    lastFrom: null,
    lastError: null,
  };
}

export function bump(rec: Record<string, number>, reason: string, n = 1): void {
  if (n) rec[reason] = (rec[reason] ?? 0) + n;
}

/** A deep copy safe to hand to a UI store or to JSON. */
export function cloneStats(s: SyncDaemonStats): SyncDaemonStats {
  return {
    ...s,
    messages: {...s.messages, rejected: {...s.messages.rejected}},
    entries: {...s.entries, rejected: {...s.entries.rejected}},
    bytes: {...s.bytes},
    queue: {...s.queue, perThread: [...s.queue.perThread]},
    applied: {...s.applied},
  };
}
