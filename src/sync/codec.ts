// Byte layouts of the IPVS sync protocol (ip_vs_sync.c: struct ip_vs_sync_conn_v0,
// struct ip_vs_sync_v4/v6, struct ip_vs_sync_mesg) and the receive checks of
// ip_vs_process_message / ip_vs_process_message_v0:
// version 0 (legacy, IPv4 only, 4-byte header, 24/48-byte entries, sequence data in host order)
// and version 1 (8-byte header, 36/72-byte entries with options, 4-byte aligned).
//
// Encoding is for well-formed entries (it throws SyncEncodeError on what a director could never
// send). Decoding takes any bytes, never throws, and classifies every entry exactly as
// ip_vs_process_message / ip_vs_proc_sync_conn / ip_vs_process_message_v0 do: applied, skipped
// (that entry only), or "stop" (that entry and the rest of the datagram dropped).
import {type Addr, formatIPv6Groups, ipv6Words} from '../engine/addr.js';
import {CONN_F, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP} from '../engine/constants.js';
import {SCTP_STATE} from '../engine/proto/sctp.js';
import {TCP_STATE} from '../engine/proto/tcp.js';
import {UDP_STATE} from '../engine/proto/udp.js';
import type {SyncConn, SyncSeq} from '../engine/sync-conn.js';

export type {SyncConn, SyncSeq};

/** SYNC_PROTO_VER: the version byte of a version 1 header. */
export const SYNC_PROTO_VER = 1;
export const V0_HEADER = 4;
export const V1_HEADER = 8;
/** SIMPLE_CONN_SIZE / FULL_CONN_SIZE of version 0. */
export const V0_SIMPLE_CONN = 24;
export const V0_FULL_CONN = 48;
/** Fixed parts of struct ip_vs_sync_v4 / ip_vs_sync_v6. */
export const V1_V4_CONN = 36;
export const V1_V6_CONN = 72;
/** struct ip_vs_sync_conn_options: two struct ip_vs_seq of three u32. */
export const SEQ_OPTIONS_SIZE = 24;
export const STYPE_F_INET6 = 1;
export const SVER_SHIFT = 12;
export const SVER_MASK = 0x0fff;
export const OPT = {SEQ_DATA: 1, PE_DATA: 2, PE_NAME: 3, F_PARAM: 0x40} as const;
/** IP_VS_PEDATA_MAXLEN / IP_VS_PENAME_MAXLEN. */
export const PEDATA_MAXLEN = 255;
export const PENAME_MAXLEN = 16;
/** Persistence engines the kernel (and so the backup) knows. */
export const KNOWN_PES: readonly string[] = ['sip'];

/**
 * Protocols the backup accepts for normal entries, with their number of states (pp->num_states).
 * The kernel also knows AH and ESP (one state each); the engine does not model them, so entries of
 * those protocols are skipped as unsupported.
 */
export const SYNC_PROTO_STATES: ReadonlyMap<number, number> = new Map([
  [IPPROTO_TCP, TCP_STATE.LAST], [IPPROTO_UDP, UDP_STATE.LAST], [IPPROTO_SCTP, SCTP_STATE.LAST],
]);
/** IP_VS_CTPL_S_LAST: template states at or above it are accepted but only logged. */
export const CTPL_S_LAST = 2;

export class SyncEncodeError extends Error {}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

function hasSeq(c: SyncConn): boolean {
  return (c.flags & CONN_F.SEQ_MASK) !== 0;
}

function peNameBytes(c: SyncConn): Uint8Array {
  if (!c.peData || c.peData.length === 0 || !c.peName) return new Uint8Array(0);
  const b = new TextEncoder().encode(c.peName);
  return b.subarray(0, Math.min(b.length, PENAME_MAXLEN)); // strnlen(name, IP_VS_PENAME_MAXLEN)
}

/** Entry length (ver_size) of a version 1 entry: fixed part + options. */
export function v1EntryLength(c: SyncConn): number {
  let len = c.af === 6 ? V1_V6_CONN : V1_V4_CONN;
  if (hasSeq(c)) len += SEQ_OPTIONS_SIZE + 2;
  if (c.peData && c.peData.length) {
    len += c.peData.length + 2;
    const name = peNameBytes(c);
    if (name.length) len += name.length + 2;
  }
  return len;
}

export function v0EntryLength(c: SyncConn): number {
  return hasSeq(c) ? V0_FULL_CONN : V0_SIMPLE_CONN;
}

