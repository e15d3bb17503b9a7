// Reading packet captures: classic pcap (microsecond and nanosecond, either byte order) and pcapng
// (sections, interfaces with their own link type and timestamp resolution, enhanced/simple/obsolete
// packet blocks). No maintained npm reader covers both formats (the `pcap` package is a libpcap
// binding, `pcap-parser` reads classic pcap only and is unmaintained), so this is a small one of
// our own. It streams the file through a bounded window and every length it reads from the file is
// checked against a limit before use: a truncated, corrupt or unsupported capture ends in one
// CaptureError naming the byte offset, never an exception of another kind.
import {closeSync, fstatSync, openSync, readSync} from 'node:fs';

export class CaptureError extends Error {}

export interface CaptureLimits {
  /** Largest captured length of one packet (tcpdump's maximum snapshot length is 262144). */
  maxPacketBytes: number;
  /** Largest pcapng block (a packet block's options included). */
  maxBlockBytes: number;
  /** Largest file accepted. */
  maxFileBytes: number;
  /** Most interfaces in one pcapng section. */
  maxInterfaces: number;
}

export const DEFAULT_LIMITS: CaptureLimits = {
  maxPacketBytes: 262144,
  maxBlockBytes: 16 * 2 ** 20,
  maxFileBytes: 64 * 2 ** 30,
  maxInterfaces: 4096,
};

export interface CaptureRecord {
  /** Capture time: whole seconds since the epoch and nanoseconds within the second. */
  sec: number;
  nsec: number;
  /** LINKTYPE_* of the interface the packet was captured on. */
  linkType: number;
  /** Captured bytes: a view that is only valid until the next call to next(). */
  data: Uint8Array;
  /** Length of the packet on the wire (>= data.length when the snapshot length cut it). */
  origLen: number;
  /** pcapng epb_flags direction: 0 unknown, 1 inbound, 2 outbound. */
  direction: 0 | 1 | 2;
  /** Byte offset of the record in the file (error messages, tests). */
  offset: number;
}

export interface CaptureReader {
  readonly format: 'pcap' | 'pcapng';
  /** Next packet record, or null at the end of the capture. Throws CaptureError. */
  next(): CaptureRecord | null;
  /** Bytes consumed so far (progress). */
  bytesRead(): number;
  close(): void;
}

/** Where the bytes come from: a file read through a window, or bytes in memory. */
interface ByteSource {
  /** Exactly n bytes at the current position, or null at a clean end (no byte left). */
  take(n: number, what: string): Uint8Array | null;
  readonly position: number;
  close(): void;
}

class MemorySource implements ByteSource {
  position = 0;
  constructor(private readonly bytes: Uint8Array) {}

  take(n: number, what: string): Uint8Array | null {
    const left = this.bytes.length - this.position;
    if (left === 0) return null;
    if (left < n) throw truncated(this.position, what, n, left);
    const out = this.bytes.subarray(this.position, this.position + n);
    this.position += n;
    return out;
  }

  close(): void {}
}

const WINDOW = 4 * 2 ** 20;

class FileSource implements ByteSource {
  position = 0;
  private buf = Buffer.allocUnsafe(WINDOW);
  private start = 0;
  private end = 0;
  private eof = false;

  constructor(private fd: number | null) {}

  take(n: number, what: string): Uint8Array | null {
    if (this.end - this.start < n) this.fill(n);
    const left = this.end - this.start;
    if (left === 0) return null;
    if (left < n) throw truncated(this.position, what, n, left);
    const out = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    this.position += n;
    return out;
  }

