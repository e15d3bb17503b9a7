// Connection synchronisation (net/netfilter/ipvs/ip_vs_sync.c): wire codecs, the master and backup daemons on the engine's
// virtual time, their UDP and in-memory transports, statistics and a master-vs-backup comparison.
// See docs/sync.md.
export * from './codec.js';
export {SyncMaster, masterSyncMaxLen, backupSyncMaxLen, syncThreadCount, SYNC_SEND_DELAY, SYNC_WAKEUP_RATE,
  SYNC_FLUSH_TIME, SYNC_CHECK_PERIOD} from './master.js';
export {SyncBackup, type ReceiveResult} from './backup.js';
export {SyncManager, type SyncRole, type SyncTransportFactory, type MasterTransport, type BackupTransport} from './manager.js';
export {MemorySyncNetwork} from './memory.js';
export {udpTransport, parsePeer, type UdpSyncOptions} from './daemon.js';
export {type SyncDaemonStats, cloneStats} from './stats.js';
export {compareSync, connViews, expectedOnBackup, formatComparison, type SyncComparison, type SyncConnView} from './compare.js';
export type {SyncApplyResult} from '../engine/sync-apply.js';
