// Packet codec for the data plane: real IPv4/IPv6 bytes <-> the engine's Packet, the NAT rewrites of
// ip_vs_nat_xmit / ip_vs_snat handlers (tcp_dnat_handler, udp_snat_handler, sctp_*_handler in
// ip_vs_proto_*.c) and ip_vs_nat_icmp, and the ICMP errors icmp_send / icmp6_send would build.
// Every read is bounds-checked: a malformed packet yields a reason string, never an exception.
import {type Addr, type Af, formatIPv6Groups, parseIPv6Groups} from '../engine/addr.js';
import {IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP} from '../engine/constants.js';
import {emptyPacket} from '../engine/packet.js';
import type {IcmpInfo, Packet} from '../engine/types.js';
import {
  csumReplace, csumReplace16, finish, fold, pseudoSum, read16, readSctpChecksum, sctpChecksum, sum16, write16,
  writeSctpChecksum,
} from './checksum.js';

/** Why a packet could not be parsed; the data plane counts and drops these. */
export type MalformedReason =
  | 'truncated' | 'bad-version' | 'bad-header-length' | 'bad-ip-checksum' | 'bad-total-length'
  | 'fragment' | 'bad-extension-header' | 'bad-l4-header';

/** A parsed packet: the engine's view plus the offsets the rewrites need. Reused between packets. */
export interface Frame {
  buf: Uint8Array;
  /** Bytes of the IP packet (its total length; trailing bytes of the read are ignored). */
  len: number;
  af: Af;
  /** IPv4: IP header length; IPv6: 40 + extension headers. */
  l4Off: number;
  proto: number;
  /** ICMP errors whose quote parsed: offsets of the embedded IP header and its transport header. */
  innerOff: number;
  innerL4Off: number;
  pkt: Packet;
}

export function newFrame(): Frame {
  const inner = emptyPacket();
  const pkt = emptyPacket();
  const frame: Frame = {buf: new Uint8Array(0), len: 0, af: 4, l4Off: 0, proto: 0, innerOff: -1, innerL4Off: -1, pkt};
  icmpInfoOf.set(frame, {type: 0, code: 0, inner, checksumOk: true});
  return frame;
}

// One IcmpInfo per frame, attached to pkt.icmp only for ICMP errors.
const icmpInfoOf = new WeakMap<Frame, IcmpInfo>();

const V6_EXT_HOP = 0, V6_EXT_ROUTING = 43, V6_EXT_FRAGMENT = 44, V6_EXT_DSTOPTS = 60;

