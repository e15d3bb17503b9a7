// From captured frame bytes to the engine's Packet: link layer (Ethernet with VLAN tags, Linux
// cooked v1/v2, raw IP, BSD loopback), IPv4/IPv6 (extension headers walked, later fragments
// skipped), then TCP, UDP, SCTP or ICMP/ICMPv6 with the packet an ICMP error carries. A frame we
// cannot hand to the engine is skipped with a reason, counted by the caller; nothing here throws.
import {IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP} from '../engine/constants.js';
import {emptyPacket} from '../engine/packet.js';
import type {Packet} from '../engine/types.js';
import {fold, pseudoSum, read16 as be16, sum16} from '../dataplane/checksum.js';
import {v6Addr} from '../dataplane/codec.js';

/** Link types (the tcpdump.org LINKTYPE_* registry) the decoder understands. */
export const LINKTYPE = {NULL: 0, ETHERNET: 1, RAW: 101, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276} as const;

/** Why a frame was not handed to the engine. */
export type SkipReason =
  | 'unsupported link type'
  | 'not IP'
  | 'sent by the capturing host'
  | 'truncated header'
  | 'bad IP header'
  | 'later fragment'
  | 'other protocol';

const ETH_IPV4 = 0x0800, ETH_IPV6 = 0x86dd;
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);
const MAX_VLAN_TAGS = 4;
const MAX_IPV6_EXT_HEADERS = 8;
const LINUX_PACKET_OUTGOING = 4;

const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export interface DecodeOptions {
  /** Keep packets the capturing host sent (Linux cooked "outgoing", pcapng outbound). */
  keepOutgoing?: boolean;
}

/**
 * Decode one frame into `out` (reused; its `icmp` is replaced). `origLen` is the frame's length on
 * the wire, used when the IP header gives none. Returns null when `out` holds a packet for the engine.
 */
export function decodeFrame(linkType: number, b: Uint8Array, origLen: number, out: Packet, direction = 0,
  opts: DecodeOptions = {}): SkipReason | null {
  if (direction === 2 && !opts.keepOutgoing) return 'sent by the capturing host';
  let at: number, etherType: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      if (b.length < 14) return 'truncated header';
      at = 14;
      etherType = be16(b, 12);
      break;
    case LINKTYPE.LINUX_SLL:
      if (b.length < 16) return 'truncated header';
      if (be16(b, 0) === LINUX_PACKET_OUTGOING && !opts.keepOutgoing) return 'sent by the capturing host';
      at = 16;
      etherType = be16(b, 14);
      break;
    case LINKTYPE.LINUX_SLL2:
      if (b.length < 20) return 'truncated header';
      if (b[10] === LINUX_PACKET_OUTGOING && !opts.keepOutgoing) return 'sent by the capturing host';
      at = 20;
      etherType = be16(b, 0);
      break;
    case LINKTYPE.NULL: {
      if (b.length < 4) return 'truncated header';
      // The address family in the capturing host's byte order: 2 is IPv4; 24, 28, 30 are IPv6 on the BSDs.
      const fam = b[0] !== 0 ? b[0]! : b[3]!;
      at = 4;
      etherType = fam === 2 ? ETH_IPV4 : fam === 24 || fam === 28 || fam === 30 ? ETH_IPV6 : 0;
      break;
    }
    case LINKTYPE.RAW: case 12: case 14:
      if (b.length < 1) return 'truncated header';
      at = 0;
      etherType = b[0]! >> 4 === 4 ? ETH_IPV4 : b[0]! >> 4 === 6 ? ETH_IPV6 : 0;
      break;
    case LINKTYPE.IPV4: at = 0; etherType = ETH_IPV4; break;
    case LINKTYPE.IPV6: at = 0; etherType = ETH_IPV6; break;
    default: return 'unsupported link type';
  }
  for (let tags = 0; VLAN_TPIDS.has(etherType); tags++) {
    if (tags === MAX_VLAN_TAGS || b.length < at + 4) return tags === MAX_VLAN_TAGS ? 'not IP' : 'truncated header';
    etherType = be16(b, at + 2);
    at += 4;
  }
  out.fwmark = 0;
  if (etherType === ETH_IPV4) return decodeIPv4(b, at, origLen - at, out, false);
  if (etherType === ETH_IPV6) return decodeIPv6(b, at, origLen - at, out, false);
  return 'not IP';
}

