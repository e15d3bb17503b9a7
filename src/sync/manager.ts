// Runs the sync roles of one engine over a transport (UDP sockets, or an in-memory network for
// in-process setups): start/stop like ipvsadm --start-daemon/--stop-daemon, and reconcile with
// engine.syncDaemons so a role started by anyone who only calls engine.startDaemon (the ipvsadm
// layer, a scenario) gets its daemon at the next poll. The host calls poll() after each step of
// virtual time so the master's wake-ups and flushes happen on schedule.
import {DBG} from '../engine/debug-log.js';
import type {Engine, SyncDaemonConfig} from '../engine/engine.js';
import {SyncBackup} from './backup.js';
import {SyncMaster, syncThreadCount} from './master.js';
import {cloneStats, type SyncDaemonStats} from './stats.js';

export type SyncRole = 'master' | 'backup';

export interface MasterTransport {
  /** Send one datagram on thread `thread`'s socket; `done` reports a failure (the message is lost). */
  send(thread: number, msg: Uint8Array, done: (err: Error | null) => void): void;
  /** Resolves when every socket is ready; rejects if one could not be set up. */
  ready: Promise<void>;
  close(): void;
}

export interface BackupTransport {
  ready: Promise<void>;
  /** MTU of the receiving interface, when known (sets the backup's default sync_maxlen). */
  ifMtu?: number;
  close(): void;
}

export interface SyncTransportFactory {
  /** Human description ("udp unicast 127.0.0.1:8848", "multicast 224.0.0.81:8848 on eth0"...). */
  describe(role: SyncRole, cfg: SyncDaemonConfig): string;
  master(cfg: SyncDaemonConfig, threads: number, onError: (err: Error) => void): MasterTransport;
  backup(cfg: SyncDaemonConfig, threads: number,
    deliver: (msg: Uint8Array, thread: number, from: string) => void, onError: (err: Error) => void): BackupTransport;
}

export interface SyncManagerOptions {
  /** Bring the engine's clock up to date before a received datagram is applied. */
  beforeApply?: () => void;
  /** Backup: accept datagrams only from these addresses / CIDR blocks (see SyncBackupOptions). */
  allowedPeers?: readonly string[];
}

export class SyncManager {
  master: SyncMaster | null = null;
  backup: SyncBackup | null = null;
  private masterTx: MasterTransport | null = null;
  private backupTx: BackupTransport | null = null;
  /** Thread count, fixed while any role runs (start_sync_thread). */
  private threads = 0;
  /** Last fatal error per role (bind failure...): the role was stopped. */
  readonly errors: Partial<Record<SyncRole, string>> = {};

  constructor(readonly engine: Engine, readonly transport: SyncTransportFactory, private readonly opts: SyncManagerOptions = {}) {}

  /**
   * ipvsadm --start-daemon: record the role in the engine (EEXIST, EINVAL as the kernel) and open
   * its sockets. Resolves when they are ready; on a socket failure the role is stopped again.
   */
  async start(cfg: Partial<SyncDaemonConfig> & {role: SyncRole}): Promise<SyncDaemonConfig> {
    const full = this.engine.startDaemon(cfg);
    const ready = this.open(cfg.role);
    await ready;
    return full;
  }

  /** ipvsadm --stop-daemon (ESRCH if the role does not run). */
  stop(role: SyncRole): void {
    this.engine.stopDaemon(role);
    this.closeRole(role);
  }

  /** Stop every role and close the sockets. */
  close(): void {
    for (const role of ['master', 'backup'] as const) {
      if (this.engine.syncDaemons[role]) this.engine.stopDaemon(role);
      this.closeRole(role);
    }
  }

  /** Start or stop daemons to match engine.syncDaemons (roles started through engine.startDaemon). */
  reconcile(): void {
    for (const role of ['master', 'backup'] as const) {
      const wanted = this.engine.syncDaemons[role];
      const running = role === 'master' ? this.master : this.backup;
      if (wanted && !running) void this.open(role).catch(() => undefined);
      else if (!wanted && running) this.closeRole(role);
    }
  }

  /** Reconcile, then run the master's wake-ups and flushes due by `now`. */
  poll(now = this.engine.now): void {
    this.reconcile();
    this.master?.poll(now);
  }

  /** Copies of the running roles' statistics. */
  stats(): Partial<Record<SyncRole, SyncDaemonStats>> {
    const out: Partial<Record<SyncRole, SyncDaemonStats>> = {};
    if (this.master) out.master = cloneStats(this.master.stats);
    if (this.backup) out.backup = cloneStats(this.backup.stats);
    return out;
  }

  private open(role: SyncRole): Promise<void> {
    const e = this.engine;
    const cfg = e.syncDaemons[role];
    if (!cfg) return Promise.reject(new Error(`sync daemon ${role} is not recorded in the engine`));
    if (!this.master && !this.backup) this.threads = syncThreadCount(e.tunables.v.sync_ports ?? 1);
    delete this.errors[role];
    const fail = (err: Error) => {
      this.errors[role] = err.message;
      e.log.log(e.now, DBG.ERROR, () => `sync ${role}: ${err.message}`);
      const running = role === 'master' ? this.master : this.backup;
      if (running) running.stats.lastError = err.message;
    };
    if (role === 'master') {
      const master = new SyncMaster(e, cfg, {
        threads: this.threads,
        send: (thread, msg) => tx.send(thread, msg, (err) => {
          if (err) master.noteSendError(err, msg[0] === 0 && msg.length >= 8 ? msg[4] : msg[0]);
        }),
      });
      const tx = this.transport.master(cfg, this.threads, fail);
      this.master = master.attach();
      this.masterTx = tx;
      e.log.log(e.now, DBG.CONFIG, () => `sync master: ${this.transport.describe('master', cfg)}, ${this.threads} thread(s)`);
      return tx.ready.catch((err: Error) => this.fatal(role, err));
    }
    const tx = this.transport.backup(cfg, this.threads, (msg, _thread, from) => this.backup?.receive(msg, from), fail);
    this.backup = new SyncBackup(e, cfg, {threads: this.threads, ifMtu: tx.ifMtu, beforeApply: this.opts.beforeApply, allowedPeers: this.opts.allowedPeers});
    this.backupTx = tx;
    e.log.log(e.now, DBG.CONFIG, () => `sync backup: ${this.transport.describe('backup', cfg)}, ${this.threads} thread(s)`);
    return tx.ready.catch((err: Error) => this.fatal(role, err));
  }

  /** A role whose sockets could not be set up is stopped again (start_sync_thread failed). */
  private fatal(role: SyncRole, err: Error): never {
    this.errors[role] = err.message;
    if (this.engine.syncDaemons[role]) this.engine.stopDaemon(role);
    this.closeRole(role);
    throw err;
  }

  private closeRole(role: SyncRole): void {
    if (role === 'master') {
      this.master?.stop();
      this.masterTx?.close();
      this.master = null;
      this.masterTx = null;
    } else {
      this.backup?.stop();
      this.backupTx?.close();
      this.backup = null;
      this.backupTx = null;
    }
  }
}
