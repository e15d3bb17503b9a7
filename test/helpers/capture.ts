// Building capture files byte by byte for the reader's tests: classic pcap (either byte order,
// micro- or nanosecond stamps), pcapng blocks, and link-layer headers around raw IP.
import {encodePacket} from '../../src/capture/pcap-write.js';
import type {Packet} from '../../src/engine/types.js';

export function rawIp(p: Packet): Uint8Array {
  const buf = new Uint8Array(1500);
  return buf.slice(0, encodePacket(p, buf));
}

export function ethernet(ip: Uint8Array, vlans: number[] = []): Uint8Array {
  const ether = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  const head = [...new Array(12).fill(0x02)];
  for (const tpid of vlans) head.push(tpid >> 8, tpid & 255, 0x00, 0x07);
  head.push(ether >> 8, ether & 255);
  return new Uint8Array([...head, ...ip]);
}

export function sll(ip: Uint8Array, pktType = 0): Uint8Array {
  const ether = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  return new Uint8Array([0, pktType, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ether >> 8, ether & 255, ...ip]);
}

export function sll2(ip: Uint8Array, pktType = 0): Uint8Array {
  const ether = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  return new Uint8Array([ether >> 8, ether & 255, 0, 0, 0, 0, 0, 1, 0, 1, pktType, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...ip]);
}

export interface Rec {
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
}

export function pcapFile(linkType: number, recs: Rec[], o: {le?: boolean; nanos?: boolean} = {}): Uint8Array {
  const le = o.le ?? true;
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, at: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  const w16 = (b: Buffer, v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  w32(h, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(h, 2, 4);
  w16(h, 4, 6);
  w32(h, 262144, 16);
  w32(h, linkType, 20);
  parts.push(h);
  for (const r of recs) {
    const rh = Buffer.alloc(16);
    w32(rh, r.sec, 0);
    w32(rh, r.frac, 4);
    w32(rh, r.data.length, 8);
    w32(rh, r.origLen ?? r.data.length, 12);
    parts.push(rh, Buffer.from(r.data));
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** One pcapng block: type, body (padded here), total length at both ends. */
export function block(type: number, body: Uint8Array, le = true): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const b = Buffer.alloc(total);
  const w32 = (v: number, at: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  w32(type, 0);
  w32(total, 4);
  Buffer.from(body).copy(b, 8);
  w32(total, total - 4);
  return new Uint8Array(b);
}

function words(le: boolean, ...fields: [number, 2 | 4][]): Uint8Array {
  const b = Buffer.alloc(fields.reduce((n, [, w]) => n + w, 0));
  let at = 0;
  for (const [v, w] of fields) {
    if (w === 2) le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at);
    else le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at);
    at += w;
  }
  return new Uint8Array(b);
}

export function option(code: number, value: Uint8Array, le = true): Uint8Array {
  const padded = new Uint8Array((value.length + 3) & ~3);
  padded.set(value);
  return new Uint8Array([...words(le, [code, 2], [value.length, 2]), ...padded]);
}

export const endOfOptions = new Uint8Array(4);

export function shb(le = true): Uint8Array {
  return block(0x0a0d0d0a, new Uint8Array([...words(le, [0x1a2b3c4d, 4], [1, 2], [0, 2]), ...new Uint8Array(8).fill(0xff)]), le);
}

export function idb(linkType: number, opts: Uint8Array[] = [], le = true): Uint8Array {
  return block(1, new Uint8Array([...words(le, [linkType, 2], [0, 2], [262144, 4]), ...opts.flatMap((o) => [...o]), ...(opts.length ? endOfOptions : [])]), le);
}

export function epb(iface: number, units: bigint, data: Uint8Array, opts: Uint8Array[] = [], le = true, origLen = data.length): Uint8Array {
  const padded = new Uint8Array((data.length + 3) & ~3);
  padded.set(data);
  const head = words(le, [iface, 4], [Number(units >> 32n), 4], [Number(units & 0xffffffffn), 4], [data.length, 4], [origLen, 4]);
  return block(6, new Uint8Array([...head, ...padded, ...opts.flatMap((o) => [...o]), ...(opts.length ? endOfOptions : [])]), le);
}

export function spb(data: Uint8Array, le = true): Uint8Array {
  return block(3, new Uint8Array([...words(le, [data.length, 4]), ...data]), le);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}
