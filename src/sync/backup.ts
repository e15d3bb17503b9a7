// The backup side (ip_vs_sync.c: sync_thread_backup, ip_vs_process_message, ip_vs_proc_conn): each received datagram is read into a buffer of sync_maxlen
// bytes (longer ones are cut, so their size check fails, as with the kernel's recvmsg), decoded
// and checked completely, then its accepted entries are applied in order with ip_vs_proc_conn.
// Every outcome is counted by reason and logged at the kernel's debug levels.
import {type Addr, formatAddr, maskAddr, parseAddr, parseCidr, prefixToIPv4Mask} from '../engine/addr.js';
import {DBG} from '../engine/debug-log.js';
import type {Engine, SyncDaemonConfig} from '../engine/engine.js';
import type {SyncApplyResult} from '../engine/sync-apply.js';
import {type DecodedMessage, decodeMessage} from './codec.js';
import {backupSyncMaxLen, syncThreadCount} from './master.js';
import {bump, newStats, type SyncDaemonStats} from './stats.js';

export interface SyncBackupOptions {
  threads?: number;
  /** MTU of the receiving interface (sets the default sync_maxlen). */
  ifMtu?: number;
  /** Called before a datagram is applied: bring the engine's clock up to date. */
  beforeApply?: () => void;
  /**
   * Senders whose datagrams are accepted (addresses or CIDR blocks). The kernel has no such check:
   * its backup socket takes whatever reaches group:port on the interface. Unset = accept all.
   */
  allowedPeers?: readonly string[];
}

export class SyncPeerError extends Error {}

type PeerBlock = {af: 4 | 6; base: Addr; prefix: number};

/** Parse an allowed-peer list; throws SyncPeerError naming the bad entry. */
export function parseAllowedPeers(list: readonly string[]): PeerBlock[] {
  return list.map((text) => {
    const b = parseCidr(text.trim());
    if (!b) throw new SyncPeerError(`bad allowed peer '${text}' (an address or a block like 10.1.0.0/24)`);
    return b;
  });
}

/** The address part of "ADDR:PORT" as node:dgram reports a sender (IPv4-mapped IPv6 folded to IPv4). */
function senderAddress(from: string): {af: 4 | 6; addr: Addr} | null {
  const host = from.slice(0, Math.max(0, from.lastIndexOf(':'))).replace(/^\[|\]$/g, '').replace(/^::ffff:(?=\d+\.)/i, '');
  return parseAddr(host);
}

function inBlock(a: {af: 4 | 6; addr: Addr}, b: PeerBlock): boolean {
  if (a.af !== b.af) return false;
  return a.af === 4 ? ((a.addr as number) & prefixToIPv4Mask(b.prefix)) >>> 0 === b.base : maskAddr(a.addr, 0, b.prefix) === b.base;
}

export interface ReceiveResult {
  decoded: DecodedMessage;
  applied: SyncApplyResult[];
}

export class SyncBackup {
  readonly stats: SyncDaemonStats;
  readonly syncMaxLen: number;
  readonly threadCount: number;
  private running = true;
  private readonly allowed: PeerBlock[] | null;

  constructor(readonly engine: Engine, readonly cfg: SyncDaemonConfig, private readonly opts: SyncBackupOptions = {}) {
    this.threadCount = opts.threads ?? syncThreadCount(engine.tunables.v.sync_ports ?? 1);
    this.syncMaxLen = backupSyncMaxLen(cfg, opts.ifMtu);
    this.stats = newStats('backup', cfg.syncId & 0xff, this.threadCount, this.syncMaxLen);
    this.allowed = opts.allowedPeers?.length ? parseAllowedPeers(opts.allowedPeers) : null;
  }

  /** Is a datagram from this sender ("ADDR:PORT") accepted by the allowed-peer list? */
  acceptsSender(from: string | null): boolean {
    if (!this.allowed) return true;
    const a = from === null ? null : senderAddress(from);
    return a !== null && this.allowed.some((b) => inBlock(a, b));
  }

