// The lab's attack generators (src/lab/attack.ts) without the lab: what they accept, and the
// spoofed segments they write, read back by the data plane's codec (both families).
import {describe, expect, it} from 'vitest';
import {formatAddr, parseAddrPort} from '../src/engine/addr.js';
import {IPPROTO_TCP} from '../src/engine/constants.js';
import {ipChecksumOk, l4ChecksumOk, newFrame, parsePacket} from '../src/dataplane/codec.js';
import {checkAttack, LIMITS, spoofedSource, tcpSegment} from '../src/lab/attack.js';

describe('attack specifications: bounded, either family, a clear reason otherwise', () => {
  const ok = {kind: 'synflood' as const, to: '198.18.0.10:80', rate: 1000, count: 5000, seconds: 10};
  it('accepts an IPv4 and an IPv6 virtual service', () => {
    expect(checkAttack(ok)).toBeNull();
    expect(checkAttack({...ok, to: '[fd00:18::10]:80'})).toBeNull();
    expect(checkAttack({...ok, kind: 'udpflood', to: '[fd00:18::10]:7'})).toBeNull();
  });
  it.each([
    [{to: 'fd00:18::10:80'}, "--to wants ADDR:PORT or [ADDR6]:PORT, not 'fd00:18::10:80'"],
    [{to: '198.18.0.10'}, "--to wants ADDR:PORT or [ADDR6]:PORT, not '198.18.0.10'"],
    [{rate: LIMITS.rate + 1}, `--rate wants a whole number from 1 to ${LIMITS.rate}, not ${LIMITS.rate + 1}`],
    [{count: 0}, `--count wants a whole number from 1 to ${LIMITS.count}, not 0`],
    [{seconds: 1.5}, `--seconds wants a whole number from 1 to ${LIMITS.seconds}, not 1.5`],
    [{kind: 'connflood', count: LIMITS.connflood + 1}, `--count wants a whole number from 1 to ${LIMITS.connflood}, not ${LIMITS.connflood + 1}`],
  ] as const)('%o is refused', (change, reason) => {
    expect(checkAttack({...ok, ...change} as typeof ok)).toBe(reason);
  });
});

describe('spoofed SYNs as the codec (and so the director) reads them', () => {
  it.each(['198.18.0.10:80', '[fd00:18::10]:80'])('to %s: a valid SYN from the attack range of its family', (target) => {
    const to = parseAddrPort(target)!;
    for (const k of [0, 1, 0x7fff]) {
      const src = spoofedSource(to.addr, k);
      const out = new Uint8Array(64);
      const n = tcpSegment(out, src, 1024 + k, to.addr, to.port, 0x01020304 + k, 0x02);
      const f = newFrame();
      expect(parsePacket(out, n, f)).toBeNull();
      expect([f.pkt.af, f.pkt.proto, f.pkt.tcpFlags, f.pkt.sport, f.pkt.dport]).toEqual([to.af, IPPROTO_TCP, 0x02, 1024 + k, to.port]);
      expect(formatAddr(f.pkt.dst)).toBe(formatAddr(to.addr));
      expect(formatAddr(f.pkt.src)).toMatch(to.af === 4 ? /^198\.18\.(1[2-9]\d|2[0-5]\d)\.\d+$/ : /^fd00:18:0:80::[0-9a-f]+$/);
      expect(ipChecksumOk(f) && l4ChecksumOk(f)).toBe(true);
    }
  });
});
