// What the Sync view shows: each sync role's configuration and the daemon's counters, as plain
// data copied out of the simulation (safe to put in a store or send to another process).
import type {Simulation} from '../sim/simulation.js';
import type {SyncDaemonStats} from '../sync/stats.js';

export interface SyncRoleStatus {
  role: 'master' | 'backup';
  /** The daemon configuration the engine records (what ipvsadm --list --daemon prints). */
  config: {mcastIfn: string; syncId: number; group: string; port: number; ttl: number} | null;
  /** How the daemon talks ("udp unicast 127.0.0.1:8848", "udp multicast ..."), if hosted here. */
  transport: string | null;
  stats: SyncDaemonStats | null;
  /** Why the daemon stopped (socket errors), if it did. */
  error: string | null;
}

export interface SyncStatus {
  /** Whether this process hosts sync daemons at all (the UI, serve and sync commands do). */
  hosted: boolean;
  roles: SyncRoleStatus[];
  /** Tunables that steer sending, read back as sysctl prints them. */
  tunables: Record<string, string>;
}

const SYNC_TUNABLES = ['sync_version', 'sync_threshold', 'sync_refresh_period', 'sync_retries', 'sync_persist_mode',
  'sync_qlen_max', 'sync_ports', 'sync_sock_size', 'backup_only'];

export function syncStatusOf(sim: Simulation): SyncStatus {
  const e = sim.engine;
  const mgr = sim.sync;
  const stats = mgr?.stats() ?? {};
  const roles = (['master', 'backup'] as const).map((role): SyncRoleStatus => {
    const cfg = e.syncDaemons[role];
    return {
      role,
      config: cfg ? {mcastIfn: cfg.mcastIfn, syncId: cfg.syncId, group: cfg.mcastGroup, port: cfg.mcastPort, ttl: cfg.mcastTtl} : null,
      transport: cfg && mgr ? mgr.transport.describe(role, cfg) : null,
      stats: stats[role] ?? null,
      error: mgr?.errors[role] ?? null,
    };
  });
  return {hosted: mgr !== null, roles, tunables: Object.fromEntries(SYNC_TUNABLES.map((n) => [n, e.readTunable(n)]))};
}
