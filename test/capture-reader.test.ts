// The capture reader and decoder on files built byte by byte: both pcap byte orders and stamp
// resolutions, pcapng sections/interfaces/blocks, every link layer we accept, IP details the engine
// depends on (fragments, IPv6 extension headers, ICMP errors and their checksum), and the promise
// that a damaged file ends in one CaptureError and never in another exception.
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {decodeFrame, LINKTYPE} from '../src/capture/decode.js';
import {CaptureError, type CaptureRecord, captureFromBytes} from '../src/capture/pcap-read.js';
import {CaptureWriter} from '../src/capture/pcap-write.js';
import {IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SCTP_CHUNK, TCP_FLAG} from '../src/engine/constants.js';
import {emptyPacket, packetFromSpec} from '../src/engine/packet.js';
import type {Packet} from '../src/engine/types.js';
import {
  block, concat, epb, ethernet, idb, option, pcapFile, rawIp, shb, sll, sll2, spb,
} from './helpers/capture.js';
import {mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

function all(bytes: Uint8Array): CaptureRecord[] {
  const r = captureFromBytes(bytes);
  const out: CaptureRecord[] = [];
  for (let rec = r.next(); rec; rec = r.next()) out.push({...rec, data: rec.data.slice()});
  return out;
}

function errorOf(bytes: Uint8Array): string {
  try {
    all(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

function decoded(linkType: number, frame: Uint8Array, direction = 0): Packet | string {
  const p = emptyPacket();
  const why = decodeFrame(linkType, frame, frame.length, p, direction);
  return why ?? p;
}

const syn = packetFromSpec({proto: 'tcp', src: '198.51.100.7:40000', dst: '192.0.2.1:80', flags: 'S', len: 60, df: true});
const syn6 = packetFromSpec({proto: 'tcp', src: '[2001:db8::7]:40000', dst: '[2001:db8::1]:80', flags: 'S', len: 80});

describe('pcap files', () => {
  it('reads microsecond stamps in either byte order, nanosecond stamps exactly', () => {
    const frame = ethernet(rawIp(syn));
    for (const le of [true, false]) {
      const [a, b] = all(pcapFile(LINKTYPE.ETHERNET, [{sec: 1700000000, frac: 999999, data: frame}, {sec: 1700000001, frac: 2, data: frame}], {le}));
      expect([a!.sec, a!.nsec, b!.sec, b!.nsec]).toEqual([1700000000, 999999000, 1700000001, 2000]);
      expect(a!.linkType).toBe(LINKTYPE.ETHERNET);
      expect(a!.data).toEqual(frame);
    }
    const [n] = all(pcapFile(LINKTYPE.RAW, [{sec: 5, frac: 123456789, data: rawIp(syn)}], {nanos: true}));
    expect([n!.sec, n!.nsec]).toEqual([5, 123456789]);
  });

  it('keeps the wire length of a packet cut by the snapshot length', () => {
    const ip = rawIp(syn);
    const [r] = all(pcapFile(LINKTYPE.RAW, [{sec: 1, frac: 0, data: ip.slice(0, 40), origLen: 1500}]));
    expect(r!.origLen).toBe(1500);
    expect((decoded(LINKTYPE.RAW, r!.data) as Packet).len).toBe(60); // the IP header's total length
  });

  it('refuses damaged and foreign files with one CaptureError naming the problem', () => {
    const good = pcapFile(LINKTYPE.ETHERNET, [{sec: 1, frac: 0, data: ethernet(rawIp(syn))}]);
    expect(errorOf(new Uint8Array(0))).toMatch(/empty file/);
    expect(errorOf(new TextEncoder().encode('GET / HTTP/1.1\r\n'))).toMatch(/not a pcap or pcapng capture \(first bytes 47 45 54 20\)/);
    expect(errorOf(good.slice(0, 20))).toMatch(/truncated capture: pcap file header/);
    expect(errorOf(good.slice(0, 30))).toMatch(/truncated capture: packet record header at byte 24/);
    expect(errorOf(good.slice(0, good.length - 3))).toMatch(/truncated capture: packet data at byte 40/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(24 + 8, 10_000_000, true);
    expect(errorOf(huge)).toMatch(/claims 10000000 captured bytes \(limit 262144\)/);
    const v3 = good.slice();
    v3[4] = 3;
    expect(errorOf(v3)).toMatch(/unsupported pcap version 3/);
    const kuznetzov = good.slice();
    new DataView(kuznetzov.buffer).setUint32(0, 0xa1b2cd34, true);
    expect(errorOf(kuznetzov)).toMatch(/modified \(Kuznetzov\) pcap/);
  });
});

describe('pcapng files', () => {
  it('reads sections, interfaces with their own link type and resolution, EPB/SPB and epb_flags', () => {
    for (const le of [true, false]) {
      const ip = rawIp(syn);
      const nsRes = option(9, new Uint8Array([9]), le);
      const outbound = option(2, new Uint8Array(le ? [2, 0, 0, 0] : [0, 0, 0, 2]), le);
      const file = concat(
        shb(le), idb(LINKTYPE.ETHERNET, [], le), idb(LINKTYPE.RAW, [nsRes], le),
        block(4, new Uint8Array(8), le), // a name resolution block: skipped
        epb(0, 1_700_000_000_250_000n, ethernet(ip), [], le),
        epb(1, 1_700_000_000_500_000_123n, ip, [outbound], le),
        spb(ethernet(ip), le),
      );
      const [a, b, c] = all(file);
      expect([a!.sec, a!.nsec, a!.linkType, a!.direction]).toEqual([1_700_000_000, 250_000_000, LINKTYPE.ETHERNET, 0]);
      expect([b!.sec, b!.nsec, b!.linkType, b!.direction]).toEqual([1_700_000_000, 500_000_123, LINKTYPE.RAW, 2]);
      // a simple packet block has no time of its own: the previous packet's
      expect([c!.sec, c!.nsec, c!.linkType]).toEqual([1_700_000_000, 500_000_123, LINKTYPE.ETHERNET]);
      expect(decoded(b!.linkType, b!.data, b!.direction)).toBe('sent by the capturing host');
    }
  });

  it('a new section forgets the interfaces of the previous one', () => {
    const file = concat(shb(), idb(LINKTYPE.RAW), shb(), epb(0, 0n, rawIp(syn)));
    expect(errorOf(file)).toMatch(/names interface 0, which was not described before it/);
  });

  it('refuses damaged blocks', () => {
    const good = concat(shb(), idb(LINKTYPE.RAW), epb(0, 0n, rawIp(syn)));
    const badLen = good.slice();
    new DataView(badLen.buffer).setUint32(28 + 4, 13, true);
    expect(errorOf(badLen)).toMatch(/pcapng block at byte 28 has length 13/);
    const trailer = good.slice();
    trailer[trailer.length - 4] ^= 4;
    expect(errorOf(trailer)).toMatch(/trailing length \d+ differs/);
    expect(errorOf(good.slice(0, good.length - 8))).toMatch(/truncated capture: pcapng block at byte 56/);
    const noBom = good.slice();
    noBom[8] = 0;
    expect(errorOf(noBom)).toMatch(/no byte-order magic/);
    const capLen = good.slice();
    new DataView(capLen.buffer).setUint32(48 + 20, 4000, true);
    expect(errorOf(capLen)).toMatch(/claims 4000 captured bytes, more than the block holds/);
  });
});

describe('link layers and IP', () => {
  it('Ethernet with stacked VLAN tags, Linux cooked v1 and v2, raw IP, BSD loopback', () => {
    const ip = rawIp(syn);
    const want = {af: 4, proto: IPPROTO_TCP, src: syn.src, sport: 40000, dst: syn.dst, dport: 80, tcpFlags: TCP_FLAG.SYN, len: 60, df: true};
    expect(decoded(LINKTYPE.ETHERNET, ethernet(ip, [0x88a8, 0x8100]))).toMatchObject(want);
    expect(decoded(LINKTYPE.LINUX_SLL, sll(ip))).toMatchObject(want);
    expect(decoded(LINKTYPE.LINUX_SLL2, sll2(ip))).toMatchObject(want);
    expect(decoded(LINKTYPE.RAW, ip)).toMatchObject(want);
    expect(decoded(LINKTYPE.IPV4, ip)).toMatchObject(want);
    expect(decoded(LINKTYPE.NULL, new Uint8Array([2, 0, 0, 0, ...ip]))).toMatchObject(want);
    expect(decoded(LINKTYPE.NULL, new Uint8Array([0, 0, 0, 30, ...rawIp(syn6)]))).toMatchObject({af: 6, src: '2001:db8::7', dst: '2001:db8::1', len: 80});
    // what the capturing host sent itself is not the director's input
    expect(decoded(LINKTYPE.LINUX_SLL, sll(ip, 4))).toBe('sent by the capturing host');
    expect(decoded(LINKTYPE.LINUX_SLL2, sll2(ip, 4))).toBe('sent by the capturing host');
    expect(decoded(105, ip)).toBe('unsupported link type');
    const arp = ethernet(ip);
    arp[12] = 0x08; arp[13] = 0x06;
    expect(decoded(LINKTYPE.ETHERNET, arp)).toBe('not IP');
    expect(decoded(LINKTYPE.ETHERNET, ethernet(ip).slice(0, 30))).toBe('truncated header');
  });

  it('later IPv4 fragments carry no ports and are skipped; the first one is used', () => {
    const ip = rawIp(packetFromSpec({proto: 'udp', src: '198.51.100.7:5000', dst: '192.0.2.1:53', len: 3000}));
    const later = ip.slice();
    later[6] = 0x00; later[7] = 0xb9; // offset 185*8
    expect(decoded(LINKTYPE.RAW, later)).toBe('later fragment');
    const first = ip.slice();
    first[6] = 0x20; // more fragments, offset 0
    expect(decoded(LINKTYPE.RAW, first)).toMatchObject({proto: IPPROTO_UDP, sport: 5000, dport: 53, len: 3000});
  });

  it('IPv6 extension headers are walked to the transport header', () => {
    const ip = rawIp(syn6);
    // hop-by-hop (8 bytes) then a first fragment header (8 bytes) before TCP
    const ext = new Uint8Array([44, 0, 1, 4, 0, 0, 0, 0, 6, 0, 0, 1, 0, 0, 0, 9]);
    const pkt = new Uint8Array([...ip.slice(0, 40), ...ext, ...ip.slice(40)]);
    pkt[6] = 0;
    new DataView(pkt.buffer).setUint16(4, 40 + 16);
    expect(decoded(LINKTYPE.RAW, pkt)).toMatchObject({af: 6, proto: IPPROTO_TCP, sport: 40000, dport: 80, tcpFlags: TCP_FLAG.SYN, len: 96});
    const later = pkt.slice();
    later[8 + 40 + 2] = 0x05; // fragment offset != 0
    expect(decoded(LINKTYPE.RAW, later)).toBe('later fragment');
  });

  it('an ICMP error carries the packet it is about, and a bad checksum is seen (ip_vs_in_icmp checks it)', () => {
    for (const ok of [true, false]) {
      const p = packetFromSpec({proto: 'icmp', src: '198.51.100.7', dst: '192.0.2.1', len: 56});
      p.icmp = {type: 3, code: 4, checksumOk: ok, inner: packetFromSpec({proto: 'tcp', src: '192.0.2.1:80', dst: '198.51.100.7:40000', len: 1500})};
      const got = decoded(LINKTYPE.RAW, rawIp(p)) as Packet;
      expect(got.icmp).toMatchObject({type: 3, code: 4, checksumOk: ok, inner: {proto: IPPROTO_TCP, src: p.icmp.inner.src, sport: 80, dport: 40000}});
    }
    const p6 = packetFromSpec({proto: 'icmpv6', src: '[2001:db8::7]:0', dst: '[2001:db8::1]:0', len: 96});
    p6.icmp = {type: 2, code: 0, checksumOk: true, inner: packetFromSpec({proto: 'udp', src: '[2001:db8::1]:53', dst: '[2001:db8::7]:5000'})};
    expect((decoded(LINKTYPE.RAW, rawIp(p6)) as Packet).icmp).toMatchObject({type: 2, checksumOk: true, inner: {proto: IPPROTO_UDP, sport: 53}});
    const echo = packetFromSpec({proto: 'icmp', src: '198.51.100.7', dst: '192.0.2.1', len: 84});
    expect(decoded(LINKTYPE.RAW, rawIp(echo))).toMatchObject({proto: IPPROTO_ICMP, icmp: null});
  });

  it('SCTP: the first chunk, its length and the chunk bundled after it', () => {
    const p = packetFromSpec({proto: 'sctp', src: '198.51.100.7:5000', dst: '192.0.2.1:3868', chunk: 'cookie_echo', nextChunk: 'data', len: 200});
    p.sctpChunkLen = 37;
    expect(decoded(LINKTYPE.RAW, rawIp(p))).toMatchObject({proto: IPPROTO_SCTP, sctpChunk: SCTP_CHUNK.COOKIE_ECHO, sctpChunkLen: 37, sctpNextChunk: SCTP_CHUNK.DATA});
  });
});

// Packets as the engine sees them, for the writer -> reader round trip.
const addr4 = fc.integer({min: 1, max: 0xdfffffff}).map((v) => v >>> 0);
const addr6 = fc.array(fc.integer({min: 0, max: 0xffff}), {minLength: 8, maxLength: 8}).map((g) => {
  g[0] = 0x2001;
  return g.map((x) => x.toString(16)).join(':');
});
const port = fc.integer({min: 0, max: 65535});
const packetArb = fc.record({
  af: fc.constantFrom(4 as const, 6 as const), a: addr4, b: addr4, a6: addr6, b6: addr6, sport: port, dport: port,
  kind: fc.constantFrom('tcp', 'udp', 'sctp', 'icmp'), flags: fc.integer({min: 0, max: 0x3f}), extra: fc.integer({min: 0, max: 9000}),
  chunk: fc.integer({min: 0, max: 15}), next: fc.integer({min: -1, max: 15}), chunkLen: fc.integer({min: 4, max: 100}),
  df: fc.boolean(), icmpOk: fc.boolean(), icmpType: fc.constantFrom(3, 11), innerUdp: fc.boolean(),
}).map((r): Packet => {
  const p = emptyPacket();
  p.af = r.af;
  const [src, dst] = r.af === 4 ? [r.a, r.b] : [canonical(r.a6), canonical(r.b6)];
  p.src = src; p.dst = dst; p.sport = r.sport; p.dport = r.dport; p.df = r.af === 4 && r.df;
  const ipLen = r.af === 4 ? 20 : 40;
  if (r.kind === 'tcp') { p.proto = IPPROTO_TCP; p.tcpFlags = r.flags; p.len = ipLen + 20 + r.extra; }
  if (r.kind === 'udp') { p.proto = IPPROTO_UDP; p.len = ipLen + 8 + r.extra; }
  if (r.kind === 'sctp') {
    p.proto = IPPROTO_SCTP; p.sctpChunk = r.chunk; p.sctpChunkLen = r.chunkLen; p.sctpNextChunk = r.next;
    p.len = ipLen + 12 + ((r.chunkLen + 3) & ~3) + 4 + r.extra;
  }
  if (r.kind === 'icmp') {
    p.proto = r.af === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    p.sport = 0; p.dport = 0;
    const inner = emptyPacket();
    Object.assign(inner, {af: r.af, proto: r.innerUdp ? IPPROTO_UDP : IPPROTO_TCP, src: dst, dst: src, sport: r.dport, dport: r.sport, len: ipLen + 20, tcpFlags: 0});
    p.icmp = {type: r.af === 4 ? r.icmpType : r.icmpType === 3 ? 1 : 3, code: 0, checksumOk: r.icmpOk, inner};
    p.len = ipLen + 8 + ipLen + 8 + Math.min(r.extra, 1000);
  }
  return p;
});

function canonical(a: string): string {
  return (decoded(LINKTYPE.RAW, rawIp(Object.assign(emptyPacket(), {af: 6, src: a, dst: a, proto: IPPROTO_UDP, len: 48}))) as Packet).src as string;
}

function engineFields(p: Packet) {
  const base = {af: p.af, proto: p.proto, src: p.src, dst: p.dst, sport: p.sport, dport: p.dport, len: p.len, df: p.df};
  if (p.proto === IPPROTO_TCP) return {...base, tcpFlags: p.tcpFlags};
  if (p.proto === IPPROTO_SCTP) return {...base, sctpChunk: p.sctpChunk, sctpChunkLen: p.sctpChunkLen, sctpNextChunk: p.sctpNextChunk};
  if (p.icmp) {
    const i = p.icmp.inner;
    return {...base, icmp: {type: p.icmp.type, code: p.icmp.code, checksumOk: p.icmp.checksumOk, inner: {af: i.af, proto: i.proto, src: i.src, dst: i.dst, sport: i.sport, dport: i.dport}}};
  }
  return base;
}

describe('writer -> reader round trip', () => {
  it('every field the engine reads survives --capture-out and replay (pcap and pcapng)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-cap-'));
    fc.assert(fc.property(fc.array(packetArb, {minLength: 1, maxLength: 20}), fc.constantFrom('pcap', 'pcapng'), (pkts, ext) => {
      const path = join(dir, `rt.${ext}`);
      const w = new CaptureWriter(path);
      pkts.forEach((p, i) => w.write(i * 7, p, `lvsdeck: packet ${i}`));
      w.close();
      const recs = all(new Uint8Array(readFileSync(path)));
      expect(recs.length).toBe(pkts.length);
      recs.forEach((r, i) => {
        expect(r.sec * 1000 + r.nsec / 1e6).toBe(i * 7);
        const got = decoded(r.linkType, r.data);
        expect(typeof got).toBe('object');
        const g = got as Packet;
        g.len = Math.max(g.len, 0);
        expect(engineFields(g)).toEqual(engineFields(pkts[i]!));
      });
    }), {numRuns: 150});
  });
});

describe('damaged captures', () => {
  const sample = concat(shb(), idb(LINKTYPE.ETHERNET), epb(0, 5n, ethernet(rawIp(syn))), epb(0, 9n, ethernet(rawIp(syn6))));
  const samplePcap = pcapFile(LINKTYPE.LINUX_SLL2, [{sec: 1, frac: 0, data: sll2(rawIp(syn))}, {sec: 2, frac: 0, data: sll2(rawIp(syn6))}]);

  it('cut or overwritten bytes give records or a CaptureError, never another exception', () => {
    fc.assert(fc.property(
      fc.constantFrom(sample, samplePcap), fc.array(fc.tuple(fc.nat(), fc.integer({min: 0, max: 255})), {maxLength: 8}), fc.nat(),
      (base, edits, cut) => {
        const b = base.slice(0, base.length - (cut % (base.length + 1)));
        for (const [at, v] of edits) if (b.length) b[at % b.length] = v;
        try {
          for (const r of all(b)) decoded(r.linkType, r.data);
        } catch (err) {
          if (!(err instanceof CaptureError)) throw err;
        }
      }), {numRuns: 2000});
  });

  it('the decoder returns a reason for any frame bytes instead of throwing', () => {
    fc.assert(fc.property(fc.constantFrom(0, 1, 12, 101, 113, 228, 229, 276), fc.uint8Array({maxLength: 120}), (lt, bytes) => {
      const p = emptyPacket();
      const why = decodeFrame(lt, bytes, bytes.length, p);
      expect(why === null || typeof why === 'string').toBe(true);
    }), {numRuns: 3000});
  });
});
