// Shared shapes of the engine: services, destinations (real servers), packets and verdicts.
import type {Addr, Af} from './addr.js';
import type {FwdMethod} from './constants.js';
import type {Stats} from './stats.js';

export type ProtoName = 'tcp' | 'udp' | 'sctp';

/** A virtual service's identity: address:port:protocol, or a firewall mark. */
export type ServiceKey =
  | {kind: 'addr'; af: Af; proto: ProtoName; addr: Addr; port: number}
  | {kind: 'fwmark'; af: Af; fwmark: number};

export interface ServiceOptions {
  scheduler: string;
  /** IP_VS_SVC_F_* bits besides PERSISTENT (ONEPACKET, SCHED1..3). */
  flags: number;
  /** Persistence timeout in ms; 0 = not persistent. */
  persistTimeout: number;
  /** IPv4 netmask (uint32) for persistence grouping. */
  netmask: number;
  /** IPv6 prefix length for persistence grouping. */
  prefixLen: number;
  /** Persistence engine name ('' = none; only 'sip' exists in the kernel). */
  pe: string;
}

export interface Service {
  readonly id: number;
  readonly key: ServiceKey;
  scheduler: string;
  flags: number;
  /** Persistence timeout in ms (kept even when the flag is off, as the kernel does). */
  timeout: number;
  netmask: number;
  prefixLen: number;
  pe: string;
  /** Destinations in the kernel's list order: newest first. */
  dests: Dest[];
  stats: Stats;
  /** Private state of the bound scheduler. */
  schedData: unknown;
}

export interface DestOptions {
  fwd: FwdMethod;
  weight: number;
  /** Upper connection threshold (0 = none). */
  uThreshold: number;
  /** Lower connection threshold (0 = none). */
  lThreshold: number;
}

export interface Dest {
  readonly id: number;
  readonly af: Af;
  readonly addr: Addr;
  readonly port: number;
  /** Identity of the owning service, kept for trash matching (the kernel copies it too). */
  svc: Service;
  weight: number;
  /** Latest non-zero weight (used by mh). */
  lastWeight: number;
  fwd: FwdMethod;
  /** Template for new connections' flags: fwd method | INACTIVE | NOOUTPUT for non-NAT. */
  connFlags: number;
  /** DEST_F_* bits: AVAILABLE, OVERLOAD. */
  flags: number;
  uThreshold: number;
  lThreshold: number;
  activeConns: number;
  inactConns: number;
  persistConns: number;
  stats: Stats;
  /** Number of connection entries bound to it (the kernel's refcount, minus the service's own ref). */
  refs: number;
  /** Trash bookkeeping: 0 while in use, else the virtual time it was first seen unreferenced. */
  idleStart: number;
  inTrash: boolean;
}

/** A packet as the engine sees it. Reuse one object per source to avoid allocation on hot paths. */
export interface Packet {
  af: Af;
  /** IP protocol number (6 TCP, 17 UDP, 132 SCTP, 1/58 ICMP, others unsupported). */
  proto: number;
  src: Addr;
  sport: number;
  dst: Addr;
  dport: number;
  /** TCP flag bits (TCP_FLAG). */
  tcpFlags: number;
  /** SCTP: type of the first chunk, its length, and the type of the chunk bundled after it (-1 if none). */
  sctpChunk: number;
  sctpChunkLen: number;
  sctpNextChunk: number;
  /** IP length in bytes (L3 header included): the figure stats count. */
  len: number;
  /** Netfilter mark (firewall mark) carried by the packet; 0 = none. */
  fwmark: number;
  /** Don't-fragment bit (pmtu_disc). */
  df: boolean;
  /** For ICMP errors: the ICMP type and code and the embedded (original) packet. */
  icmp: IcmpInfo | null;
  /**
   * Set on the ICMP-embedded packet handed to schedulers (IP_VS_HDR_INVERSE): src/dst are the
   * original packet's, so the client is `dst`. sh and mh swap back; dh, lblc, lblcr do not.
   */
  inverse?: boolean;
}

export interface IcmpInfo {
  type: number;
  code: number;
  /** The original packet the error is about, as it was sent (not swapped). */
  inner: Packet;
  /** True if the ICMP checksum verifies. */
  checksumOk: boolean;
}

export type VerdictAction = 'forward' | 'drop' | 'accept' | 'bypass';

/** Why a packet was dropped or accepted instead of forwarded; '' when forwarded. */
export type VerdictReason =
  | ''
  | 'backup-only'
  | 'not-ipvs'             // no service / not a first packet: continues to the local stack
  | 'unsupported-proto'
  | 'tunneled-ignored'     // unsupported protocol marked IPVS-owned (ignore_tunneled)
  | 'first-packet-filter'  // e.g. a TCP ACK with no entry and sloppy_tcp=0
  | 'drop-packet-defense'  // ip_vs_todrop
  | 'no-destination'       // ip_vs_leave: ICMP port unreachable sent
  | 'dest-unavailable'     // entry's dest deleted, expire_nodest_conn=0
  | 'conntrack-reuse'      // old confirmed conntrack pins a reused tuple
  | 'ftp-data-ignored'
  | 'icmp-bad-checksum'
  | 'icmp-unrelated'
  | 'icmp-embedded-no-dest'
  | 'frag-needed'          // DF packet larger than the path MTU
  | 'nat-icmp-send'        // reply from a NAT real server for no entry: port unreachable back to it
  | 'no-entry';            // reply direction: no entry matched, not IPVS's business

export interface Verdict {
  action: VerdictAction;
  reason: VerdictReason;
  /** Connection entry index the packet was handled with (-1 if none). */
  conn: number;
  /** Destination the packet went to (null if none). */
  dest: Dest | null;
  /** Whether a new connection entry was created by this packet. */
  created: boolean;
  /** An ICMP error the director sent because of this packet (type/code), or null. */
  icmpSent: {type: number; code: number} | null;
}

/** Context handed to schedulers: deterministic time, randomness and logging. */
export interface SchedContext {
  now: number;
  random32(): number;
  log(level: number, msg: () => string): void;
  tunable(name: string): number;
}

/** The tiny ops table every scheduler implements (like struct ip_vs_scheduler). */
export interface SchedulerOps {
  readonly name: string;
  initService?(svc: Service, ctx: SchedContext): void;
  doneService?(svc: Service, ctx: SchedContext): void;
  addDest?(svc: Service, dest: Dest, ctx: SchedContext): void;
  delDest?(svc: Service, dest: Dest, ctx: SchedContext): void;
  updDest?(svc: Service, dest: Dest, ctx: SchedContext): void;
  /** Periodic work (lblc/lblcr garbage collection); called by the engine's tick. */
  tick?(svc: Service, ctx: SchedContext): void;
  /** Choose a destination for a new connection, or null. `inverse`: key from the dst (ICMP). */
  schedule(svc: Service, pkt: Packet, ctx: SchedContext): Dest | null;
}