  get isRunning(): boolean {
    return this.running;
  }

  stop(): void {
    this.running = false;
  }

  /** ip_vs_receive + ip_vs_process_message for one datagram. Never throws on its content. */
  receive(datagram: Uint8Array, from: string | null = null): ReceiveResult {
    const e = this.engine;
    this.opts.beforeApply?.();
    const bytes = datagram.length > this.syncMaxLen ? datagram.subarray(0, this.syncMaxLen) : datagram;
    const s = this.stats;
    s.messages.received++;
    s.bytes.received += datagram.length;
    s.lastMessageAt = e.now;
    s.lastMessageWall = Date.now();
    s.lastFrom = from;
    if (!this.acceptsSender(from)) {
      // not a peer of ours: dropped before decoding, as a firewall in front of the socket would
      bump(s.messages.rejected, 'sender');
      if (e.log.enabled(DBG.CONFIG)) e.log.log(e.now, DBG.CONFIG, () => `BACKUP, datagram from ${from ?? 'an unknown sender'} not in the allowed peers: dropped`);
      return {decoded: {ok: false, reject: 'sender', version: null, syncId: 0, size: 0, nrConns: 0, length: bytes.length, entries: []}, applied: []};
    }
    const decoded = decodeMessage(bytes, {syncId: this.cfg.syncId});
    const applied: SyncApplyResult[] = [];
    if (!decoded.ok) {
      const reason = decoded.reject!;
      bump(s.messages.rejected, reason);
      // IP_VS_DBG(2, "BACKUP, message header too short" / "bogus message size"), (7, "Ignoring syncid")
      const level = reason === 'syncid' ? DBG.CONN : DBG.CONFIG;
      if (e.log.enabled(level)) {
        e.log.log(e.now, level, () => reason === 'syncid' ? `BACKUP, Ignoring syncid = ${decoded.syncId}` :
          reason === 'too-short' ? 'BACKUP, message header too short' :
          `BACKUP, bogus message size (${bytes.length} bytes, header says ${decoded.size})`);
      }
      return {decoded, applied};
    }
    for (const en of decoded.entries) {
      s.entries.received++;
      if (en.status === 'skip') {
        bump(s.entries.rejected, en.reason!);
        if (e.log.enabled(DBG.CONFIG)) {
          e.log.log(e.now, DBG.CONFIG, () => `BACKUP${decoded.version === 0 ? ' v0' : ''}, entry ${en.index} skipped: ${en.reason}` +
            ` (protocol ${en.conn.proto}, state ${en.conn.state})`);
        }
        continue;
      }
      if (en.oddTemplateState && e.log.enabled(DBG.CONN)) {
        e.log.log(e.now, DBG.CONN, () => `BACKUP, Invalid tpl state ${en.conn.state}`);
      }
      const r = e.applySync(en.conn, en.flags, decoded.version === 1 ? en.conn.timeout : 0);
      s.applied[r.outcome]++;
      applied.push(r);
      if (e.log.enabled(DBG.CONN)) {
        e.log.log(e.now, DBG.CONN, () => `BACKUP, ${r.outcome} ${formatAddr(en.conn.caddr)}:${en.conn.cport} -> ` +
          `${formatAddr(en.conn.daddr)}:${en.conn.dport} state ${en.conn.state}`);
      }
    }
    if (decoded.stop) {
      const st = decoded.stop;
      s.entries.received++;
      bump(s.entries.rejected, st.reason);
      // the entries announced after the one that stopped the datagram are lost with it
      bump(s.entries.rejected, 'after-stop', Math.max(0, decoded.nrConns - st.index - 1));
      bump(s.messages.rejected, 'partial');
      if (e.log.enabled(DBG.ERROR)) {
        e.log.log(e.now, DBG.ERROR, () => `BACKUP, Dropping buffer at entry ${st.index} (offset ${st.offset}): ${st.reason}`);
      }
    }
    return {decoded, applied};
  }
}
