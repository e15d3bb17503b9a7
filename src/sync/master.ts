// The master side of connection sync on the engine's virtual time (ip_vs_sync.c: ip_vs_sync_conn, sb_queue_tail, sync_thread_master): the engine's
// sync hook runs the kernel's decision and chaining (src/engine/sync-decision.ts); each chosen entry
// is appended to its thread's current buffer exactly as ip_vs_sync_conn / ip_vs_sync_conn_v0 write
// it (byte-level, so version switches, padding and nr_conns wrap-around behave as in the kernel);
// finished buffers queue up to sync_qlen_max; each master "thread" sends on the kernel's schedule
// (20 ms after the queue becomes non-empty, at once after 8 buffers, the current buffer once it is
// 2 s old, otherwise a check every second). Pure: finished messages go to a callback.
import {DBG} from '../engine/debug-log.js';
import {type ConnId, type Engine, SYNC_STATE, type SyncDaemonConfig} from '../engine/engine.js';
import {V0_HEADER, V1_HEADER, SYNC_PROTO_VER, v0EntryLength, v1EntryLength, writeV0Entry, writeV1Entry} from './codec.js';
import {bump, newStats, type SyncDaemonStats} from './stats.js';

/** IPVS_SYNC_SEND_DELAY (HZ/50), IPVS_SYNC_WAKEUP_RATE, IPVS_SYNC_FLUSH_TIME, IPVS_SYNC_CHECK_PERIOD. */
export const SYNC_SEND_DELAY = 20;
export const SYNC_WAKEUP_RATE = 8;
export const SYNC_FLUSH_TIME = 2000;
export const SYNC_CHECK_PERIOD = 1000;
/** IPv4+UDP / IPv6+UDP header overhead of a sync datagram. */
export const SYNC_HLEN4 = 28;
export const SYNC_HLEN6 = 48;

export function isIPv6Group(group: string): boolean {
  return group.includes(':');
}

/** Master sync_maxlen: 1500 - hlen unless configured, then clamped to [1, 65535 - hlen]. */
export function masterSyncMaxLen(cfg: Pick<SyncDaemonConfig, 'syncMaxLen' | 'mcastGroup'>): number {
  const hlen = isIPv6Group(cfg.mcastGroup) ? SYNC_HLEN6 : SYNC_HLEN4;
  if (!cfg.syncMaxLen) return 1500 - hlen;
  return Math.min(Math.max(cfg.syncMaxLen, 1), 65535 - hlen);
}

/** Backup sync_maxlen: clamp(interface MTU, 1500, 65535) - hlen unless configured ([1024, 65535 - hlen]). */
export function backupSyncMaxLen(cfg: Pick<SyncDaemonConfig, 'syncMaxLen' | 'mcastGroup'>, ifMtu = 1500): number {
  const hlen = isIPv6Group(cfg.mcastGroup) ? SYNC_HLEN6 : SYNC_HLEN4;
  if (!cfg.syncMaxLen) return Math.min(Math.max(ifMtu, 1500), 65535) - hlen;
  return Math.min(Math.max(cfg.syncMaxLen, 1024), 65535 - hlen);
}

/** count = clamp(sync_ports, 1, 64). */
export function syncThreadCount(syncPorts: number): number {
  return Math.min(Math.max(Math.floor(syncPorts) || 1, 1), 64);
}

interface SyncBuff {
  bytes: Uint8Array;
  dv: DataView;
  head: number;
  firstuse: number;
  /** Entries appended (nr_conns on the wire is 8 bits and may have wrapped). */
  entries: number;
}

interface ThreadState {
  cur: SyncBuff | null;
  queue: SyncBuff[];
  /** sync_queue_delay */
  delay: number;
  /** master_wakeup_work pending: when it runs */
  wakeWorkAt: number;
  /** when the sleeping thread next looks at its queue */
  nextRun: number;
}

export interface SyncMasterOptions {
  /** Number of threads (ports); default from sync_ports. */
  threads?: number;
  /** A finished message for thread `thread` leaves now (at engine time `at`). */
  send: (thread: number, msg: Uint8Array, at: number) => void;
}

export class SyncMaster {
  readonly stats: SyncDaemonStats;
  readonly syncMaxLen: number;
  readonly threadCount: number;
  private readonly threads: ThreadState[];
  private running = true;
  private readonly hook = (conn: ConnId, pkts: number) => this.syncConn(conn, pkts);
  private unhook: (() => void) | null = null;

  constructor(readonly engine: Engine, readonly cfg: SyncDaemonConfig, private readonly opts: SyncMasterOptions) {
    this.threadCount = opts.threads ?? syncThreadCount(engine.tunables.v.sync_ports ?? 1);
    this.syncMaxLen = masterSyncMaxLen(cfg);
    this.stats = newStats('master', cfg.syncId & 0xff, this.threadCount, this.syncMaxLen);
    const now = engine.now;
    this.threads = Array.from({length: this.threadCount}, () => ({
      cur: null, queue: [], delay: 0, wakeWorkAt: Infinity, nextRun: now,
    }));
    this.updateQueueStats();
  }

