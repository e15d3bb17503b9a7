// The data plane's packet codec against packets the real kernel produced in the lab (captured on
// lvs-tun0 by test/dataplane-fixtures/capture.ts, with Wireshark's reading of each): parsing,
// the NAT rewrites and their incremental checksums (RFC 1624), the ICMP errors icmp_send builds,
// and hostile input (never an exception, always a reason).
import fc from 'fast-check';
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {formatAddr, parseAddr} from '../src/engine/addr.js';
import {IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SCTP_CHUNK} from '../src/engine/constants.js';
import {finish, read16, sctpChecksum, sum16, write16, writeSctpChecksum} from '../src/dataplane/checksum.js';
import {
  buildIcmpError, buildTcpReset, ipChecksumOk, l4ChecksumOk, natIcmp, newFrame, parsePacket, rewriteDestination,
  rewriteSource, sctpChecksumOk,
} from '../src/dataplane/codec.js';

interface Captured {hex: string; tshark: Record<string, string>}
const {packets} = JSON.parse(readFileSync(new URL('./dataplane-fixtures/lab-packets.json', import.meta.url), 'utf8')) as {packets: Captured[]};
const bytesOf = (c: Captured) => new Uint8Array(Buffer.from(c.hex, 'hex'));
/** tshark lists every occurrence (outer header, then the ICMP quote's) joined by a backslash. */
const occurrences = (v: string | undefined) => v?.split(/[\\/]/) ?? [];
const first = (v: string | undefined) => occurrences(v)[0];
const VIPS = new Set(['198.18.0.10', 'fd00:18::10']);

function parsed(b: Uint8Array) {
  const f = newFrame();
  const bad = parsePacket(b, b.length, f);
  expect(bad).toBeNull();
  return f;
}

describe('parsing packets captured from the kernel (compared with tshark)', () => {
  it('has IPv4 and IPv6, TCP, UDP and ICMP errors of both families in the capture', () => {
    const t = packets.map((p) => p.tshark);
    expect(t.some((x) => x['ip.proto'] === '6')).toBe(true);
    expect(t.some((x) => x['ipv6.nxt'] === '6')).toBe(true);
    expect(t.some((x) => first(x['ip.proto']) === '17')).toBe(true);
    expect(t.some((x) => x['icmp.type'] === '3')).toBe(true);
    expect(t.some((x) => x['icmpv6.type'] === '1')).toBe(true);
    // errors quoting TCP: the director's kernel on a 1280-byte path (fragmentation needed, packet too big)
    expect(t.some((x) => x['icmp.type'] === '3' && x['icmp.code'] === '4' && x['icmp.mtu'] === '1280' && first(x['ip.proto']) === '1' && occurrences(x['ip.proto'])[1] === '6')).toBe(true);
    expect(t.some((x) => x['icmpv6.type'] === '2' && x['icmpv6.mtu'] === '1280' && occurrences(x['ipv6.nxt'])[1] === '6')).toBe(true);
  });

  it.each(packets.map((p, i) => [i, p] as const))('packet %i: addresses, ports, flags, length and ICMP type as Wireshark reads them', (_i, c) => {
    const f = parsed(bytesOf(c));
    const t = c.tshark, p = f.pkt;
    const af = t['ip.src'] ? 4 : 6;
    expect(p.af).toBe(af);
    expect(formatAddr(p.src)).toBe(first(af === 4 ? t['ip.src'] : t['ipv6.src']));
    expect(formatAddr(p.dst)).toBe(first(af === 4 ? t['ip.dst'] : t['ipv6.dst']));
    if (af === 4) {
      expect(p.len).toBe(Number(first(t['ip.len'])));
      expect(p.df).toBe(first(t['ip.flags.df']) === '1' || first(t['ip.flags.df']) === 'True');
    } else {
      expect(p.len).toBe(40 + Number(first(t['ipv6.plen'])));
    }
    const icmpType = t['icmp.type'] ?? t['icmpv6.type'];
    if (p.proto === IPPROTO_TCP) {
      expect(p.sport).toBe(Number(t['tcp.srcport']));
      expect(p.dport).toBe(Number(t['tcp.dstport']));
      expect(p.tcpFlags).toBe(Number(t['tcp.flags']) & 0xff);
    } else if (p.proto === IPPROTO_UDP) {
      expect(p.sport).toBe(Number(first(t['udp.srcport'])));
      expect(p.dport).toBe(Number(first(t['udp.dstport'])));
    } else if (icmpType !== undefined && Number(icmpType) < 128 && p.icmp) {
      // an ICMP error: the quoted packet is Wireshark's second IP header and the UDP or TCP header it carries
      expect(p.icmp.type).toBe(Number(icmpType));
      expect(p.icmp.code).toBe(Number(t['icmp.code'] ?? t['icmpv6.code']));
      expect(p.icmp.checksumOk).toBe(true);
      const inner = p.icmp.inner;
      expect(formatAddr(inner.src)).toBe(occurrences(af === 4 ? t['ip.src'] : t['ipv6.src'])[1]);
      expect(formatAddr(inner.dst)).toBe(occurrences(af === 4 ? t['ip.dst'] : t['ipv6.dst'])[1]);
      const l4 = inner.proto === IPPROTO_TCP ? 'tcp' : 'udp';
      expect(inner.proto).toBe(Number(occurrences(af === 4 ? t['ip.proto'] : t['ipv6.nxt'])[1]));
      expect(inner.sport).toBe(Number(t[`${l4}.srcport`]));
      expect(inner.dport).toBe(Number(t[`${l4}.dstport`]));
      if (inner.proto === IPPROTO_TCP) expect(inner.tcpFlags).toBe(Number(t['tcp.flags']) & 0xff);
      // fragmentation needed (IPv4, 16 bits at offset 6) and packet too big (IPv6, 32 bits at 4) carry the next hop's MTU
      const mtu = t['icmp.mtu'] ?? t['icmpv6.mtu'];
      if (mtu !== undefined) {
        const at = f.l4Off;
        expect(af === 4 ? read16(f.buf, at + 6) : Buffer.from(f.buf).readUInt32BE(at + 4)).toBe(Number(mtu));
      }
    }
  });
});