function putAddr4(dv: DataView, off: number, a: Addr): void {
  if (typeof a !== 'number') throw new SyncEncodeError(`IPv6 address ${a} in an IPv4 entry`);
  dv.setUint32(off, a >>> 0);
}

/** An IPv6 address field; a number (the mark of an IPv6 fwmark template) fills the first word. */
function putAddr6(dv: DataView, off: number, a: Addr): void {
  const w = typeof a === 'number' ? [a >>> 0, 0, 0, 0] : ipv6Words(a);
  for (let k = 0; k < 4; k++) dv.setUint32(off + 4 * k, w[k]!);
}

function putSeq(dv: DataView, off: number, s: SyncSeq | undefined, little: boolean): void {
  dv.setUint32(off, (s?.initSeq ?? 0) >>> 0, little);
  dv.setUint32(off + 4, (s?.delta ?? 0) >>> 0, little);
  dv.setUint32(off + 8, (s?.previousDelta ?? 0) >>> 0, little);
}

function checkPorts(c: SyncConn): void {
  for (const p of [c.cport, c.vport, c.dport]) {
    if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new SyncEncodeError(`bad port ${p}`);
  }
  if (c.peData && c.peData.length > PEDATA_MAXLEN) throw new SyncEncodeError(`PE data longer than ${PEDATA_MAXLEN} bytes`);
}

/** Write a version 1 entry at `off` (no padding); returns its length. */
export function writeV1Entry(buf: Uint8Array, off: number, c: SyncConn): number {
  checkPorts(c);
  const len = v1EntryLength(c);
  if (off + len > buf.length) throw new SyncEncodeError('entry does not fit the buffer');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint8(off, c.af === 6 ? STYPE_F_INET6 : 0);
  dv.setUint8(off + 1, c.proto & 0xff);
  dv.setUint16(off + 2, len & SVER_MASK); // format version 0 in the top 4 bits
  dv.setUint32(off + 4, c.flags >>> 0);
  dv.setUint16(off + 8, c.state & 0xffff);
  dv.setUint16(off + 10, c.cport);
  dv.setUint16(off + 12, c.vport);
  dv.setUint16(off + 14, c.dport);
  dv.setUint32(off + 16, c.fwmark >>> 0);
  dv.setUint32(off + 20, c.timeout >>> 0);
  let p: number;
  if (c.af === 6) {
    putAddr6(dv, off + 24, c.caddr);
    putAddr6(dv, off + 40, c.vaddr);
    putAddr6(dv, off + 56, c.daddr);
    p = off + V1_V6_CONN;
  } else {
    putAddr4(dv, off + 24, c.caddr);
    putAddr4(dv, off + 28, c.vaddr);
    putAddr4(dv, off + 32, c.daddr);
    p = off + V1_V4_CONN;
  }
  if (hasSeq(c)) {
    buf[p++] = OPT.SEQ_DATA;
    buf[p++] = SEQ_OPTIONS_SIZE;
    putSeq(dv, p, c.inSeq, false);
    putSeq(dv, p + 12, c.outSeq, false);
    p += SEQ_OPTIONS_SIZE;
  }
  if (c.peData && c.peData.length) {
    buf[p++] = OPT.PE_DATA;
    buf[p++] = c.peData.length;
    buf.set(c.peData, p);
    p += c.peData.length;
    const name = peNameBytes(c);
    if (name.length) {
      buf[p++] = OPT.PE_NAME;
      buf[p++] = name.length;
      buf.set(name, p);
      p += name.length;
    }
  }
  return len;
}

/**
 * Write a version 0 entry at `off`; returns its length. Only the low 16 bits of flags go out;
 * sequence data is copied in host byte order (little-endian, as on x86) unless told otherwise.
 */
export function writeV0Entry(buf: Uint8Array, off: number, c: SyncConn, seqLittleEndian = true): number {
  if (c.af !== 4) throw new SyncEncodeError('version 0 carries IPv4 entries only');
  checkPorts(c);
  const len = v0EntryLength(c);
  if (off + len > buf.length) throw new SyncEncodeError('entry does not fit the buffer');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint8(off, 0);
  dv.setUint8(off + 1, c.proto & 0xff);
  dv.setUint16(off + 2, c.cport);
  dv.setUint16(off + 4, c.vport);
  dv.setUint16(off + 6, c.dport);
  putAddr4(dv, off + 8, c.caddr);
  putAddr4(dv, off + 12, c.vaddr);
  putAddr4(dv, off + 16, c.daddr);
  dv.setUint16(off + 20, c.flags & 0xffff);
  dv.setUint16(off + 22, c.state & 0xffff);
  if (len === V0_FULL_CONN) {
    putSeq(dv, off + 24, c.inSeq, seqLittleEndian);
    putSeq(dv, off + 36, c.outSeq, seqLittleEndian);
  }
  return len;
}

