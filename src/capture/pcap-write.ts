// Writing what the engine saw: each packet rebuilt as raw IP bytes (LINKTYPE_RAW) with the header
// fields the engine reads (addresses, ports, TCP flags, SCTP chunks, ICMP errors with the embedded
// packet), and the IP length the engine counted as the wire length. Payloads are not stored: a
// record holds the headers and says how long the packet was, as a capture with a small snapshot
// length does (ICMP messages are written whole so their checksum can be verified on reading).
// pcapng files carry each packet's direction and verdict as a comment; classic pcap files get the
// drops listed in a text file beside them.
import {closeSync, openSync, writeSync} from 'node:fs';
import {IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP} from '../engine/constants.js';
import type {Packet} from '../engine/types.js';
import {finish, pseudoSum, sum16, write16 as put16} from '../dataplane/checksum.js';
import {putAddr} from '../dataplane/codec.js';
import {LINKTYPE} from './decode.js';

const MAX_HEADER_BYTES = 256;
/** Longest ICMP message written whole (anything longer keeps its first bytes only). */
const MAX_ICMP_BYTES = 1500;

/** Write the IP header at `o`; returns its length. `len` is the IP total length. */
function ipHeader(b: Uint8Array, o: number, p: Packet, len: number): number {
  if (p.af === 4) {
    b[o] = 0x45;
    put16(b, o + 2, Math.min(len, 0xffff));
    put16(b, o + 6, p.df ? 0x4000 : 0);
    b[o + 8] = 64;
    b[o + 9] = p.proto;
    putAddr(b, o + 12, p.src);
    putAddr(b, o + 16, p.dst);
    put16(b, o + 10, finish(sum16(b, o, 20)));
    return 20;
  }
  b[o] = 0x60;
  put16(b, o + 4, Math.max(0, Math.min(len - 40, 0xffff)));
  b[o + 6] = p.proto;
  b[o + 7] = 64;
  putAddr(b, o + 8, p.src);
  putAddr(b, o + 24, p.dst);
  return 40;
}

/** Transport header at `o` (the first `room` bytes of it at most); returns the bytes written. */
function transportHeader(b: Uint8Array, o: number, p: Packet, room: number): number {
  put16(b, o, p.sport);
  put16(b, o + 2, p.dport);
  switch (p.proto) {
    case IPPROTO_TCP:
      if (room < 20) return Math.min(room, 8);
      b[o + 12] = 0x50;
      b[o + 13] = p.tcpFlags & 0x3f;
      put16(b, o + 14, 0xffff);
      return 20;
    case IPPROTO_UDP:
      put16(b, o + 4, Math.max(8, Math.min(room, 0xffff)));
      return 8;
    case IPPROTO_SCTP: {
      if (room < 16) return Math.min(room, 8);
      b[o + 12] = p.sctpChunk;
      put16(b, o + 14, p.sctpChunkLen);
      if (p.sctpNextChunk < 0) return 16;
      // The bundled chunk's header follows the first chunk (padded to 4): keep the bytes between.
      const nextAt = 12 + ((p.sctpChunkLen + 3) & ~3);
      if (nextAt + 4 > MAX_HEADER_BYTES - 60) return 16;
      b.fill(0, o + 16, o + nextAt);
      b[o + nextAt] = p.sctpNextChunk;
      put16(b, o + nextAt + 2, 4);
      return nextAt + 4;
    }
    default:
      return 0;
  }
}

/**
 * Encode `p` as raw IP into `buf`; returns the captured length (the packet's own length is p.len).
 * `buf` must hold MAX_ICMP_BYTES.
 */