/** Pairs (kernel's packet, the director's rewrite of it) found in the capture by their transport bytes. */
function natPairs(): {orig: Uint8Array; out: Uint8Array; inbound: boolean; icmp: boolean}[] {
  const frames = packets.map((c) => ({b: bytesOf(c), f: parsed(bytesOf(c))}));
  const pairs = [];
  for (let i = 0; i < frames.length; i++) {
    const a = frames[i]!;
    const inbound = VIPS.has(formatAddr(a.f.pkt.dst));
    const fromServer = /^(198\.18\.2\.|fd00:18:0:2::)/.test(formatAddr(a.f.pkt.src));
    if (!inbound && !fromServer) continue;
    for (let j = i + 1; j < frames.length; j++) {
      const b = frames[j]!;
      if (b.b.length !== a.b.length || b.f.proto !== a.f.proto) continue;
      // the same packet after NAT: one side of the address pair changed, the other did not
      const same = inbound ? formatAddr(b.f.pkt.src) === formatAddr(a.f.pkt.src) && !VIPS.has(formatAddr(b.f.pkt.dst))
        : formatAddr(b.f.pkt.dst) === formatAddr(a.f.pkt.dst) && VIPS.has(formatAddr(b.f.pkt.src));
      // the bytes NAT leaves alone: after the ports (of the quoted header, for an ICMP error)
      const payloadOff = (a.f.pkt.icmp ? a.f.innerL4Off : a.f.l4Off) + 4;
      const tail = (x: Uint8Array) => Buffer.from(x.subarray(payloadOff, payloadOff + 12)).toString('hex');
      if (same && tail(a.b) === tail(b.b)) {
        pairs.push({orig: a.b, out: b.b, inbound, icmp: a.f.pkt.icmp !== null});
        break;
      }
    }
  }
  return pairs;
}

