// Master-vs-backup comparison: which entries one side has and the other lacks, which differ in
// state or real server, and how far the backup's timers lag behind the master's. Works on two
// engines in one process, or on connection lists (e.g. the JSON of `lvsdeck sync ... --control`).
import {formatAddrPort} from '../engine/addr.js';
import {IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP} from '../engine/constants.js';
import type {Engine} from '../engine/engine.js';
import {SCTP_STATE} from '../engine/proto/sctp.js';
import {TCP_STATE} from '../engine/proto/tcp.js';

/** A connection entry reduced to what sync carries, JSON-friendly. */
export interface SyncConnView {
  /** Identity: kind, protocol, client and virtual side (the lookup key of the backup). */
  key: string;
  template: boolean;
  proto: number;
  client: string;
  virtual: string;
  /** Real server "addr:port". */
  server: string;
  state: number;
  stateName: string;
  flags: number;
  inPkts: number;
  /** ms left on the timer, and the timeout it was armed with. */
  expiresIn: number;
  timeout: number;
}

export function connViews(e: Engine): SyncConnView[] {
  const out: SyncConnView[] = [];
  e.conns.forEach((c) => {
    const client = formatAddrPort(c.caddr, c.cport);
    const virtual = c.fwmarkTemplate ? `FWM ${c.vaddr}:${c.vport}` : formatAddrPort(c.vaddr, c.vport);
    out.push({
      key: `${c.template ? 'T' : 'C'} ${c.proto} ${client} ${virtual}`,
      template: c.template,
      proto: c.proto,
      client,
      virtual,
      server: formatAddrPort(c.daddr, c.dport),
      state: c.state,
      stateName: e.stateName(c.id),
      flags: c.flags,
      inPkts: c.inPkts,
      expiresIn: Math.max(0, c.expires - e.now),
      timeout: c.timeout,
    });
  }, 'hashed');
  return out;
}

const TCP_SYNCED = new Set<number>([TCP_STATE.ESTABLISHED, TCP_STATE.FIN_WAIT, TCP_STATE.CLOSE, TCP_STATE.CLOSE_WAIT, TCP_STATE.TIME_WAIT]);
const SCTP_SYNCED = new Set<number>([SCTP_STATE.ESTABLISHED, SCTP_STATE.SHUTDOWN_SENT, SCTP_STATE.SHUTDOWN_RECEIVED,
  SCTP_STATE.SHUTDOWN_ACK_SENT, SCTP_STATE.CLOSED]);

/**
 * Whether a master entry should be known to a backup that has been listening all along (with
 * sync_persist_mode 0): templates always (they go out with their first controlled packet), TCP/SCTP
 * in a syncable state that either left ESTABLISHED or reached sync_threshold packets, UDP once it
 * reached sync_threshold packets. A heuristic on the master's current view: the decision itself
 * is in src/engine/sync-decision.ts.
 */
export function expectedOnBackup(v: SyncConnView, syncThreshold = 3): boolean {
  if (v.template) return true;
  if (v.proto === IPPROTO_TCP) {
    if (!TCP_SYNCED.has(v.state)) return false;
    return v.state !== TCP_STATE.ESTABLISHED || v.inPkts >= syncThreshold;
  }
  if (v.proto === IPPROTO_SCTP) {
    if (!SCTP_SYNCED.has(v.state)) return false;
    return v.state !== SCTP_STATE.ESTABLISHED || v.inPkts >= syncThreshold;
  }
  if (v.proto === IPPROTO_UDP) return v.inPkts >= syncThreshold;
  return v.proto !== IPPROTO_IP;
}

export interface SyncMismatch {
  key: string;
  master: string;
  backup: string;
}

export interface SyncComparison {
  master: number;
  backup: number;
  /** Entries with the same key on both sides. */
  matched: number;
  /** Entries only the master has; `expected` of them should be on the backup by now. */
  onlyMaster: SyncConnView[];
  expectedMissing: SyncConnView[];
  /** Entries only the backup has (the master expired them; the backup keeps them until its own timeout). */
  onlyBackup: SyncConnView[];
  stateMismatch: SyncMismatch[];
  serverMismatch: SyncMismatch[];
  /**
   * Timer lag of matched entries with the same timeout: how much earlier the backup's copy
   * expires than the master's (master.expiresIn - backup.expiresIn, floored at 0), in ms.
   */
  lag: {maxMs: number; meanMs: number; samples: number};
  /** No expected entry missing and no state or server mismatch. */
  inSync: boolean;
}

function views(x: Engine | readonly SyncConnView[]): readonly SyncConnView[] {
  return Array.isArray(x) ? x : connViews(x as Engine);
}

export function compareSync(master: Engine | readonly SyncConnView[], backup: Engine | readonly SyncConnView[],
  opts: {syncThreshold?: number} = {}): SyncComparison {
  const m = views(master), b = views(backup);
  const threshold = opts.syncThreshold ?? (Array.isArray(master) ? 3 : (master as Engine).tunables.v.sync_threshold ?? 3);
  const bByKey = new Map<string, SyncConnView>();
  for (const v of b) if (!bByKey.has(v.key)) bByKey.set(v.key, v);
  const seen = new Set<string>();
  const res: SyncComparison = {
    master: m.length, backup: b.length, matched: 0, onlyMaster: [], expectedMissing: [], onlyBackup: [],
    stateMismatch: [], serverMismatch: [], lag: {maxMs: 0, meanMs: 0, samples: 0}, inSync: true,
  };
  let lagSum = 0;
  for (const mv of m) {
    const bv = bByKey.get(mv.key);
    if (!bv) {
      res.onlyMaster.push(mv);
      if (expectedOnBackup(mv, threshold)) res.expectedMissing.push(mv);
      continue;
    }
    seen.add(mv.key);
    res.matched++;
    if (mv.stateName !== bv.stateName) res.stateMismatch.push({key: mv.key, master: mv.stateName, backup: bv.stateName});
    if (mv.server !== bv.server) res.serverMismatch.push({key: mv.key, master: mv.server, backup: bv.server});
    if (mv.timeout === bv.timeout) {
      const lag = Math.max(0, mv.expiresIn - bv.expiresIn);
      lagSum += lag;
      res.lag.samples++;
      res.lag.maxMs = Math.max(res.lag.maxMs, lag);
    }
  }
  for (const bv of b) if (!seen.has(bv.key)) res.onlyBackup.push(bv);
  res.lag.meanMs = res.lag.samples ? Math.round(lagSum / res.lag.samples) : 0;
  res.inSync = res.expectedMissing.length === 0 && res.stateMismatch.length === 0 && res.serverMismatch.length === 0;
  return res;
}

/** One line for a status display. */
export function formatComparison(c: SyncComparison): string {
  return `master ${c.master} backup ${c.backup} matched ${c.matched} only-master ${c.onlyMaster.length}` +
    ` (expected ${c.expectedMissing.length}) only-backup ${c.onlyBackup.length} state-mismatch ${c.stateMismatch.length}` +
    ` server-mismatch ${c.serverMismatch.length} lag max ${(c.lag.maxMs / 1000).toFixed(1)}s mean ${(c.lag.meanMs / 1000).toFixed(1)}s` +
    (c.inSync ? ' IN SYNC' : '');
}