/** One complete version 1 message (header, entries, 0-3 zero bytes before each unaligned entry). */
export function encodeV1Message(syncId: number, entries: readonly SyncConn[]): Uint8Array {
  let size = V1_HEADER;
  for (const c of entries) size += ((4 - (size & 3)) & 3) + v1EntryLength(c);
  if (size > 0xffff) throw new SyncEncodeError(`message of ${size} bytes exceeds 65535`);
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setUint8(0, 0);
  dv.setUint8(1, syncId & 0xff);
  dv.setUint16(2, size);
  dv.setUint8(4, entries.length & 0xff);
  dv.setUint8(5, SYNC_PROTO_VER);
  dv.setUint16(6, 0);
  let off = V1_HEADER;
  for (const c of entries) {
    off += (4 - (off & 3)) & 3;
    off += writeV1Entry(buf, off, c);
  }
  return buf;
}

/** One complete version 0 message. */
export function encodeV0Message(syncId: number, entries: readonly SyncConn[], seqLittleEndian = true): Uint8Array {
  let size = V0_HEADER;
  for (const c of entries) size += v0EntryLength(c);
  if (size > 0xffff) throw new SyncEncodeError(`message of ${size} bytes exceeds 65535`);
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setUint8(0, entries.length & 0xff);
  dv.setUint8(1, syncId & 0xff);
  dv.setUint16(2, size);
  let off = V0_HEADER;
  for (const c of entries) off += writeV0Entry(buf, off, c, seqLittleEndian);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Decoding and the receive checks
// ---------------------------------------------------------------------------------------------

/** Whole datagram ignored (§5.6 checks 1-3). */
/** 'sender': not in the backup's allowed-peer list (an lvsdeck addition; the kernel has no such check). */
export type MessageRejectReason = 'too-short' | 'size-mismatch' | 'syncid' | 'sender';

/** The entry and everything after it in the datagram dropped. */
export type EntryStopReason =
  | 'v1-too-small' // fewer than 36 bytes left
  | 'v1-exceeds-message' // entry length runs past the datagram
  | 'v1-entry-version' // format version nibble not 0
  | 'v1-bad-type' // type neither 0 nor IPv6 (-10)
  | 'v1-entry-too-short' // length below the fixed part (-20)
  | 'v1-option-truncated' // option header cut off (-30)
  | 'v1-option-length' // zero length or data past the entry (-40)
  | 'v1-seq-option' // sequence option not 24 bytes, or twice (-50)
  | 'v1-pe-data-option' // PE data twice (-60)
  | 'v1-pe-name-option' // PE name longer than 16, or twice (-70)
  | 'v0-truncated' // fewer than 24 bytes left
  | 'v0-truncated-options'; // sequence data cut off

/** That entry alone skipped. */
export type EntrySkipReason =
  | 'unknown-mandatory-option' // option type without IPVS_OPT_F_PARAM (20)
  | 'unsupported-protocol' // (30)
  | 'invalid-state' // state >= the protocol's number of states (40)
  | 'pe-without-name' // PE data but no PE name (50)
  | 'unknown-pe'; // PE name not registered (50)

export interface DecodedEntry {
  index: number;
  /** Offset of the entry in the datagram. */
  offset: number;
  /** Entry length: v1 ver_size length, v0 24 or 48. */
  length: number;
  conn: SyncConn;
  /** Effective flags for the backup: v1 (flags & BACKUP_MASK) | SYNC; v0 (flags | SYNC) & ~HASHED. */
  flags: number;
  status: 'ok' | 'skip';
  reason?: EntrySkipReason;
  /** Optional (0x40) options that were ignored, by type byte. */
  ignoredOptions?: number[];
  /** Template state >= IP_VS_CTPL_S_LAST: accepted, only logged. */
  oddTemplateState?: boolean;
}

export interface DecodedMessage {
  ok: boolean;
  reject?: MessageRejectReason;
  /** null when the datagram was too short to tell. */
  version: 0 | 1 | null;
  syncId: number;
  /** Header size field. */
  size: number;
  nrConns: number;
  length: number;
  entries: DecodedEntry[];
  stop?: {index: number; offset: number; reason: EntryStopReason};
}

export interface DecodeOptions {
  /** The backup's syncid: 0 accepts every message. */
  syncId?: number;
  /** Version 0 sequence data byte order (the master's host order): little-endian by default. */
  v0SeqLittleEndian?: boolean;
}

function readAddr6(dv: DataView, off: number): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push(dv.getUint16(off + 2 * k));
  return formatIPv6Groups(g);
}