describe('NAT rewrites of kernel packets (ip_vs_nat_xmit, *_snat_handler, ip_vs_nat_icmp)', () => {
  const pairs = natPairs();
  it('finds inbound and outbound pairs of both families, ICMP errors of both families and directions included', () => {
    expect(pairs.filter((p) => p.inbound && !p.icmp).length).toBeGreaterThanOrEqual(6);
    expect(pairs.filter((p) => !p.inbound && !p.icmp).length).toBeGreaterThanOrEqual(6);
    const icmp = (af: number, inbound: boolean, innerProto: number) => pairs.filter((p) => {
      const f = parsed(p.orig);
      return p.icmp && p.inbound === inbound && f.af === af && f.pkt.icmp!.inner.proto === innerProto;
    }).length;
    for (const af of [4, 6]) {
      // a real server's port unreachable on the way out, the client's on the way in (quoting UDP)
      expect(icmp(af, false, IPPROTO_UDP), `IPv${af} out`).toBeGreaterThanOrEqual(1);
      expect(icmp(af, true, IPPROTO_UDP), `IPv${af} in`).toBeGreaterThanOrEqual(1);
      // the director's own fragmentation needed / packet too big to the VIP, quoting TCP (ip_vs_in_icmp)
      expect(icmp(af, true, IPPROTO_TCP), `IPv${af} in, TCP quote`).toBeGreaterThanOrEqual(1);
    }
  });

  it.each(pairs.map((p, i) => [i, p] as const))('pair %i: the rewrite reproduces the forwarded bytes and every checksum verifies', (_i, pr) => {
    const f = parsed(pr.orig.slice());
    const target = parsed(pr.out);
    if (pr.icmp) {
      const addr = pr.inbound ? target.pkt.dst : target.pkt.src;
      const port = pr.inbound ? target.pkt.icmp!.inner.sport : target.pkt.icmp!.inner.dport;
      natIcmp(f, pr.inbound, addr, port);
    } else if (pr.inbound) {
      rewriteDestination(f, target.pkt.dst, target.pkt.dport);
    } else {
      rewriteSource(f, target.pkt.src, target.pkt.sport);
    }
    expect(Buffer.from(f.buf.subarray(0, f.len)).toString('hex')).toBe(Buffer.from(pr.out).toString('hex'));
    expect(ipChecksumOk(f)).toBe(true);
    expect(l4ChecksumOk(f)).toBe(true);
  });
});

describe('incremental checksums (RFC 1624) equal full recomputation', () => {
  const v4tcp = packets.map(bytesOf).find((b) => b[0] === 0x45 && b[9] === IPPROTO_TCP)!;
  it('any destination and port on any TCP packet keeps both checksums valid', () => {
    fc.assert(fc.property(fc.integer({min: 0, max: 0xffffffff}), fc.integer({min: 0, max: 65535}), fc.boolean(), (addr, port, dst) => {
      const f = parsed(v4tcp.slice());
      if (dst) rewriteDestination(f, addr >>> 0, port);
      else rewriteSource(f, addr >>> 0, port);
      return ipChecksumOk(f) && l4ChecksumOk(f);
    }), {numRuns: 300});
  });

  it('an IPv4 UDP datagram without a checksum (0) keeps none (udp_manip_pkt)', () => {
    const b = packets.map(bytesOf).find((x) => x[0] === 0x45 && x[9] === IPPROTO_UDP)!.slice();
    write16(b, 20 + 6, 0);
    const f = parsed(b);
    rewriteDestination(f, parseAddr('198.18.2.99')!.addr, 7777);
    expect(read16(f.buf, 26)).toBe(0);
    expect(ipChecksumOk(f)).toBe(true);
  });
});