function decodeIPv4(b: Uint8Array, at: number, wireLen: number, out: Packet, inner: boolean): SkipReason | null {
  if (b.length < at + 20) return 'truncated header';
  if (b[at]! >> 4 !== 4) return 'bad IP header';
  const ihl = (b[at]! & 15) * 4;
  if (ihl < 20) return 'bad IP header';
  const total = be16(b, at + 2);
  const frag = be16(b, at + 6);
  if ((frag & 0x1fff) !== 0) return 'later fragment';
  out.af = 4;
  out.proto = b[at + 9]!;
  out.src = be32(b, at + 12);
  out.dst = be32(b, at + 16);
  out.df = (frag & 0x4000) !== 0;
  // A zero total length is what segmentation offload leaves in captures: the wire length tells.
  out.len = total !== 0 ? total : Math.max(0, wireLen);
  const end = Math.min(b.length, at + (total !== 0 ? total : b.length));
  return decodeL4(b, at + ihl, end, out, inner, at);
}

function decodeIPv6(b: Uint8Array, at: number, wireLen: number, out: Packet, inner: boolean): SkipReason | null {
  if (b.length < at + 40) return 'truncated header';
  if (b[at]! >> 4 !== 6) return 'bad IP header';
  const payload = be16(b, at + 4);
  out.af = 6;
  out.src = v6Addr(b, at + 8);
  out.dst = v6Addr(b, at + 24);
  out.df = false;
  out.len = payload !== 0 ? 40 + payload : Math.max(0, wireLen);
  const end = Math.min(b.length, at + 40 + (payload !== 0 ? payload : b.length));
  let next = b[at + 6]!;
  let o = at + 40;
  for (let n = 0; ; n++) {
    if (next !== 0 && next !== 43 && next !== 60 && next !== 44 && next !== 51) break;
    if (n === MAX_IPV6_EXT_HEADERS) return 'other protocol';
    if (end < o + 8) return 'truncated header';
    if (next === 44) {
      if ((be16(b, o + 2) & 0xfff8) !== 0) return 'later fragment';
      next = b[o]!;
      o += 8;
    } else {
      const len = next === 51 ? (b[o + 1]! + 2) * 4 : (b[o + 1]! + 1) * 8;
      next = b[o]!;
      o += len;
    }
  }
  out.proto = next;
  return decodeL4(b, o, end, out, inner, at);
}

function decodeL4(b: Uint8Array, o: number, end: number, out: Packet, inner: boolean, ipAt: number): SkipReason | null {
  out.icmp = null;
  out.tcpFlags = 0;
  out.sctpNextChunk = -1;
  switch (out.proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
      // An ICMP error carries only the first 8 bytes of the original transport header: the ports.
      if (end < o + 4) return 'truncated header';
      out.sport = be16(b, o);
      out.dport = be16(b, o + 2);
      if (out.proto === IPPROTO_TCP) {
        if (end >= o + 14) out.tcpFlags = b[o + 13]! & 0x3f;
        else if (!inner) return 'truncated header';
      } else if (out.proto === IPPROTO_SCTP && !inner) {
        if (end < o + 16) return 'truncated header';
        out.sctpChunk = b[o + 12]!;
        out.sctpChunkLen = be16(b, o + 14);
        const nextAt = o + 12 + ((out.sctpChunkLen + 3) & ~3);
        if (out.sctpChunkLen >= 4 && end >= nextAt + 1) out.sctpNextChunk = b[nextAt]!;
      }
      return null;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      if (inner) return 'other protocol';
      return decodeIcmp(b, o, end, out, ipAt);
    default:
      return 'other protocol';
  }
}

/** ICMP error types that carry the offending packet (RFC 792, RFC 4443). */
function isIcmpError(af: 4 | 6, type: number): boolean {
  return af === 4 ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12 : type < 128;
}

function decodeIcmp(b: Uint8Array, o: number, end: number, out: Packet, ipAt: number): SkipReason | null {
  if (end < o + 4) return 'truncated header';
  out.sport = 0;
  out.dport = 0;
  const type = b[o]!, code = b[o + 1]!;
  if (!isIcmpError(out.af, type) || (out.proto === IPPROTO_ICMP) !== (out.af === 4)) return null;
  const inner = emptyPacket();
  const r = out.af === 4 ? decodeIPv4(b, o + 8, end - o - 8, inner, true) : decodeIPv6(b, o + 8, end - o - 8, inner, true);
  if (r !== null) return null; // an error about something we cannot read: the engine sees unrelated ICMP
  out.icmp = {type, code, inner, checksumOk: icmpChecksumOk(b, o, ipAt, out)};
  return null;
}

/** Checksum of the ICMP message when it was captured whole; true when it was cut (cannot tell). */
function icmpChecksumOk(b: Uint8Array, o: number, ipAt: number, p: Packet): boolean {
  const msgEnd = ipAt + p.len;
  if (msgEnd > b.length) return true;
  const pseudo = p.af === 6 ? pseudoSum(b, ipAt + 8, 16, IPPROTO_ICMPV6, msgEnd - o) : 0;
  return fold(sum16(b, o, msgEnd - o, pseudo)) === 0xffff;
}