  /** Install as the engine's sync hook (the engine calls it only while SYNC_STATE.MASTER is set). */
  attach(): this {
    this.unhook ??= this.engine.onSyncConn(this.hook);
    return this;
  }

  detach(): void {
    this.unhook?.();
    this.unhook = null;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Thread of an entry: any stable per-entry hash (the kernel uses the entry's address). */
  threadOf(conn: ConnId): number {
    return conn % this.threadCount;
  }

  /** ip_vs_sync_conn: called by the engine from the packet path and deferred expiry. */
  syncConn(conn: ConnId, pkts: number): void {
    if (!this.running) return;
    const e = this.engine;
    this.poll(e.now);
    const version = e.tunables.v.sync_version ?? 1;
    const list = e.syncEntries(conn, pkts, version);
    for (let k = 0; k < list.length; k++) this.append(list[k]!, version);
  }

  private createBuff(version: number, len: number): SyncBuff {
    const hdr = version === 0 ? V0_HEADER : V1_HEADER;
    const cap = Math.max(len + hdr, this.syncMaxLen);
    const bytes = new Uint8Array(cap);
    const dv = new DataView(bytes.buffer);
    const id = this.cfg.syncId & 0xff;
    if (version === 0) {
      bytes[0] = 0; // nr_conns
      bytes[1] = id;
      dv.setUint16(2, V0_HEADER);
    } else {
      bytes[0] = 0; // reserved: old nr_conns, must be zero
      bytes[1] = id;
      dv.setUint16(2, V1_HEADER);
      bytes[4] = 0;
      bytes[5] = SYNC_PROTO_VER;
      dv.setUint16(6, 0);
    }
    return {bytes, dv, head: hdr, firstuse: this.engine.now, entries: 0};
  }

  /** Append one entry to its thread's current buffer (queueing the buffer when it is full). */
  private append(cp: ConnId, version: number): void {
    const e = this.engine;
    const th = this.threads[this.threadOf(cp)]!;
    const c = e.syncConnOf(cp);
    if (!c) return;
    if (version === 0) {
      const len = v0EntryLength(c);
      let b = th.cur;
      // Send the buffer if it is full, or if it is a v1 buffer (its first byte reads nr_conns 0).
      if (b && (b.head + len > b.bytes.length || !b.bytes[0])) {
        this.queueTail(th, b);
        b = th.cur = null;
      }
      if (!b) b = th.cur = this.createBuff(0, len);
      writeV0Entry(b.bytes, b.head, c);
      b.bytes[0] = (b.bytes[0]! + 1) & 0xff;
      b.dv.setUint16(2, (b.dv.getUint16(2) + len) & 0xffff);
      b.head += len;
      b.entries++;
    } else {
      const len = v1EntryLength(c);
      let b = th.cur;
      let pad = 0;
      if (b) {
        pad = (4 - b.head) & 3;
        // Send the buffer if it is full, or if it is a v0 buffer (non-zero first byte).
        if (b.head + len + pad > b.bytes.length || b.bytes[0]) {
          this.queueTail(th, b);
          b = th.cur = null;
          pad = 0;
        }
      }
      if (!b) b = th.cur = this.createBuff(1, len);
      b.bytes.fill(0, b.head, b.head + pad);
      writeV1Entry(b.bytes, b.head + pad, c);
      b.dv.setUint16(2, (b.dv.getUint16(2) + pad + len) & 0xffff);
      b.bytes[4] = (b.bytes[4]! + 1) & 0xff;
      b.head += pad + len;
      b.entries++;
    }
    this.stats.queue.pendingEntries++;
    if (e.log.enabled(DBG.CONN)) {
      e.log.log(e.now, DBG.CONN, () => `SYNC, v${version} append ${e.connLabel(cp)} ${e.stateName(cp)}` +
        `${e.conns.view(cp)?.template ? ' (template)' : ''}`);
    }
  }

  /** sb_queue_tail. */
  private queueTail(th: ThreadState, b: SyncBuff): void {
    const e = this.engine;
    const max = e.tunables.v.sync_qlen_max ?? 0;
    this.stats.queue.pendingEntries -= b.entries;
    if (this.running && e.syncState & SYNC_STATE.MASTER && th.queue.length < max) {
      if (!th.queue.length && th.wakeWorkAt === Infinity) th.wakeWorkAt = e.now + Math.max(SYNC_SEND_DELAY, 1);
      th.queue.push(b);
      if (++th.delay === SYNC_WAKEUP_RATE) th.nextRun = Math.min(th.nextRun, e.now);
    } else {
      this.stats.queue.dropped++;
      bump(this.stats.messages.rejected, 'queue-full');
      bump(this.stats.entries.rejected, 'queue-full', b.entries);
      if (e.log.enabled(DBG.ERROR)) e.log.log(e.now, DBG.ERROR, () => `SYNC, queue full (${max}): message of ${b.entries} entries dropped`);
    }
    this.updateQueueStats();
  }

  private updateQueueStats(): void {
    const q = this.stats.queue;
    q.max = this.engine.tunables.v.sync_qlen_max ?? 0;
    let n = 0;
    this.threads.forEach((th, k) => {
      q.perThread[k] = th.queue.length;
      n += th.queue.length;
    });
    q.length = n;
  }

  /** Run every wake-up and thread pass due by `now` (engine ms), in time order per thread. */
  poll(now = this.engine.now): void {
    if (!this.running) return;
    this.threads.forEach((th, id) => {
      for (let guard = 0; guard < 100_000; guard++) {
        const t = Math.min(th.wakeWorkAt, th.nextRun);
        if (t > now) break;
        if (th.wakeWorkAt === t) {
          // master_wakeup_work_handler
          th.wakeWorkAt = Infinity;
          if (th.queue.length && th.delay < SYNC_WAKEUP_RATE) {
            th.delay = SYNC_WAKEUP_RATE;
            th.nextRun = Math.min(th.nextRun, t);
          }
          continue;
        }
        this.runThread(th, id, t, now);
      }
    });
    this.updateQueueStats();
  }

  /** One pass of sync_thread_master at time t: send the queue, then a current buffer >= 2 s old. */
  private runThread(th: ThreadState, id: number, t: number, now: number): void {
    for (;;) {
      let b = th.queue.shift() ?? null;
      if (b) {
        if (!th.queue.length) th.delay = 0;
      } else if (th.cur && t - th.cur.firstuse >= SYNC_FLUSH_TIME) {
        b = th.cur;
        th.cur = null;
        this.stats.queue.pendingEntries -= b.entries;
      }
      if (!b) break;
      this.transmit(id, b, t);
    }
    // schedule_timeout(IPVS_SYNC_CHECK_PERIOD); with nothing buffered, skip the idle passes.
    let next = t + SYNC_CHECK_PERIOD;
    if (!th.cur && !th.queue.length && next <= now) next += Math.ceil((now - next + 1) / SYNC_CHECK_PERIOD) * SYNC_CHECK_PERIOD;
    else if (th.cur && next <= now) {
      // passes before the buffer turns 2 s old do nothing: jump to the first one that may flush
      const flushAt = th.cur.firstuse + SYNC_FLUSH_TIME;
      if (flushAt > next) next += Math.floor(Math.min(flushAt - next, now - next) / SYNC_CHECK_PERIOD) * SYNC_CHECK_PERIOD;
    }
    th.nextRun = next;
  }

  private transmit(id: number, b: SyncBuff, t: number): void {
    const size = b.dv.getUint16(2);
    const msg = b.bytes.slice(0, size);
    this.stats.messages.sent++;
    this.stats.entries.sent += b.entries;
    this.stats.bytes.sent += size;
    this.stats.lastMessageAt = t;
    this.stats.lastMessageWall = Date.now();
    const e = this.engine;
    if (e.log.enabled(DBG.CONN)) e.log.log(e.now, DBG.CONN, () => `SYNC, thread ${id} sends ${b.entries} entries, ${size} bytes`);
    this.opts.send(id, msg, t);
  }

  /** A send failed (not "would block"): the kernel logs it and drops the buffer. */
  noteSendError(err: Error, entries = 0): void {
    this.stats.lastError = err.message;
    bump(this.stats.messages.rejected, 'send-error');
    bump(this.stats.entries.rejected, 'send-error', entries);
  }

  /** Earliest pending wake-up or thread pass (for drivers that sleep until then). */
  nextEventTime(): number {
    let t = Infinity;
    for (const th of this.threads) t = Math.min(t, th.wakeWorkAt, th.nextRun);
    return t;
  }

  /** stop_sync_thread: queued and current buffers are released unsent. */
  stop(): void {
    if (!this.running) return;
    let msgs = 0, entries = 0;
    for (const th of this.threads) {
      for (const b of th.queue) { msgs++; entries += b.entries; }
      if (th.cur) { msgs++; entries += th.cur.entries; }
      th.queue = [];
      th.cur = null;
    }
    bump(this.stats.messages.rejected, 'stopped', msgs);
    bump(this.stats.entries.rejected, 'stopped', entries);
    this.stats.queue.pendingEntries = 0;
    this.updateQueueStats();
    this.running = false;
    this.detach();
  }
}
