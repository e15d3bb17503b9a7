// Numeric constants of Linux IPVS (include/uapi/linux/ip_vs.h, include/net/ip_vs.h, ip_vs_*.c).
// Kept in one place so the packet path, the listings and the sync codecs agree on every value.

export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;

/** Virtual time unit: the engine works in milliseconds with HZ=1000 semantics (docs/kernel-behaviour.md, "Time"). */
export const HZ = 1000;
export const SECOND = 1000;
export const INT_MAX = 0x7fffffff;

/** Service flags (IP_VS_SVC_F_*). */
export const SVC_F = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;

/** Connection flags (IP_VS_CONN_F_*). */
export const CONN_F = {
  FWD_MASK: 0x0007,
  MASQ: 0x0000,
  LOCALNODE: 0x0001,
  TUNNEL: 0x0002,
  DROUTE: 0x0003,
  BYPASS: 0x0004,
  SYNC: 0x0020,
  HASHED: 0x0040,
  NOOUTPUT: 0x0080,
  INACTIVE: 0x0100,
  OUT_SEQ: 0x0200,
  IN_SEQ: 0x0400,
  SEQ_MASK: 0x0600,
  NO_CPORT: 0x0800,
  TEMPLATE: 0x1000,
  ONE_PACKET: 0x2000,
  NFCT: 0x10000,
  /** FWD_MASK | ONE_PACKET | NFCT: the bits of a destination's conn_flags a user may set. */
  DEST_MASK: 0x12007,
  BACKUP_MASK: 0x1f87,
  BACKUP_UPD_MASK: 0x0700,
} as const;

/** Destination flags (IP_VS_DEST_F_*). */
export const DEST_F = {
  AVAILABLE: 0x1,
  OVERLOAD: 0x2,
} as const;

/** Template state bits (IP_VS_CTPL_S_*). */
export const CTPL_S = {NONE: 0, ASSURED: 0x1} as const;

/** Forwarding methods, by the value stored in the FWD_MASK field. */
export type FwdMethod = 'masq' | 'local' | 'tunnel' | 'route' | 'bypass';
export const FWD_BY_VALUE: readonly FwdMethod[] = ['masq', 'local', 'tunnel', 'route', 'bypass'];
export function fwdValue(method: FwdMethod): number {
  return FWD_BY_VALUE.indexOf(method);
}

/** TCP flag bits as on the wire. */
export const TCP_FLAG = {FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20} as const;

/** SCTP chunk types used by the state machine (RFC 4960). */
export const SCTP_CHUNK = {
  DATA: 0, INIT: 1, INIT_ACK: 2, SACK: 3, HEARTBEAT: 4, HEARTBEAT_ACK: 5, ABORT: 6, SHUTDOWN: 7,
  SHUTDOWN_ACK: 8, ERROR: 9, COOKIE_ECHO: 10, COOKIE_ACK: 11, ECNE: 12, CWR: 13, SHUTDOWN_COMPLETE: 14,
} as const;

/** Connection created: its first timeout before the packet's state transition sets the real one. */
export const CONN_INITIAL_TIMEOUT = 3 * SECOND;
/** ip_vs_conn_expire re-arms an entry that still controls others (or is referenced) with 60 s. */
export const CONN_DEFER_TIMEOUT = 60 * SECOND;
/** Defense timer period (DEFENSE_TIMER_PERIOD). */
export const DEFENSE_PERIOD = 1 * SECOND;
/** Rate estimator period. */
export const ESTIMATOR_PERIOD = 2 * SECOND;
/** IP_VS_DEST_TRASH_PERIOD; the trash is visited every half period. */
export const DEST_TRASH_PERIOD = 120 * SECOND;
/** ipvsadm's default persistence timeout (IPVS_SVC_PERSISTENT_TIMEOUT = 6*60). */
export const DEFAULT_PERSISTENT_TIMEOUT = 360 * SECOND;
/** Default conn_tab_bits (CONFIG_IP_VS_TAB_BITS). */
export const DEFAULT_CONN_TAB_BITS = 12;
/**
 * Size of struct ip_vs_conn's slab object on 6.1 x86_64 (ip_vs_conn.c, ip_vs_conn_init's
 * kmem_cache_create): what the memory model charges per entry (docs/kernel-behaviour.md, "Memory").
 */
export const KERNEL_CONN_ENTRY_BYTES = 320;
export const PAGE_SIZE = 4096;

/** Sync protocol defaults (ip_vs_sync.c, include/net/ip_vs.h). */
export const SYNC = {
  DEFAULT_GROUP4: '224.0.0.81',
  DEFAULT_PORT: 8848,
  DEFAULT_TTL: 1,
  PORTS_MAX: 64,
  DEFAULT_THRESHOLD: 3,
  DEFAULT_PERIOD: 50,
} as const;