function v4Addr(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** The IPv6 address at off, in the engine's text form. */
export function v6Addr(b: Uint8Array, off: number): string {
  const g = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
  return formatIPv6Groups(g);
}

/** Write an address's bytes (4 or 16) at off. */
export function putAddr(b: Uint8Array, off: number, a: Addr): void {
  if (typeof a === 'number') {
    b[off] = a >>> 24; b[off + 1] = (a >>> 16) & 255; b[off + 2] = (a >>> 8) & 255; b[off + 3] = a & 255;
    return;
  }
  const g = parseIPv6Groups(a);
  if (!g) throw new Error(`not an IPv6 address: ${a}`);
  for (let i = 0; i < 8; i++) write16(b, off + 2 * i, g[i]!);
}

interface L3 {af: Af; hdrLen: number; proto: number; totalLen: number; fragment: boolean; firstFragment: boolean}

/**
 * The IP header at off (limit = bytes available). For an embedded quote `quoted` relaxes the
 * total-length check (the quote is cut) and skips the header checksum (icmp_rcv does not check it).
 */
function parseL3(b: Uint8Array, off: number, limit: number, quoted: boolean): L3 | MalformedReason {
  if (limit < 1) return 'truncated';
  const version = b[off]! >>> 4;
  if (version === 4) {
    if (limit < 20) return 'truncated';
    const ihl = (b[off]! & 15) * 4;
    if (ihl < 20) return 'bad-header-length';
    if (limit < ihl) return 'truncated';
    const totalLen = read16(b, off + 2);
    if (totalLen < ihl) return 'bad-total-length';
    if (!quoted) {
      if (totalLen > limit) return 'bad-total-length';
      if (fold(sum16(b, off, ihl)) !== 0xffff) return 'bad-ip-checksum';
    }
    const fragWord = read16(b, off + 6);
    const offset = fragWord & 0x1fff, more = (fragWord & 0x2000) !== 0;
    return {af: 4, hdrLen: ihl, proto: b[off + 9]!, totalLen, fragment: more || offset !== 0, firstFragment: offset === 0};
  }
  if (version === 6) {
    if (limit < 40) return 'truncated';
    const totalLen = 40 + read16(b, off + 4);
    if (!quoted && totalLen > limit) return 'bad-total-length';
    // Walk the extension headers the kernel's ipv6_find_hdr walks for IPVS (hop-by-hop, routing,
    // destination options); a fragment header means a fragment IPVS would see only reassembled.
    let next = b[off + 6]!, pos = off + 40, fragment = false, firstFragment = true;
    const end = off + Math.min(limit, totalLen);
    for (let hops = 0; hops < 8; hops++) {
      if (next === V6_EXT_HOP || next === V6_EXT_ROUTING || next === V6_EXT_DSTOPTS) {
        if (pos + 8 > end) return quoted ? 'truncated' : 'bad-extension-header';
        const n = b[pos]!;
        pos += (b[pos + 1]! + 1) * 8;
        next = n;
        continue;
      }
      if (next === V6_EXT_FRAGMENT) {
        if (pos + 8 > end) return quoted ? 'truncated' : 'bad-extension-header';
        const w = read16(b, pos + 2);
        fragment = true;
        firstFragment = (w & 0xfff8) === 0;
        next = b[pos]!;
        pos += 8;
        continue;
      }
      break;
    }
    if (pos > end) return 'bad-extension-header';
    return {af: 6, hdrLen: pos - off, proto: next, totalLen, fragment, firstFragment};
  }
  return 'bad-version';
}

function isIcmpError(af: Af, type: number): boolean {
  // ip_vs_in_icmp / ip_vs_in_icmp_v6: destination unreachable, source quench, time exceeded (v4);
  // every ICMPv6 error (types below 128).
  return af === 4 ? type === 3 || type === 4 || type === 11 : type < 128;
}

function fillAddrs(p: Packet, b: Uint8Array, off: number, af: Af): void {
  if (af === 4) {
    p.src = v4Addr(b, off + 12);
    p.dst = v4Addr(b, off + 16);
  } else {
    p.src = v6Addr(b, off + 8);
    p.dst = v6Addr(b, off + 24);
  }
}

/** Parse `n` bytes of `buf` into `f`. Returns null when the packet is usable, else why it is not. */
export function parsePacket(buf: Uint8Array, n: number, f: Frame): MalformedReason | null {
  const l3 = parseL3(buf, 0, Math.min(n, buf.length), false);
  if (typeof l3 === 'string') return l3;
  // IPVS sees reassembled packets (nf_defrag); we do not reassemble, so fragments are refused.
  if (l3.fragment) return 'fragment';
  const p = f.pkt;
  f.buf = buf;
  f.len = l3.totalLen;
  f.af = l3.af;
  f.l4Off = l3.hdrLen;
  f.proto = l3.proto;
  f.innerOff = -1;
  f.innerL4Off = -1;
  p.af = l3.af;
  p.proto = l3.proto;
  fillAddrs(p, buf, 0, l3.af);
  p.len = l3.totalLen;
  p.df = l3.af === 6 || (buf[6]! & 0x40) !== 0;
  p.fwmark = 0;
  p.sport = 0; p.dport = 0; p.tcpFlags = 0; p.icmp = null;
  p.sctpChunk = 0; p.sctpChunkLen = 0; p.sctpNextChunk = -1;
  return parseL4(buf, l3.hdrLen, l3.totalLen, l3.proto, p, f);
}

/** Transport header at off (end = end of the IP packet); fills ports, flags, chunks, ICMP. */
function parseL4(b: Uint8Array, off: number, end: number, proto: number, p: Packet, f: Frame | null): MalformedReason | null {
  const avail = end - off;
  switch (proto) {
    case IPPROTO_TCP: {
      if (avail < 20) return 'bad-l4-header';
      const doff = (b[off + 12]! >>> 4) * 4;
      if (doff < 20 || doff > avail) return 'bad-l4-header';
      p.sport = read16(b, off);
      p.dport = read16(b, off + 2);
      p.tcpFlags = b[off + 13]!;
      return null;
    }
    case IPPROTO_UDP: {
      if (avail < 8) return 'bad-l4-header';
      const ulen = read16(b, off + 4);
      if (ulen < 8 || ulen > avail) return 'bad-l4-header';
      p.sport = read16(b, off);
      p.dport = read16(b, off + 2);
      return null;
    }
    case IPPROTO_SCTP: {
      if (avail < 12) return 'bad-l4-header';
      p.sport = read16(b, off);
      p.dport = read16(b, off + 2);
      // First chunk (type, length) and the type of a bundled second chunk, as sctp_state_transition reads them.
      if (avail >= 16) {
        p.sctpChunk = b[off + 12]!;
        const clen = read16(b, off + 14);
        if (clen < 4) return 'bad-l4-header';
        p.sctpChunkLen = clen;
        const next = off + 12 + ((clen + 3) & ~3);
        p.sctpNextChunk = next + 4 <= end ? b[next]! : -1;
      } else {
        p.sctpChunk = -1;
        p.sctpChunkLen = 0;
      }
      return null;
    }
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: {
      if (avail < 8) return 'bad-l4-header';
      if (!f) return null;
      p.sport = 0; p.dport = 0;
      const type = b[off]!, code = b[off + 1]!;
      if (!isIcmpError(f.af, type) || (f.af === 4) !== (proto === IPPROTO_ICMP)) return null;
      const info = icmpInfoOf.get(f)!;
      info.type = type;
      info.code = code;
      info.checksumOk = icmpChecksumOk(f, b, off, avail);
      // The quote: an IP header and at least the 8 bytes that carry the ports; else not IPVS-related.
      const inner = info.inner;
      const l3 = parseL3(b, off + 8, avail - 8, true);
      if (typeof l3 === 'string' || !l3.firstFragment || off + 8 + l3.hdrLen + 8 > end) return null;
      inner.af = l3.af;
      inner.proto = l3.proto;
      fillAddrs(inner, b, off + 8, l3.af);
      inner.len = l3.totalLen;
      inner.df = l3.af === 6 || (b[off + 8 + 6]! & 0x40) !== 0;
      inner.fwmark = 0;
      inner.sport = read16(b, off + 8 + l3.hdrLen);
      inner.dport = read16(b, off + 8 + l3.hdrLen + 2);
      inner.tcpFlags = l3.proto === IPPROTO_TCP && off + 8 + l3.hdrLen + 14 <= end ? b[off + 8 + l3.hdrLen + 13]! : 0;
      inner.sctpChunk = -1; inner.sctpChunkLen = 0; inner.sctpNextChunk = -1;
      inner.icmp = null;
      f.innerOff = off + 8;
      f.innerL4Off = off + 8 + l3.hdrLen;
      p.icmp = info;
      return null;
    }
    default:
      return null;
  }
}

function icmpChecksumOk(f: Frame, b: Uint8Array, off: number, len: number): boolean {
  const s = f.af === 4 ? sum16(b, off, len) : pseudoSum(b, 8, 16, IPPROTO_ICMPV6, len) + sum16(b, off, len);
  return fold(s) === 0xffff;
}

// =====================================================================================
// NAT rewrites
// =====================================================================================

const scratchOld = new Uint8Array(16);
const scratchNew = new Uint8Array(16);

function addrLen(af: Af): 4 | 16 {
  return af === 4 ? 4 : 16;
}

/** Transport checksum offset for an address/port change, or -1 (SCTP: CRC, done apart). */
function l4CsumOff(proto: number, l4Off: number): number {
  if (proto === IPPROTO_TCP) return l4Off + 16;
  if (proto === IPPROTO_UDP) return l4Off + 6;
  return -1;
}

/** Replace the address at addrOff (IP header checksum for v4, pseudo-header sum of L4 when csumOff >= 0). */
function replaceAddr(f: Frame, addrOff: number, a: Addr, ipHdrOff: number, csumOff: number, udp: boolean): void {
  const b = f.buf, n = addrLen(f.af);
  const old = scratchOld.subarray(0, n), next = scratchNew.subarray(0, n);
  old.set(b.subarray(addrOff, addrOff + n));
  putAddr(next, 0, a);
  b.set(next, addrOff);
  if (f.af === 4 && ipHdrOff >= 0) csumReplace(b, ipHdrOff + 10, old, next);
  if (csumOff >= 0) csumReplace(b, csumOff, old, next, udp);
}

function replacePort(f: Frame, portOff: number, port: number, csumOff: number, udp: boolean): boolean {
  const old = read16(f.buf, portOff);
  if (old === port) return false;
  write16(f.buf, portOff, port);
  if (csumOff >= 0) csumReplace16(f.buf, csumOff, old, port, udp);
  return true;
}

function fixSctp(f: Frame): void {
  const len = f.len - f.l4Off;
  writeSctpChecksum(f.buf, f.l4Off, sctpChecksum(f.buf, f.l4Off, len));
}

/** Whether an SCTP packet's CRC32c verifies (sctp_csum_check). */
export function sctpChecksumOk(f: Frame): boolean {
  return readSctpChecksum(f.buf, f.l4Off) === sctpChecksum(f.buf, f.l4Off, f.len - f.l4Off);
}

/** Inbound NAT (ip_vs_nat_xmit + *_dnat_handler): destination becomes the real server. */
export function rewriteDestination(f: Frame, addr: Addr, port: number): void {
  const csumOff = l4CsumOff(f.proto, f.l4Off), udp = f.proto === IPPROTO_UDP && f.af === 4;
  replaceAddr(f, f.af === 4 ? 16 : 24, addr, 0, csumOff, udp);
  const portChanged = replacePort(f, f.l4Off + 2, port, csumOff, udp);
  if (f.proto === IPPROTO_SCTP && portChanged) fixSctp(f);
  f.pkt.dst = addr;
  f.pkt.dport = port;
}

/** Outbound NAT (ip_vs_out's handle_response + *_snat_handler): source becomes the virtual service. */
export function rewriteSource(f: Frame, addr: Addr, port: number): void {
  const csumOff = l4CsumOff(f.proto, f.l4Off), udp = f.proto === IPPROTO_UDP && f.af === 4;
  replaceAddr(f, f.af === 4 ? 12 : 8, addr, 0, csumOff, udp);
  const portChanged = replacePort(f, f.l4Off, port, csumOff, udp);
  if (f.proto === IPPROTO_SCTP && portChanged) fixSctp(f);
  f.pkt.src = addr;
  f.pkt.sport = port;
}

/** The full ICMP/ICMPv6 checksum of the message at l4Off (ip_vs_checksum_complete after ip_vs_nat_icmp). */
function recomputeIcmp(f: Frame): void {
  const b = f.buf, off = f.l4Off, len = f.len - off;
  write16(b, off + 2, 0);
  const s = f.af === 4 ? sum16(b, off, len) : pseudoSum(b, 8, 16, IPPROTO_ICMPV6, len) + sum16(b, off, len);
  write16(b, off + 2, finish(s));
}

/**
 * ip_vs_nat_icmp / ip_vs_nat_icmp_v6 for an ICMP error about a connection. inbound (client -> VIP):
 * outer destination and the quote's source address and port become the real server's; outbound
 * (real server -> client): outer source and the quote's destination become the virtual service's.
 * As in the kernel, the quoted transport checksum is left alone (it is cut anyway) and the ICMP
 * checksum is computed again over the whole message.
 */
export function natIcmp(f: Frame, inbound: boolean, addr: Addr, port: number): void {
  if (f.innerOff < 0) return;
  const b = f.buf, n = addrLen(f.af);
  const innerAddrOff = f.innerOff + (f.af === 4 ? (inbound ? 12 : 16) : (inbound ? 8 : 24));
  putAddr(b, innerAddrOff, addr);
  if (f.af === 4) {
    // The quoted IP header's checksum covers the quoted address: recompute it (ip_send_check(ciph)).
    const ihl = (b[f.innerOff]! & 15) * 4;
    write16(b, f.innerOff + 10, 0);
    write16(b, f.innerOff + 10, finish(sum16(b, f.innerOff, ihl)));
  }
  const innerProto = f.pkt.icmp!.inner.proto;
  if (innerProto === IPPROTO_TCP || innerProto === IPPROTO_UDP || innerProto === IPPROTO_SCTP) {
    write16(b, f.innerL4Off + (inbound ? 0 : 2), port);
  }
  const outerOff = f.af === 4 ? (inbound ? 16 : 12) : (inbound ? 24 : 8);
  const old = scratchOld.subarray(0, n), next = scratchNew.subarray(0, n);
  old.set(b.subarray(outerOff, outerOff + n));
  putAddr(next, 0, addr);
  b.set(next, outerOff);
  if (f.af === 4) csumReplace(b, 10, old, next);
  recomputeIcmp(f);
  if (inbound) f.pkt.dst = addr;
  else f.pkt.src = addr;
}

// =====================================================================================
// Packets the director originates
// =====================================================================================

/** Largest ICMP error: 576 bytes for IPv4 (icmp_send), the IPv6 minimum MTU for ICMPv6 (icmp6_send). */
const ICMP4_MAX = 576, ICMP6_MAX = 1280;
let ipId = 1;

/**
 * An ICMP error about the packet in `f`, as icmp_send / icmp6_send build it: sent from `from` to
 * the packet's source, quoting as much of the packet as fits. `info` is the 32-bit rest-of-header
 * word (next-hop MTU for "fragmentation needed" / "packet too big"). Returns the length written
 * into out, or 0 when the kernel would not send one (an ICMP error about an ICMP error, a
 * multicast or unspecified source).
 */
export function buildIcmpError(f: Frame, type: number, code: number, info: number, from: Addr, out: Uint8Array): number {
  const p = f.pkt;
  if (p.icmp) return 0;
  if (f.af === 4) {
    const src = p.src as number;
    if (src === 0 || src >>> 28 === 14 || src === 0xffffffff) return 0;
    const quote = Math.min(f.len, ICMP4_MAX - 28);
    const total = 28 + quote;
    if (out.length < total) return 0;
    out[0] = 0x45;
    out[1] = (f.buf[1]! & 0x1e) | 0xc0; // IPTOS_PREC_INTERNETCONTROL
    write16(out, 2, total);
    write16(out, 4, ipId = (ipId + 1) & 0xffff);
    write16(out, 6, 0);
    out[8] = 64;
    out[9] = IPPROTO_ICMP;
    write16(out, 10, 0);
    putAddr(out, 12, from);
    putAddr(out, 16, src);
    write16(out, 10, finish(sum16(out, 0, 20)));
    out[20] = type; out[21] = code;
    write16(out, 22, 0);
    write16(out, 24, (info >>> 16) & 0xffff);
    write16(out, 26, info & 0xffff);
    out.set(f.buf.subarray(0, quote), 28);
    write16(out, 22, finish(sum16(out, 20, 8 + quote)));
    return total;
  }
  const src = p.src as string;
  if (src === '::' || src.startsWith('ff')) return 0;
  const quote = Math.min(f.len, ICMP6_MAX - 48);
  const total = 48 + quote;
  if (out.length < total) return 0;
  out[0] = 0x60; out[1] = 0; out[2] = 0; out[3] = 0;
  write16(out, 4, 8 + quote);
  out[6] = IPPROTO_ICMPV6;
  out[7] = 64;
  putAddr(out, 8, from);
  putAddr(out, 24, src);
  out[40] = type; out[41] = code;
  write16(out, 42, 0);
  write16(out, 44, (info >>> 16) & 0xffff);
  write16(out, 46, info & 0xffff);
  out.set(f.buf.subarray(0, quote), 48);
  write16(out, 42, finish(pseudoSum(out, 8, 16, IPPROTO_ICMPV6, 8 + quote) + sum16(out, 40, 8 + quote)));
  return total;
}

/**
 * The reset a local TCP stack sends for a segment to a port nobody listens on (tcp_v4_send_reset):
 * with ACK set, seq = the segment's ack; else seq 0 and ack = seq + length (+1 for SYN and FIN).
 * Returns 0 for a segment that is itself a reset.
 */
export function buildTcpReset(f: Frame, out: Uint8Array): number {
  const b = f.buf, t = f.l4Off, p = f.pkt;
  if (p.proto !== IPPROTO_TCP || p.tcpFlags & 0x04) return 0;
  const hdr = f.af === 4 ? 20 : 40, total = hdr + 20;
  if (out.length < total) return 0;
  out.fill(0, 0, total);
  if (f.af === 4) {
    out[0] = 0x45;
    write16(out, 2, total);
    write16(out, 6, 0x4000);
    out[8] = 64;
    out[9] = IPPROTO_TCP;
    out.set(b.subarray(16, 20), 12);
    out.set(b.subarray(12, 16), 16);
    write16(out, 10, finish(sum16(out, 0, 20)));
  } else {
    out[0] = 0x60;
    write16(out, 4, 20);
    out[6] = IPPROTO_TCP;
    out[7] = 64;
    out.set(b.subarray(24, 40), 8);
    out.set(b.subarray(8, 24), 24);
  }
  write16(out, hdr, p.dport);
  write16(out, hdr + 2, p.sport);
  const seq = ((b[t + 4]! << 24) | (b[t + 5]! << 16) | (b[t + 6]! << 8) | b[t + 7]!) >>> 0;
  const payload = f.len - t - (b[t + 12]! >>> 4) * 4;
  if (p.tcpFlags & 0x10) {
    out.set(b.subarray(t + 8, t + 12), hdr + 4);
    out[hdr + 13] = 0x04;
  } else {
    const ack = (seq + payload + (p.tcpFlags & 0x02 ? 1 : 0) + (p.tcpFlags & 0x01 ? 1 : 0)) >>> 0;
    out[hdr + 8] = ack >>> 24; out[hdr + 9] = (ack >>> 16) & 255; out[hdr + 10] = (ack >>> 8) & 255; out[hdr + 11] = ack & 255;
    out[hdr + 13] = 0x14;
  }
  out[hdr + 12] = 5 << 4;
  const s = pseudoSum(out, f.af === 4 ? 12 : 8, addrLen(f.af), IPPROTO_TCP, 20) + sum16(out, hdr, 20);
  write16(out, hdr + 16, finish(s));
  return total;
}

/** Whether a transport checksum over the packet verifies (tests; the rewrite path never needs it). */
export function l4ChecksumOk(f: Frame): boolean {
  const len = f.len - f.l4Off;
  if (f.proto === IPPROTO_SCTP) return sctpChecksumOk(f);
  if (f.proto === IPPROTO_UDP && f.af === 4 && read16(f.buf, f.l4Off + 6) === 0) return true;
  const proto = f.proto;
  const pseudo = f.proto === IPPROTO_ICMP ? 0 : pseudoSum(f.buf, f.af === 4 ? 12 : 8, addrLen(f.af), proto, len);
  return fold(pseudo + sum16(f.buf, f.l4Off, len)) === 0xffff;
}

/** Whether the IPv4 header checksum verifies (always true for IPv6, which has none). */
export function ipChecksumOk(f: Frame): boolean {
  return f.af === 6 || fold(sum16(f.buf, 0, f.l4Off)) === 0xffff;
}
