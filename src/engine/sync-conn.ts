// One connection entry as the sync protocol carries it (struct ip_vs_sync_conn_v0 / ip_vs_sync_v4 /
// ip_vs_sync_v6 and their options), plus building one from a live engine entry (the member copy of
// ip_vs_sync_conn / ip_vs_sync_conn_v0). Pure data: the byte layouts live in src/sync/codec.ts.
import type {Addr, Af} from './addr.js';
import {CONN_F, HZ} from './constants.js';
import type {Engine} from './engine.js';

/** struct ip_vs_seq: TCP sequence adjustment of one direction (application helpers such as FTP). */
export interface SyncSeq {
  initSeq: number;
  delta: number;
  previousDelta: number;
}

export interface SyncConn {
  af: Af;
  /** IP protocol number; 0 (IPPROTO_IP) for templates of fwmark services. */
  proto: number;
  /** Connection flags as they are on the wire (v1: 32 bits, v0: 16 bits), HASHED normally clear. */
  flags: number;
  state: number;
  cport: number;
  vport: number;
  dport: number;
  /** Packet mark at creation (v1 only; v0 carries none and the backup uses 0). */
  fwmark: number;
  /** Seconds (v1 only; 0 on v0 and means "use the protocol's timeout" on a v1 backup). */
  timeout: number;
  caddr: Addr;
  /** Virtual address; for a template of a fwmark service, the mark (a number, also for IPv6). */
  vaddr: Addr;
  daddr: Addr;
  /** Sequence options (present iff flags & SEQ_MASK on the sender). */
  inSeq?: SyncSeq;
  outSeq?: SyncSeq;
  /** Persistence-engine data (e.g. a SIP Call-ID) and the engine's name. */
  peData?: Uint8Array;
  peName?: string;
}

/**
 * The entry ip_vs_sync_conn / ip_vs_sync_conn_v0 copy out of a live connection: flags without
 * HASHED, timeout in whole seconds, and for fwmark templates the mark in place of vaddr.
 * The engine keeps no sequence or persistence-engine data, so those options are never present.
 */
export function buildSyncConn(e: Engine, i: number): SyncConn {
  const t = e.table;
  return {
    af: t.af(i),
    proto: t.protoOf(i),
    flags: (t.flagsOf(i) & ~CONN_F.HASHED) >>> 0,
    state: t.stateOf(i),
    cport: t.clientPortOf(i),
    vport: t.virtualPortOf(i),
    dport: t.destPortOf(i),
    fwmark: t.fwmarkOf(i),
    timeout: Math.floor(t.timeoutOf(i) / HZ),
    caddr: t.clientAddr(i),
    vaddr: t.virtualAddr(i),
    daddr: t.destAddr(i),
  };
}
