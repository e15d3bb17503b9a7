// The director loop over a fake device: verdicts applied to real bytes (NAT both ways, ICMP the
// kernel would send, the director's own stack for what IPVS lets through), malformed input counted.
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {formatAddr, parseAddr} from '../src/engine/addr.js';
import {IPPROTO_TCP, IPPROTO_UDP} from '../src/engine/constants.js';
import {Engine} from '../src/engine/engine.js';
import {finish, sum16, write16} from '../src/dataplane/checksum.js';
import {ipChecksumOk, l4ChecksumOk, newFrame, parsePacket, rewriteDestination, type Frame} from '../src/dataplane/codec.js';
import {Director} from '../src/dataplane/director.js';
import {FakePort, LAB_PACKETS as all, v4Syn} from './helpers/packet-port.js';
import {svcKey} from './helpers/engine-fixture.js';

const a = (t: string) => parseAddr(t)!.addr;

function parse(b: Uint8Array): Frame {
  const f = newFrame();
  expect(parsePacket(b, b.length, f)).toBeNull();
  return f;
}

/** The lab's HTTP service on 198.18.0.10:80 with one masquerading real server. */
function setup(opts: {mtu?: number; weight?: number} = {}) {
  const engine = new Engine({seed: 1, mtu: opts.mtu});
  const key = svcKey('tcp', '198.18.0.10:80');
  engine.addService(key, {scheduler: 'rr'});
  engine.addDest(key, 4, a('198.18.2.13'), 80, {fwd: 'masq', weight: opts.weight ?? 1});
  engine.addService(svcKey('udp', '198.18.0.10:7'), {scheduler: 'rr'});
  engine.addDest(svcKey('udp', '198.18.0.10:7'), 4, a('198.18.2.13'), 7, {fwd: 'masq'});
  const port = new FakePort();
  let now = 0;
  const director = new Director(engine, port, {routerAddr4: a('198.18.2.1') as number, now: () => now});
  const send = (...pkts: Uint8Array[]) => {
    port.queue.push(...pkts.map((p) => p.slice()));
    port.written = [];
    director.drain();
    return port.written.map(parse);
  };
  return {engine, director, send, advance: (ms: number) => { now += ms; }};
}

const v4SynAck = () => all.find((b) => b[0] === 0x45 && b[9] === IPPROTO_TCP && b[33] === 0x12 && b[14] === 2)!;
const v4Udp = () => all.find((b) => b[0] === 0x45 && b[9] === IPPROTO_UDP && b[18] === 0 && b[23] === 7)!;

function withDport(b: Uint8Array, port: number): Uint8Array {
  const c = b.slice();
  const f = parse(c);
  // a different service port: recompute the transport checksum from scratch
  write16(c, f.l4Off + 2, port);
  const csumOff = f.l4Off + (f.proto === IPPROTO_TCP ? 16 : 6);
  write16(c, csumOff, 0);
  const len = f.len - f.l4Off;
  write16(c, csumOff, finish(sum16(c, 12, 8, f.proto + len) + sum16(c, f.l4Off, len)));
  return c;
}