function readSeq(dv: DataView, off: number, little: boolean): SyncSeq {
  return {
    initSeq: dv.getUint32(off, little),
    delta: dv.getUint32(off + 4, little),
    previousDelta: dv.getUint32(off + 8, little),
  };
}

/** Protocol / state checks shared by both versions (pp lookup, num_states, template states). */
function checkProtoState(e: DecodedEntry): void {
  if (e.flags & CONN_F.TEMPLATE) {
    if (e.conn.state >= CTPL_S_LAST) e.oddTemplateState = true;
    return;
  }
  const n = SYNC_PROTO_STATES.get(e.conn.proto);
  if (n === undefined) {
    e.status = 'skip';
    e.reason = 'unsupported-protocol';
  } else if (e.conn.state >= n) {
    e.status = 'skip';
    e.reason = 'invalid-state';
  }
}

/** C string semantics of the PE name lookup: the name ends at the first NUL byte. */
function cString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  let s = '';
  for (const ch of nul >= 0 ? b.subarray(0, nul) : b) s += String.fromCharCode(ch);
  return s;
}

type EntryResult = {stop: EntryStopReason} | {entry: DecodedEntry};

/** ip_vs_proc_sync_conn: one version 1 entry between `p` and `end` (end = p + entry length). */
function decodeV1Entry(buf: Uint8Array, dv: DataView, p: number, end: number, index: number): EntryResult {
  const type = buf[p]!;
  let af: 4 | 6;
  let q: number;
  if (type & STYPE_F_INET6) {
    af = 6;
    q = p + V1_V6_CONN;
  } else if (type === 0) {
    af = 4;
    q = p + V1_V4_CONN;
  } else {
    return {stop: 'v1-bad-type'};
  }
  if (q > end) return {stop: 'v1-entry-too-short'};
  const conn: SyncConn = {
    af,
    proto: buf[p + 1]!,
    flags: dv.getUint32(p + 4),
    state: dv.getUint16(p + 8),
    cport: dv.getUint16(p + 10),
    vport: dv.getUint16(p + 12),
    dport: dv.getUint16(p + 14),
    fwmark: dv.getUint32(p + 16),
    timeout: dv.getUint32(p + 20),
    caddr: af === 6 ? readAddr6(dv, p + 24) : dv.getUint32(p + 24),
    vaddr: af === 6 ? readAddr6(dv, p + 40) : dv.getUint32(p + 28),
    daddr: af === 6 ? readAddr6(dv, p + 56) : dv.getUint32(p + 32),
  };
  const entry: DecodedEntry = {
    index, offset: p, length: end - p, conn, status: 'ok',
    flags: ((conn.flags & CONN_F.BACKUP_MASK) | CONN_F.SYNC) >>> 0,
  };
  let seen = 0;
  let peData: Uint8Array | undefined;
  let peName: Uint8Array | undefined;
  while (q < end) {
    if (q + 2 > end) return {stop: 'v1-option-truncated'};
    const ptype = buf[q++]!;
    const plen = buf[q++]!;
    if (!plen || q + plen > end) return {stop: 'v1-option-length'};
    switch (ptype & ~OPT.F_PARAM) {
      case OPT.SEQ_DATA:
        if (plen !== SEQ_OPTIONS_SIZE || seen & 1) return {stop: 'v1-seq-option'};
        conn.inSeq = readSeq(dv, q, false);
        conn.outSeq = readSeq(dv, q + 12, false);
        seen |= 1;
        break;
      case OPT.PE_DATA:
        if (plen > PEDATA_MAXLEN || seen & 2) return {stop: 'v1-pe-data-option'};
        peData = buf.slice(q, q + plen);
        seen |= 2;
        break;
      case OPT.PE_NAME:
        if (plen > PENAME_MAXLEN || seen & 4) return {stop: 'v1-pe-name-option'};
        peName = buf.slice(q, q + plen);
        seen |= 4;
        break;
      default:
        if (!(ptype & OPT.F_PARAM)) {
          entry.status = 'skip';
          entry.reason = 'unknown-mandatory-option';
          return {entry};
        }
        (entry.ignoredOptions ??= []).push(ptype);
    }
    q += plen;
  }
  if (peData) conn.peData = peData;
  if (peName) conn.peName = cString(peName);
  checkProtoState(entry);
  if (entry.status === 'ok' && peData) {
    // ip_vs_conn_fill_param_sync
    if (!peName) {
      entry.status = 'skip';
      entry.reason = 'pe-without-name';
    } else if (!KNOWN_PES.includes(conn.peName!)) {
      entry.status = 'skip';
      entry.reason = 'unknown-pe';
    }
  }
  return {entry};
}

