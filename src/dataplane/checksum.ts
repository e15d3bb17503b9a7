// Internet checksums (RFC 1071), their incremental update (RFC 1624) and SCTP's CRC32c (RFC 3309):
// what the kernel's csum_replace4/inet_proto_csum_replace16 and sctp_compute_cksum do on NAT.

/** One's-complement sum of buf[off, off+len) as 16-bit big-endian words, added to `sum` (unfolded). */
export function sum16(buf: Uint8Array, off: number, len: number, sum = 0): number {
  let s = sum;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (len & 1) s += buf[off + len - 1]! << 8;
  return s;
}

/** Fold a 32-bit-or-more sum to 16 bits (end-around carry). */
export function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for data whose unfolded sum is `sum`. */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** Sum of the IPv4/IPv6 pseudo-header: addresses, protocol and upper-layer length. */
export function pseudoSum(buf: Uint8Array, srcOff: number, addrLen: 4 | 16, proto: number, l4Len: number): number {
  // Source and destination are contiguous in both IPv4 (12..19) and IPv6 (8..39) headers.
  return sum16(buf, srcOff, addrLen * 2, proto + l4Len);
}

export function read16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function write16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for each 16-bit word m of `old` replaced by m' of `next`
 * (same length, even). Leaves a zero UDP checksum alone when `udp` (IPv4 "no checksum") and
 * writes 0xffff for a computed zero there, as udp_manip_pkt does.
 */
export function csumReplace(buf: Uint8Array, csumOff: number, old: Uint8Array, next: Uint8Array, udp = false): void {
  const hc = read16(buf, csumOff);
  if (udp && hc === 0) return;
  let s = ~hc & 0xffff;
  for (let i = 0; i < old.length; i += 2) {
    s += ~((old[i]! << 8) | old[i + 1]!) & 0xffff;
    s += (next[i]! << 8) | next[i + 1]!;
  }
  let out = ~fold(s) & 0xffff;
  if (udp && out === 0) out = 0xffff;
  write16(buf, csumOff, out);
}

/** Same as csumReplace for one 16-bit word (a port). */
export function csumReplace16(buf: Uint8Array, csumOff: number, old: number, next: number, udp = false): void {
  const hc = read16(buf, csumOff);
  if (udp && hc === 0) return;
  let out = ~fold((~hc & 0xffff) + (~old & 0xffff) + next) & 0xffff;
  if (udp && out === 0) out = 0xffff;
  write16(buf, csumOff, out);
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** SCTP checksum (CRC32c) of the common header + chunks, with the checksum field taken as zero. */
export function sctpChecksum(buf: Uint8Array, off: number, len: number): number {
  let c = 0xffffffff;
  for (let i = 0; i < len; i++) {
    const b = i >= 8 && i < 12 ? 0 : buf[off + i]!;
    c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}

/** The checksum field bytes are stored little-endian-as-computed (network order of the reflected CRC). */
export function writeSctpChecksum(buf: Uint8Array, off: number, crc: number): void {
  buf[off + 8] = crc & 0xff;
  buf[off + 9] = (crc >>> 8) & 0xff;
  buf[off + 10] = (crc >>> 16) & 0xff;
  buf[off + 11] = (crc >>> 24) & 0xff;
}

export function readSctpChecksum(buf: Uint8Array, off: number): number {
  return (buf[off + 8]! | (buf[off + 9]! << 8) | (buf[off + 10]! << 16) | (buf[off + 11]! << 24)) >>> 0;
}