describe('director: NAT both ways on real bytes', () => {
  it('a SYN to the VIP goes to the real server (ip_vs_nat_xmit) and its SYN-ACK comes back from the VIP', () => {
    const {engine, send} = setup();
    const [fwd] = send(v4Syn());
    expect(formatAddr(fwd!.pkt.dst)).toBe('198.18.2.13');
    expect(fwd!.pkt.dport).toBe(80);
    expect(ipChecksumOk(fwd!) && l4ChecksumOk(fwd!)).toBe(true);
    expect(engine.conns.count).toBe(1);
    const [back] = send(v4SynAck());
    expect(formatAddr(back!.pkt.src)).toBe('198.18.0.10');
    expect(back!.pkt.sport).toBe(80);
    expect(ipChecksumOk(back!) && l4ChecksumOk(back!)).toBe(true);
  });

  it('no destination available: ICMP port unreachable from the VIP (ip_vs_leave), nothing forwarded', () => {
    const {director, send} = setup({weight: 0});
    const out = send(v4Syn());
    expect(out).toHaveLength(1);
    const icmp = out[0]!.pkt.icmp!;
    expect([icmp.type, icmp.code, formatAddr(out[0]!.pkt.src), formatAddr(out[0]!.pkt.dst)]).toEqual([3, 3, '198.18.0.10', '198.18.1.2']);
    expect(director.counters.icmpSent).toBe(1);
  });

  it('a DF packet above the MTU: fragmentation needed with the MTU (pmtu_disc in ip_vs_nat_xmit)', () => {
    const {send} = setup({mtu: 40});
    send(v4Syn());
    const ack = all.find((b) => b[0] === 0x45 && b[9] === IPPROTO_TCP && b[33] === 0x18 && b[16] === 198 && b[18] === 0)!;
    const out = send(ack);
    expect(out).toHaveLength(1);
    expect([out[0]!.pkt.icmp!.type, out[0]!.pkt.icmp!.code]).toEqual([3, 4]);
    expect(Buffer.from(out[0]!.buf).readUInt16BE(26)).toBe(40);
  });

  it('a reply from a real server with no entry: port unreachable back to it from the director (nat_icmp_send=1)', () => {
    const {engine, send} = setup();
    engine.setTunable('nat_icmp_send', '1');
    const out = send(v4SynAck());
    expect(out).toHaveLength(1);
    expect([out[0]!.pkt.icmp!.type, formatAddr(out[0]!.pkt.src), formatAddr(out[0]!.pkt.dst)]).toEqual([3, '198.18.2.1', '198.18.2.13']);
  });

  it('without nat_icmp_send the same reply is not IPVS\'s business: passed on untouched', () => {
    const {director, send} = setup();
    const out = send(v4SynAck());
    expect(Buffer.from(out[0]!.buf.subarray(0, out[0]!.len)).equals(Buffer.from(v4SynAck()))).toBe(true);
    expect(director.counters.passed).toBe(1);
  });

  it.each(['route', 'tunnel'] as const)('a SYN scheduled to a %s real server is counted once by IPVS and dropped: a TUN device can neither rewrite a MAC nor (here) encapsulate, and written back it would loop into the device', (fwd) => {
    const engine = new Engine({seed: 1});
    const key = svcKey('tcp', '198.18.0.10:80');
    engine.addService(key, {scheduler: 'rr'});
    engine.addDest(key, 4, a('198.18.2.13'), 80, {fwd});
    const port = new FakePort();
    const director = new Director(engine, port);
    port.queue.push(v4Syn().slice());
    director.drain();
    expect(port.written).toEqual([]);
    expect(director.counters.unsupportedForwarding).toBe(1);
    expect(engine.conns.count).toBe(1);
    expect(engine.listServices()[0]!.stats.inpkts).toBe(1);
  });

  it('a SYN scheduled to a real server on the director itself (ip_vs_null_xmit) meets the local stack: a reset', () => {
    const engine = new Engine({seed: 1});
    const key = svcKey('tcp', '198.18.0.10:80');
    engine.addService(key, {scheduler: 'rr'});
    engine.addDest(key, 4, a('198.18.0.10'), 80, {fwd: 'local'});
    const port = new FakePort();
    const director = new Director(engine, port);
    port.queue.push(v4Syn().slice());
    director.drain();
    const [rst] = port.written.map(parse);
    expect([rst!.pkt.tcpFlags, formatAddr(rst!.pkt.src)]).toEqual([0x14, '198.18.0.10']);
    expect(director.counters.resets).toBe(1);
  });

  it('a datagram to an unused address of a network routed into the device gets host unreachable (it would otherwise come back until its TTL ran out); outside such networks it is passed on', () => {
    const engine = new Engine({seed: 1});
    const port = new FakePort();
    const director = new Director(engine, port, {routerAddr4: a('198.18.2.1') as number, routedIntoDevice: ['198.18.0.0/24', 'fd00:18::/64']});
    const toUnused = (dst: string) => {
      const f = parse(v4Udp().slice());
      rewriteDestination(f, a(dst), 7);
      return f.buf.slice(0, f.len);
    };
    port.queue.push(toUnused('198.18.0.50'), toUnused('198.18.5.50'));
    director.drain();
    const [unreach, passed] = port.written.map(parse);
    expect([unreach!.pkt.icmp!.type, unreach!.pkt.icmp!.code, formatAddr(unreach!.pkt.src), formatAddr(unreach!.pkt.dst)])
      .toEqual([3, 1, '198.18.2.1', '198.18.1.2']);
    expect(formatAddr(unreach!.pkt.icmp!.inner.dst)).toBe('198.18.0.50');
    expect(formatAddr(passed!.pkt.dst)).toBe('198.18.5.50');
    expect([director.counters.unroutable, director.counters.passed]).toEqual([1, 1]);
    expect(() => new Director(engine, port, {routedIntoDevice: ['198.18.0.0/33']})).toThrow('routedIntoDevice: not a network: 198.18.0.0/33');
  });

  it('the VIP\'s own stack listens on nothing else: TCP gets a reset, UDP port unreachable', () => {
    const {send} = setup();
    const [rst] = send(withDport(v4Syn(), 22));
    expect(rst!.pkt.tcpFlags).toBe(0x14);
    expect(formatAddr(rst!.pkt.src)).toBe('198.18.0.10');
    const [unreach] = send(withDport(v4Udp(), 5353));
    expect([unreach!.pkt.icmp!.type, unreach!.pkt.icmp!.code]).toEqual([3, 3]);
  });

  it('ICMP errors are rate-limited like icmp_global_allow (burst, then per-second tokens)', () => {
    const {director, send, advance} = setup({weight: 0});
    const syn = v4Syn();
    send(...Array.from({length: 60}, () => syn));
    expect(director.counters.icmpSent).toBe(50);
    expect(director.counters.icmpRateLimited).toBe(10);
    advance(100); // 1000/s: 100 more tokens, capped at the burst of 50
    send(...Array.from({length: 60}, () => syn));
    expect(director.counters.icmpSent).toBe(100);
  });
});

describe('director: hostile input', () => {
  it('malformed packets are counted by reason and dropped; the loop goes on', () => {
    const {director, send} = setup();
    const cut = v4Syn().subarray(0, 10);
    const out = send(cut, new Uint8Array([0x99, 1, 2]), v4Syn());
    expect(out).toHaveLength(1);
    expect(director.counters.malformed.truncated).toBe(1);
    expect(director.counters.malformed['bad-version']).toBe(1);
  });

  it('random mutations of real packets never throw and every packet is accounted for', () => {
    const {director, send} = setup();
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({min: 0, max: all.length - 1}), fc.nat(), fc.integer({min: 0, max: 255})), {minLength: 1, maxLength: 40}), (muts) => {
      const pkts = muts.map(([i, pos, v]) => {
        const b = all[i]!.slice();
        b[pos % b.length] = v;
        return b;
      });
      const before = director.counters.read;
      send(...pkts);
      return director.counters.read - before === pkts.length;
    }), {numRuns: 300});
  });
});