/**
 * Decode and check one datagram as a backup does. Never throws. The entries with status 'ok'
 * are exactly those the kernel would hand to ip_vs_proc_conn, in order.
 */
export function decodeMessage(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedMessage {
  const len = bytes.length;
  const msg: DecodedMessage = {ok: false, version: null, syncId: 0, size: 0, nrConns: 0, length: len, entries: []};
  if (len < V0_HEADER) {
    msg.reject = 'too-short';
    return msg;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  msg.size = dv.getUint16(2);
  msg.syncId = bytes[1]!;
  if (len !== msg.size) {
    msg.reject = 'size-mismatch';
    return msg;
  }
  const want = (opts.syncId ?? 0) & 0xff;
  if (want !== 0 && msg.syncId !== want) {
    msg.reject = 'syncid';
    return msg;
  }
  msg.ok = true;
  // Bytes 4-7 of a datagram shorter than 8 are whatever the kernel's buffer held; either reading
  // applies nothing, so such a datagram is taken as version 0.
  const isV1 = len >= V1_HEADER && bytes[5] === SYNC_PROTO_VER && bytes[0] === 0 && dv.getUint16(6) === 0;
  if (isV1) {
    msg.version = 1;
    msg.nrConns = bytes[4]!;
    let next = V1_HEADER;
    for (let i = 0; i < msg.nrConns; i++) {
      const p = next;
      if (p + V1_V4_CONN > len) {
        msg.stop = {index: i, offset: p, reason: 'v1-too-small'};
        break;
      }
      const verSize = dv.getUint16(p + 2);
      const size = verSize & SVER_MASK;
      const end = p + size;
      if (end > len) {
        msg.stop = {index: i, offset: p, reason: 'v1-exceeds-message'};
        break;
      }
      if (verSize >> SVER_SHIFT) {
        msg.stop = {index: i, offset: p, reason: 'v1-entry-version'};
        break;
      }
      const r = decodeV1Entry(bytes, dv, p, end, i);
      if ('stop' in r) {
        msg.stop = {index: i, offset: p, reason: r.stop};
        break;
      }
      msg.entries.push(r.entry);
      next = p + ((size + 3) & ~3);
    }
    return msg;
  }
  msg.version = 0;
  msg.nrConns = bytes[0]!;
  const little = opts.v0SeqLittleEndian ?? true;
  let p = V0_HEADER;
  for (let i = 0; i < msg.nrConns; i++) {
    if (p + V0_SIMPLE_CONN > len) {
      msg.stop = {index: i, offset: p, reason: 'v0-truncated'};
      break;
    }
    const raw = dv.getUint16(p + 20);
    const flags = ((raw | CONN_F.SYNC) & ~CONN_F.HASHED) >>> 0;
    const conn: SyncConn = {
      af: 4,
      proto: bytes[p + 1]!,
      flags: raw,
      state: dv.getUint16(p + 22),
      cport: dv.getUint16(p + 2),
      vport: dv.getUint16(p + 4),
      dport: dv.getUint16(p + 6),
      fwmark: 0,
      timeout: 0,
      caddr: dv.getUint32(p + 8),
      vaddr: dv.getUint32(p + 12),
      daddr: dv.getUint32(p + 16),
    };
    const start = p;
    if (flags & CONN_F.SEQ_MASK) {
      p += V0_FULL_CONN;
      if (p > len) {
        msg.stop = {index: i, offset: start, reason: 'v0-truncated-options'};
        break;
      }
      conn.inSeq = readSeq(dv, start + 24, little);
      conn.outSeq = readSeq(dv, start + 36, little);
    } else {
      p += V0_SIMPLE_CONN;
    }
    const entry: DecodedEntry = {index: i, offset: start, length: p - start, conn, flags, status: 'ok'};
    checkProtoState(entry);
    msg.entries.push(entry);
  }
  return msg;
}