describe('ICMP errors as the kernel builds them (icmp_send, icmp6_send)', () => {
  // In the capture a real server's kernel answered UDP to port 9 with port unreachable. The quote
  // carries the datagram as the server received it: one hop later than on lvs-tun0 (TTL - 1).
  function forwardedOnce(b: Uint8Array): Uint8Array {
    const c = b.slice();
    if (c[0]! >> 4 === 4) {
      c[8]!--;
      write16(c, 10, 0);
      write16(c, 10, finish(sum16(c, 0, 20)));
    } else c[7]!--;
    return c;
  }
  const all = packets.map(bytesOf);
  const kernelErrors = all.map((b) => parsed(b)).filter((f) => f.pkt.icmp && /^(198\.18\.2\.|fd00:18:0:2::)/.test(formatAddr(f.pkt.src)));

  it.each(kernelErrors.map((f) => [f.af, f] as const))('IPv%i port unreachable: our bytes equal the kernel\'s but for the IP id and hop count', (af, kernel) => {
    const inner = kernel.pkt.icmp!.inner;
    const datagram = all.find((b) => {
      const f = parsed(b);
      return f.proto === IPPROTO_UDP && formatAddr(f.pkt.dst) === formatAddr(inner.dst) && f.pkt.sport === inner.sport;
    })!;
    const f = parsed(forwardedOnce(datagram));
    const out = new Uint8Array(1500);
    const type = af === 4 ? 3 : 1, code = af === 4 ? 3 : 4;
    const n = buildIcmpError(f, type, code, 0, kernel.pkt.src, out);
    const ours = Buffer.from(out.subarray(0, n)), theirs = Buffer.from(kernel.buf.subarray(0, kernel.len));
    expect(n).toBe(kernel.len);
    // blank what legitimately differs: IPv4 id, TTL and header checksum; IPv6 flow label and hop limit
    const blank = (x: Buffer) => {
      const y = Buffer.from(x);
      if (af === 4) { y.fill(0, 4, 6); y[8] = 0; y.fill(0, 10, 12); } else { y[1]! &= 0xf0; y.fill(0, 2, 4); y[7] = 0; }
      return y.toString('hex');
    };
    expect(blank(ours)).toBe(blank(theirs));
  });

  it('fragmentation needed carries the next-hop MTU; packet too big (IPv6) its 32-bit MTU', () => {
    const v4 = parsed(all.find((b) => b[0] === 0x45 && b[9] === IPPROTO_TCP)!);
    const out = new Uint8Array(1500);
    const n = buildIcmpError(v4, 3, 4, 1400, parseAddr('198.18.0.10')!.addr, out);
    const e = parsed(out.subarray(0, n));
    expect([e.pkt.icmp!.type, e.pkt.icmp!.code, read16(out, 26), e.pkt.icmp!.checksumOk]).toEqual([3, 4, 1400, true]);
    const v6 = parsed(all.find((b) => b[0]! >> 4 === 6 && b[6] === IPPROTO_TCP)!);
    const m = buildIcmpError(v6, 2, 0, 1280, 'fd00:18::10', out);
    const e6 = parsed(out.subarray(0, m));
    expect([e6.pkt.icmp!.type, read16(out, 46), e6.pkt.icmp!.checksumOk]).toEqual([2, 1280, true]);
  });

  it('never answers an ICMP error with an ICMP error', () => {
    expect(buildIcmpError(kernelErrors[0]!, 3, 3, 0, 0x01020304, new Uint8Array(1500))).toBe(0);
  });

  it('a reset for a segment to a closed port follows tcp_v4_send_reset (ack = seq + SYN)', () => {
    const syn = parsed(all.find((b) => b[0] === 0x45 && b[9] === IPPROTO_TCP && b[33] === 0x02)!);
    const out = new Uint8Array(100);
    const n = buildTcpReset(syn, out);
    const r = parsed(out.subarray(0, n));
    const seq = Buffer.from(syn.buf).readUInt32BE(syn.l4Off + 4);
    expect(r.pkt.tcpFlags).toBe(0x14);
    expect(Buffer.from(out).readUInt32BE(20 + 8)).toBe((seq + 1) >>> 0);
    expect([r.pkt.src, r.pkt.sport, r.pkt.dst, r.pkt.dport]).toEqual([syn.pkt.dst, syn.pkt.dport, syn.pkt.src, syn.pkt.sport]);
    expect(ipChecksumOk(r) && l4ChecksumOk(r)).toBe(true);
  });
});

