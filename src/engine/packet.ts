// Building packets from text ("10.0.0.1:4000", flags "SA"), for scenarios, tests and generators.
import {type Addr, type Af, parseAddrPort} from './addr.js';
import {IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SCTP_CHUNK, TCP_FLAG} from './constants.js';
import type {Packet} from './types.js';

export function emptyPacket(): Packet {
  return {
    af: 4, proto: IPPROTO_TCP, src: 0, sport: 0, dst: 0, dport: 0, tcpFlags: 0, sctpChunk: SCTP_CHUNK.DATA,
    sctpChunkLen: 16, sctpNextChunk: -1, len: 60, fwmark: 0, df: false, icmp: null,
  };
}

const FLAG_LETTERS: Record<string, number> = {
  F: TCP_FLAG.FIN, S: TCP_FLAG.SYN, R: TCP_FLAG.RST, P: TCP_FLAG.PSH, A: TCP_FLAG.ACK, U: TCP_FLAG.URG,
};

/** "SA" -> SYN|ACK. Letters F S R P A U; "" or "-" = no flags. Throws on an unknown letter. */
export function parseTcpFlags(text: string): number {
  let f = 0;
  for (const ch of text.toUpperCase()) {
    if (ch === '-') continue;
    const bit = FLAG_LETTERS[ch];
    if (bit === undefined) throw new Error(`unknown TCP flag '${ch}' in '${text}' (use F S R P A U)`);
    f |= bit;
  }
  return f;
}

export function formatTcpFlags(f: number): string {
  return Object.entries(FLAG_LETTERS).filter(([, bit]) => f & bit).map(([l]) => l).join('') || '-';
}

export const PROTO_BY_NAME: Record<string, number> = {
  tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP, icmp: IPPROTO_ICMP, icmpv6: IPPROTO_ICMPV6,
};

const SCTP_CHUNK_BY_NAME: Record<string, number> = {
  data: SCTP_CHUNK.DATA, init: SCTP_CHUNK.INIT, init_ack: SCTP_CHUNK.INIT_ACK, sack: SCTP_CHUNK.SACK,
  heartbeat: SCTP_CHUNK.HEARTBEAT, heartbeat_ack: SCTP_CHUNK.HEARTBEAT_ACK, abort: SCTP_CHUNK.ABORT,
  shutdown: SCTP_CHUNK.SHUTDOWN, shutdown_ack: SCTP_CHUNK.SHUTDOWN_ACK, error: SCTP_CHUNK.ERROR,
  cookie_echo: SCTP_CHUNK.COOKIE_ECHO, cookie_ack: SCTP_CHUNK.COOKIE_ACK, ecne: SCTP_CHUNK.ECNE,
  cwr: SCTP_CHUNK.CWR, shutdown_complete: SCTP_CHUNK.SHUTDOWN_COMPLETE,
};

export function parseSctpChunk(text: string): number {
  const v = SCTP_CHUNK_BY_NAME[text.toLowerCase()];
  if (v !== undefined) return v;
  if (/^\d+$/.test(text) && Number(text) < 256) return Number(text);
  throw new Error(`unknown SCTP chunk type '${text}'`);
}

export interface PacketSpec {
  proto: 'tcp' | 'udp' | 'sctp' | string;
  src: string;
  dst: string;
  flags?: string;
  /** SCTP first chunk name, optional second chunk bundled after it. */
  chunk?: string;
  nextChunk?: string;
  len?: number;
  fwmark?: number;
  df?: boolean;
}

/** Build a packet from text; throws an Error naming the bad field. */
export function packetFromSpec(s: PacketSpec): Packet {
  const p = emptyPacket();
  const proto = PROTO_BY_NAME[s.proto.toLowerCase()];
  if (proto === undefined) throw new Error(`unknown protocol '${s.proto}' (tcp, udp, sctp, icmp)`);
  const src = parseAddrPort(s.src, proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6);
  if (!src) throw new Error(`bad source address '${s.src}' (want ADDR:PORT)`);
  const dst = parseAddrPort(s.dst, proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6);
  if (!dst) throw new Error(`bad destination address '${s.dst}' (want ADDR:PORT)`);
  if (src.af !== dst.af) throw new Error(`source and destination families differ: ${s.src} -> ${s.dst}`);
  p.af = src.af;
  p.proto = proto;
  p.src = src.addr;
  p.sport = src.port;
  p.dst = dst.addr;
  p.dport = dst.port;
  p.tcpFlags = s.flags ? parseTcpFlags(s.flags) : proto === IPPROTO_TCP ? TCP_FLAG.ACK : 0;
  if (s.chunk) p.sctpChunk = parseSctpChunk(s.chunk);
  if (s.nextChunk) p.sctpNextChunk = parseSctpChunk(s.nextChunk);
  p.len = s.len ?? (proto === IPPROTO_TCP ? (p.af === 4 ? 40 : 60) : p.af === 4 ? 28 : 48);
  if (!Number.isInteger(p.len) || p.len < 0 || p.len > 65535) throw new Error(`bad length ${s.len}`);
  p.fwmark = s.fwmark ?? 0;
  p.df = s.df ?? false;
  return p;
}

/** Fill a reusable packet in place (generators: no allocation per packet). */
export function setTcp(p: Packet, af: Af, src: Addr, sport: number, dst: Addr, dport: number, flags: number, len: number): Packet {
  p.af = af; p.proto = IPPROTO_TCP; p.src = src; p.sport = sport; p.dst = dst; p.dport = dport;
  p.tcpFlags = flags; p.len = len; p.icmp = null;
  return p;
}

export function setUdp(p: Packet, af: Af, src: Addr, sport: number, dst: Addr, dport: number, len: number): Packet {
  p.af = af; p.proto = IPPROTO_UDP; p.src = src; p.sport = sport; p.dst = dst; p.dport = dport;
  p.tcpFlags = 0; p.len = len; p.icmp = null;
  return p;
}