  private fill(n: number): void {
    // Move what is left to the front (or into a larger buffer) and read until n bytes or the end.
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(n);
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else this.buf.copy(this.buf, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    while (!this.eof && this.end < n) {
      const got = readSync(this.fd!, this.buf, this.end, this.buf.length - this.end, null);
      if (got === 0) this.eof = true;
      this.end += got;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function truncated(at: number, what: string, want: number, have: number): CaptureError {
  return new CaptureError(`truncated capture: ${what} at byte ${at} needs ${want} bytes, the file ends after ${have}`);
}

/** Open a capture file; the format is recognised by its first bytes, not by the file name. */
export function openCapture(path: string, limits: CaptureLimits = DEFAULT_LIMITS): CaptureReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CaptureError(`cannot open ${path}: ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CaptureError(`${path} is not a regular file`);
    if (st.size > limits.maxFileBytes) {
      throw new CaptureError(`${path} is ${st.size} bytes, more than the ${limits.maxFileBytes}-byte limit`);
    }
    return readerFor(new FileSource(fd), limits);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** A reader over bytes already in memory (tests, the fuzz target). */
export function captureFromBytes(bytes: Uint8Array, limits: CaptureLimits = DEFAULT_LIMITS): CaptureReader {
  return readerFor(new MemorySource(bytes), limits);
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

function u32(b: Uint8Array, o: number, le: boolean): number {
  return le ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

function readerFor(src: ByteSource, limits: CaptureLimits): CaptureReader {
  const head = src.take(4, 'file header');
  if (!head) throw new CaptureError('empty file: not a pcap or pcapng capture');
  const le = u32(head, 0, true);
  if (le === PCAPNG_SHB) return new PcapngReader(src, limits, head);
  const be = u32(head, 0, false);
  for (const [magic, little] of [[le, true], [be, false]] as const) {
    if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS) return new PcapReader(src, limits, little, magic === PCAP_MAGIC_NS);
  }
  if (le === 0xa1b2cd34 || be === 0xa1b2cd34) {
    throw new CaptureError('unsupported capture format: modified (Kuznetzov) pcap; convert it with editcap -F pcap');
  }
  const hex = [...head].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  throw new CaptureError(`not a pcap or pcapng capture (first bytes ${hex})`);
}

class PcapReader implements CaptureReader {
  readonly format = 'pcap';
  private readonly linkType: number;
  private readonly fracPerSec: number;
  private readonly nsecPerFrac: number;

  constructor(private readonly src: ByteSource, private readonly limits: CaptureLimits, private readonly le: boolean, nanos: boolean) {
    const h = src.take(20, 'pcap file header');
    if (!h) throw truncated(4, 'pcap file header', 20, 0);
    const major = u16(h, 0, le);
    if (major !== 2) throw new CaptureError(`unsupported pcap version ${major}.${u16(h, 2, le)} (only 2.x exists)`);
    // The upper bits of the link-type word carry FCS information; the type is the low 16 bits.
    this.linkType = u32(h, 16, le) & 0xffff;
    this.fracPerSec = nanos ? 1e9 : 1e6;
    this.nsecPerFrac = nanos ? 1 : 1000;
  }

  next(): CaptureRecord | null {
    const offset = this.src.position;
    const h = this.src.take(16, 'packet record header');
    if (!h) return null;
    const sec = u32(h, 0, this.le), frac = u32(h, 4, this.le);
    const capLen = u32(h, 8, this.le), origLen = u32(h, 12, this.le);
    if (frac >= this.fracPerSec) throw new CaptureError(`corrupt capture: packet record at byte ${offset} has a sub-second field of ${frac}`);
    if (capLen > this.limits.maxPacketBytes) {
      throw new CaptureError(`corrupt capture: packet record at byte ${offset} claims ${capLen} captured bytes (limit ${this.limits.maxPacketBytes})`);
    }
    const data = this.src.take(capLen, 'packet data');
    if (!data && capLen > 0) throw truncated(offset + 16, 'packet data', capLen, 0);
    return {
      sec, nsec: frac * this.nsecPerFrac, linkType: this.linkType, data: data ?? new Uint8Array(0),
      origLen: Math.max(origLen, capLen), direction: 0, offset,
    };
  }

  bytesRead(): number {
    return this.src.position;
  }

  close(): void {
    this.src.close();
  }
}

interface PcapngInterface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second (if_tsresol), and the offset in seconds (if_tsoffset). */
  unitsPerSec: number;
  offsetSec: number;
}

const BT = {IDB: 1, PB: 2, SPB: 3, EPB: 6} as const;

class PcapngReader implements CaptureReader {
  readonly format = 'pcapng';
  private le = true;
  private ifaces: PcapngInterface[] = [];
  private lastSec = 0;
  private lastNsec = 0;
  private pending: Uint8Array | null;

  constructor(private readonly src: ByteSource, private readonly limits: CaptureLimits, firstType: Uint8Array) {
    this.pending = firstType;
  }

  next(): CaptureRecord | null {
    for (;;) {
      const offset = this.src.position - (this.pending ? 4 : 0);
      const typeBytes = this.pending ?? this.src.take(4, 'block type');
      this.pending = null;
      if (!typeBytes) return null;
      if (u32(typeBytes, 0, true) === PCAPNG_SHB) {
        this.readSectionHeader(offset);
        continue;
      }
      const type = u32(typeBytes, 0, this.le);
      const lenBytes = this.src.take(4, 'block length');
      if (!lenBytes) throw truncated(offset + 4, 'block length', 4, 0);
      const total = u32(lenBytes, 0, this.le);
      const body = this.blockBody(offset, total);
      switch (type) {
        case BT.IDB: this.readInterface(offset, body); break;
        case BT.EPB: return this.enhancedPacket(offset, body);
        case BT.SPB: return this.simplePacket(offset, body);
        case BT.PB: return this.obsoletePacket(offset, body);
        default: break; // name resolution, statistics, secrets, custom blocks: not needed
      }
    }
  }

  private blockBody(offset: number, total: number): Uint8Array {
    if (total < 12 || total % 4 !== 0) throw new CaptureError(`corrupt capture: pcapng block at byte ${offset} has length ${total} (must be a multiple of 4, at least 12)`);
    if (total > this.limits.maxBlockBytes) throw new CaptureError(`corrupt capture: pcapng block at byte ${offset} is ${total} bytes (limit ${this.limits.maxBlockBytes})`);
    const rest = this.src.take(total - 8, 'pcapng block');
    if (!rest) throw truncated(offset + 8, 'pcapng block', total - 8, 0);
    if (u32(rest, rest.length - 4, this.le) !== total) {
      throw new CaptureError(`corrupt capture: pcapng block at byte ${offset}: trailing length ${u32(rest, rest.length - 4, this.le)} differs from ${total}`);
    }
    return rest.subarray(0, rest.length - 4);
  }

  private readSectionHeader(offset: number): void {
    const h = this.src.take(8, 'section header');
    if (!h) throw truncated(offset + 4, 'section header', 8, 0);
    const bom = u32(h, 4, true);
    if (bom === PCAPNG_BOM) this.le = true;
    else if (u32(h, 4, false) === PCAPNG_BOM) this.le = false;
    else throw new CaptureError(`corrupt capture: pcapng section header at byte ${offset} has no byte-order magic`);
    const total = u32(h, 0, this.le);
    if (total < 28 || total % 4 !== 0 || total > this.limits.maxBlockBytes) {
      throw new CaptureError(`corrupt capture: pcapng section header at byte ${offset} has length ${total}`);
    }
    const rest = this.src.take(total - 12, 'section header');
    if (!rest) throw truncated(offset + 12, 'section header', total - 12, 0);
    const major = u16(rest, 0, this.le);
    if (major !== 1) throw new CaptureError(`unsupported pcapng version ${major}.${u16(rest, 2, this.le)} (only 1.x exists)`);
    if (u32(rest, rest.length - 4, this.le) !== total) throw new CaptureError(`corrupt capture: pcapng section header at byte ${offset}: trailing length differs`);
    this.ifaces = [];
  }

  private readInterface(offset: number, body: Uint8Array): void {
    if (body.length < 8) throw new CaptureError(`corrupt capture: interface block at byte ${offset} is too short`);
    if (this.ifaces.length >= this.limits.maxInterfaces) throw new CaptureError(`capture has more than ${this.limits.maxInterfaces} interfaces in one section`);
    const iface: PcapngInterface = {linkType: u16(body, 0, this.le), snapLen: u32(body, 4, this.le), unitsPerSec: 1e6, offsetSec: 0};
    this.options(offset, body, 8, (code, v) => {
      if (code === 9 && v.length >= 1) {
        // if_tsresol: 10^-n seconds, or 2^-n with the top bit set
        const r = v[0]!;
        const n = r & 0x7f;
        if ((r & 0x80) === 0 ? n > 15 : n > 60) throw new CaptureError(`unsupported timestamp resolution in the interface block at byte ${offset}`);
        iface.unitsPerSec = (r & 0x80) === 0 ? 10 ** n : 2 ** n;
      } else if (code === 14 && v.length >= 8) {
        const lo = u32(v, this.le ? 0 : 4, this.le), hi = u32(v, this.le ? 4 : 0, this.le) | 0;
        iface.offsetSec = hi * 2 ** 32 + lo;
      }
    });
    this.ifaces.push(iface);
  }

  /** Walk an options list from `at`; calls fn(code, value) for each until opt_endofopt. */
  private options(offset: number, body: Uint8Array, at: number, fn: (code: number, value: Uint8Array) => void): void {
    let o = at;
    while (o + 4 <= body.length) {
      const code = u16(body, o, this.le), len = u16(body, o + 2, this.le);
      if (code === 0) return;
      if (o + 4 + len > body.length) throw new CaptureError(`corrupt capture: option ${code} of the block at byte ${offset} runs past the block`);
      fn(code, body.subarray(o + 4, o + 4 + len));
      o += 4 + ((len + 3) & ~3);
    }
  }

  private iface(offset: number, id: number): PcapngInterface {
    const f = this.ifaces[id];
    if (!f) throw new CaptureError(`corrupt capture: packet block at byte ${offset} names interface ${id}, which was not described before it`);
    return f;
  }

  private packet(offset: number, f: PcapngInterface, hi: number, lo: number, capLen: number, origLen: number,
    body: Uint8Array, dataAt: number): CaptureRecord {
    if (capLen > this.limits.maxPacketBytes) throw new CaptureError(`corrupt capture: packet block at byte ${offset} claims ${capLen} captured bytes (limit ${this.limits.maxPacketBytes})`);
    if (dataAt + capLen > body.length) throw new CaptureError(`corrupt capture: packet block at byte ${offset} claims ${capLen} captured bytes, more than the block holds`);
    let sec: number, rest: number;
    if (hi < 2 ** 21) {
      const units = hi * 2 ** 32 + lo; // exact below 2^53
      sec = Math.floor(units / f.unitsPerSec);
      rest = units - sec * f.unitsPerSec;
    } else {
      // Nanosecond (or finer) clocks overflow a double's exact range: split with BigInt.
      const units = (BigInt(hi) << 32n) | BigInt(lo), per = BigInt(f.unitsPerSec);
      sec = Number(units / per);
      rest = Number(units % per);
    }
    const nsec = Math.floor((rest * 1e9) / f.unitsPerSec);
    sec += f.offsetSec;
    this.lastSec = sec;
    this.lastNsec = nsec;
    return {sec, nsec, linkType: f.linkType, data: body.subarray(dataAt, dataAt + capLen), origLen: Math.max(origLen, capLen), direction: 0, offset};
  }

  private enhancedPacket(offset: number, body: Uint8Array): CaptureRecord {
    if (body.length < 20) throw new CaptureError(`corrupt capture: enhanced packet block at byte ${offset} is too short`);
    const f = this.iface(offset, u32(body, 0, this.le));
    const capLen = u32(body, 12, this.le);
    const rec = this.packet(offset, f, u32(body, 4, this.le), u32(body, 8, this.le), capLen, u32(body, 16, this.le), body, 20);
    this.options(offset, body, 20 + ((capLen + 3) & ~3), (code, v) => {
      if (code === 2 && v.length >= 4) {
        const d = u32(v, 0, this.le) & 3;
        rec.direction = d === 1 || d === 2 ? d : 0;
      }
    });
    return rec;
  }

  private simplePacket(offset: number, body: Uint8Array): CaptureRecord {
    // No timestamp in a simple packet block: it takes the previous packet's time.
    if (body.length < 4) throw new CaptureError(`corrupt capture: simple packet block at byte ${offset} is too short`);
    const f = this.iface(offset, 0);
    const origLen = u32(body, 0, this.le);
    const capLen = Math.min(origLen, body.length - 4, f.snapLen || Infinity);
    const sec = this.lastSec, nsec = this.lastNsec;
    const rec = this.packet(offset, f, 0, 0, capLen, origLen, body, 4);
    rec.sec = this.lastSec = sec;
    rec.nsec = this.lastNsec = nsec;
    return rec;
  }

  private obsoletePacket(offset: number, body: Uint8Array): CaptureRecord {
    if (body.length < 20) throw new CaptureError(`corrupt capture: packet block at byte ${offset} is too short`);
    const f = this.iface(offset, u16(body, 0, this.le));
    return this.packet(offset, f, u32(body, 4, this.le), u32(body, 8, this.le), u32(body, 12, this.le), u32(body, 16, this.le), body, 20);
  }

  bytesRead(): number {
    return this.src.position;
  }

  close(): void {
    this.src.close();
  }
}