export function encodePacket(p: Packet, buf: Uint8Array): number {
  buf.fill(0, 0, MAX_HEADER_BYTES);
  const ip = ipHeader(buf, 0, p, p.len);
  if (p.proto !== IPPROTO_ICMP && p.proto !== IPPROTO_ICMPV6) {
    return ip + transportHeader(buf, ip, p, Math.max(0, p.len - ip));
  }
  const full = Math.min(Math.max(p.len, ip + 8), MAX_ICMP_BYTES);
  buf.fill(0, MAX_HEADER_BYTES, full);
  const icmp = p.icmp;
  buf[ip] = icmp ? icmp.type : p.af === 4 ? 8 : 128; // no error carried: an echo request
  buf[ip + 1] = icmp ? icmp.code : 0;
  let end = ip + 8;
  if (icmp) {
    const inner = icmp.inner;
    const innerIp = ipHeader(buf, end, inner, inner.len);
    end += innerIp + Math.min(8, transportHeader(buf, end + innerIp, inner, 8));
  }
  end = Math.max(end, full);
  // Bytes past `end` are zeros: they add nothing to the sum, whatever the message's length.
  const msgLen = Math.max(8, p.len - ip);
  const pseudo = p.af === 6 ? pseudoSum(buf, 8, 16, IPPROTO_ICMPV6, msgLen) : 0;
  let check = finish(sum16(buf, ip, Math.min(end, ip + msgLen) - ip, pseudo));
  if (icmp && !icmp.checksumOk) check ^= 0x5a5a; // keep a bad checksum bad
  put16(buf, ip + 2, check);
  return end;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export function formatFor(path: string): CaptureFormat {
  return /\.pcapng$/i.test(path) ? 'pcapng' : 'pcap';
}

const FLUSH_AT = 2 ** 20;

/** A capture file being written: packets go through a buffer, flushed at 1 MiB and on close. */
export class CaptureWriter {
  readonly format: CaptureFormat;
  private fd: number | null;
  private buf = Buffer.alloc(FLUSH_AT + 64 * 1024);
  private used = 0;
  private frame = Buffer.alloc(MAX_ICMP_BYTES);
  packets = 0;

  constructor(readonly path: string, format: CaptureFormat = formatFor(path)) {
    this.format = format;
    this.fd = openSync(path, 'w');
    if (format === 'pcap') {
      const h = this.reserve(24);
      h.writeUInt32LE(0xa1b23c4d, 0); // nanosecond stamps
      h.writeUInt16LE(2, 4);
      h.writeUInt16LE(4, 6);
      h.writeUInt32LE(65535, 16);
      h.writeUInt32LE(LINKTYPE.RAW, 20);
    } else {
      const shb = this.reserve(28);
      shb.writeUInt32LE(0x0a0d0d0a, 0);
      shb.writeUInt32LE(28, 4);
      shb.writeUInt32LE(0x1a2b3c4d, 8);
      shb.writeUInt16LE(1, 12);
      shb.writeInt32LE(-1, 16); // section length unknown
      shb.writeInt32LE(-1, 20);
      shb.writeUInt32LE(28, 24);
      const idb = this.reserve(32);
      idb.writeUInt32LE(1, 0);
      idb.writeUInt32LE(32, 4);
      idb.writeUInt16LE(LINKTYPE.RAW, 8);
      idb.writeUInt32LE(65535, 12);
      idb.writeUInt16LE(9, 16); // if_tsresol: 10^-9 s
      idb.writeUInt16LE(1, 18);
      idb[20] = 9;
      idb.writeUInt32LE(32, 28); // (opt_endofopt: the zeros at 24)
    }
  }

  private reserve(n: number): Buffer {
    if (this.used + n > this.buf.length) this.flush();
    if (n > this.buf.length) this.buf = Buffer.alloc(n);
    const out = this.buf.subarray(this.used, this.used + n);
    out.fill(0);
    this.used += n;
    return out;
  }

  private flush(): void {
    if (this.fd === null || this.used === 0) return;
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  /** Add one packet seen at virtual time `tMs`; `comment` goes into pcapng files only. */
  write(tMs: number, p: Packet, comment: string | null): void {
    const capLen = encodePacket(p, this.frame);
    const origLen = Math.max(p.len, capLen);
    // Nanoseconds since the epoch: virtual time written with (almost) all of its precision.
    const ns = Math.max(0, Math.round(tMs * 1e6));
    const sec = Math.floor(ns / 1e9), frac = ns - sec * 1e9;
    this.packets++;
    if (this.format === 'pcap') {
      const r = this.reserve(16 + capLen);
      r.writeUInt32LE(sec >>> 0, 0);
      r.writeUInt32LE(frac, 4);
      r.writeUInt32LE(capLen, 8);
      r.writeUInt32LE(origLen, 12);
      this.frame.copy(r, 16, 0, capLen);
    } else {
      const text = comment === null ? null : Buffer.from(comment.slice(0, 1000), 'utf8');
      const padded = (capLen + 3) & ~3;
      const opts = text ? 4 + ((text.length + 3) & ~3) + 4 : 0;
      const total = 32 + padded + opts;
      const r = this.reserve(total);
      r.writeUInt32LE(6, 0);
      r.writeUInt32LE(total, 4);
      r.writeUInt32LE(0, 8);
      r.writeUInt32LE(Math.floor(ns / 2 ** 32), 12);
      r.writeUInt32LE(ns % 2 ** 32, 16);
      r.writeUInt32LE(capLen, 20);
      r.writeUInt32LE(origLen, 24);
      this.frame.copy(r, 28, 0, capLen);
      if (text) {
        const o = 28 + padded;
        r.writeUInt16LE(1, o); // opt_comment
        r.writeUInt16LE(text.length, o + 2);
        text.copy(r, o + 4);
        // opt_endofopt: the four zero bytes left at the end of the options
      }
      r.writeUInt32LE(total, total - 4);
    }
    if (this.used >= FLUSH_AT) this.flush();
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