describe('SCTP (CRC32c, RFC 3309)', () => {
  function sctpInit(): Uint8Array {
    const b = new Uint8Array(20 + 12 + 20);
    b[0] = 0x45; write16(b, 2, b.length); b[8] = 64; b[9] = IPPROTO_SCTP;
    b.set([198, 18, 1, 2], 12); b.set([198, 18, 0, 10], 16);
    write16(b, 10, finish(sum16(b, 0, 20)));
    write16(b, 20, 40000); write16(b, 22, 3868);
    b[32] = SCTP_CHUNK.INIT; write16(b, 34, 20);
    writeSctpChecksum(b, 20, sctpChecksum(b, 20, 32));
    return b;
  }
  it('reads the first chunk and keeps the CRC valid when NAT changes the port', () => {
    const f = parsed(sctpInit());
    expect([f.pkt.sctpChunk, f.pkt.sctpChunkLen, f.pkt.sctpNextChunk]).toEqual([SCTP_CHUNK.INIT, 20, -1]);
    expect(sctpChecksumOk(f)).toBe(true);
    rewriteDestination(f, parseAddr('198.18.2.11')!.addr, 3869);
    expect(sctpChecksumOk(f) && ipChecksumOk(f)).toBe(true);
  });
  it('a CRC32c check value (RFC 3720 B.4: 32 zero bytes -> 0x8a9136aa)', () => {
    // the checksum field (bytes 8-11) counts as zero, as it does for the 32 zeros
    expect(sctpChecksum(new Uint8Array(32), 0, 32)).toBe(0x8a9136aa);
  });
});

describe('malformed packets: a reason, never an exception', () => {
  const all = packets.map(bytesOf);
  it.each([
    ['empty', new Uint8Array(0), 'truncated'],
    ['IPv4 header cut', all.find((b) => b[0] === 0x45)!.subarray(0, 12), 'truncated'],
    ['IPv4 total length beyond the read', all.find((b) => b[0] === 0x45)!.subarray(0, 30), 'bad-total-length'],
    ['version 5', Uint8Array.from([0x55, ...new Array(40).fill(0)]), 'bad-version'],
    ['IHL below 5', Uint8Array.from([0x44, ...new Array(40).fill(0)]), 'bad-header-length'],
  ] as const)('%s -> %s', (_n, b, reason) => {
    expect(parsePacket(b, b.length, newFrame())).toBe(reason);
  });

  it('a corrupted IPv4 header checksum is refused (ip_rcv drops it before IPVS)', () => {
    const b = all.find((x) => x[0] === 0x45)!.slice();
    b[10]! ^= 0xff;
    expect(parsePacket(b, b.length, newFrame())).toBe('bad-ip-checksum');
  });

  it('fragments are refused (IPVS sees reassembled packets only)', () => {
    const b = all.find((x) => x[0] === 0x45 && x[9] === IPPROTO_TCP)!.slice();
    write16(b, 6, 0x2000); // more fragments
    write16(b, 10, 0);
    write16(b, 10, finish(sum16(b, 0, 20)));
    expect(parsePacket(b, b.length, newFrame())).toBe('fragment');
  });

  it('random bytes, truncations and bit flips of real packets never throw', () => {
    const f = newFrame();
    fc.assert(fc.property(fc.integer({min: 0, max: all.length - 1}), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({min: 0, max: 255})), {maxLength: 6}),
      fc.uint8Array({maxLength: 80}), fc.boolean(), (i, cut, flips, noise, useNoise) => {
        let b = useNoise ? noise : all[i]!.slice(0, Math.max(0, all[i]!.length - (cut % 40)));
        b = b.slice();
        for (const [pos, v] of flips) if (b.length) b[pos % b.length] = v;
        const r = parsePacket(b, b.length, f);
        return r === null || typeof r === 'string';
      }), {numRuns: 3000});
  });
});
