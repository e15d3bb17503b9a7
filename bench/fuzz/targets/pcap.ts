// Capture files: pcap (either byte order, micro/nanosecond) and pcapng (sections, interfaces with
// options, enhanced/simple packet blocks with options) holding frames of every link layer the
// decoder knows around packets of every protocol, then mutated as bytes. Reading must end in
// records or a CaptureError, and every record is decoded and replayed into an engine.
import {encodePacket} from '../../../src/capture/pcap-write.js';
import {CaptureError, captureFromBytes} from '../../../src/capture/pcap-read.js';
import {ReplaySource} from '../../../src/capture/replay.js';
import {packetFromSpec} from '../../../src/engine/packet.js';
import type {Packet} from '../../../src/engine/types.js';
import {packetDir} from '../../../src/scenario/runner.js';
import {type Rng, chance, int, mutateBytes, pick, smallEngine} from '../mutate.js';

const ENDPOINTS4 = ['198.51.100.7', '192.0.2.1', '10.1.0.2'];
const ENDPOINTS6 = ['[2001:db8::7]', '[2001:db8::1]'];

function packet(rng: Rng): Packet {
  const v6 = chance(rng, 0.3);
  const host = () => pick(rng, v6 ? ENDPOINTS6 : ENDPOINTS4);
  const proto = pick(rng, ['tcp', 'udp', 'sctp', v6 ? 'icmpv6' : 'icmp']);
  const icmp = proto.startsWith('icmp');
  const p = packetFromSpec({
    proto, src: `${host()}:${icmp ? 0 : pick(rng, [80, 53, 40000, int(rng, 65536)])}`,
    dst: `${host()}:${icmp ? 0 : pick(rng, [80, 53, 40000])}`, flags: pick(rng, ['S', 'SA', 'A', 'FA', 'R', 'PA']),
    chunk: proto === 'sctp' ? pick(rng, ['init', 'data', 'cookie_echo', 'abort']) : undefined, len: 40 + int(rng, 1500),
  });
  if (icmp && chance(rng, 0.7)) {
    p.icmp = {type: v6 ? pick(rng, [1, 2, 3]) : pick(rng, [3, 4, 11]), code: int(rng, 5), checksumOk: chance(rng, 0.8),
      inner: packetFromSpec({proto: pick(rng, ['tcp', 'udp']), src: `${host()}:80`, dst: `${host()}:40000`})};
    p.len = v6 ? 96 : 56;
  }
  return p;
}

const LINKS: [number, (ip: Uint8Array, rng: Rng) => number[]][] = [
  [1, (ip, rng) => [...new Array(12).fill(2), ...(chance(rng, 0.3) ? [0x81, 0, 0, 5] : []), ...(ip[0]! >> 4 === 6 ? [0x86, 0xdd] : [8, 0])]],
  [113, (ip, rng) => [0, pick(rng, [0, 4]), 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...(ip[0]! >> 4 === 6 ? [0x86, 0xdd] : [8, 0])]],
  [276, (ip, rng) => [...(ip[0]! >> 4 === 6 ? [0x86, 0xdd] : [8, 0]), 0, 0, 0, 0, 0, 1, 0, 1, pick(rng, [0, 4]), 6, 1, 2, 3, 4, 5, 6, 0, 0]],
  [101, () => []],
  [0, (ip) => [ip[0]! >> 4 === 6 ? 30 : 2, 0, 0, 0]],
];

const u32le = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
const u16le = (v: number) => [v & 255, (v >>> 8) & 255];

function frame(rng: Rng, wrap: (ip: Uint8Array, rng: Rng) => number[]): number[] {
  const buf = new Uint8Array(1500);
  const ip = buf.slice(0, encodePacket(packet(rng), buf));
  return [...wrap(ip, rng), ...ip];
}

function pcapngBlock(type: number, body: number[]): number[] {
  while (body.length % 4) body.push(0);
  const total = body.length + 12;
  return [...u32le(type), ...u32le(total), ...body, ...u32le(total)];
}

function capture(rng: Rng): Uint8Array {
  const [linkType, wrap] = pick(rng, LINKS);
  const n = 1 + int(rng, 6);
  const out: number[] = [];
  if (chance(rng, 0.5)) {
    out.push(...u32le(pick(rng, [0xa1b2c3d4, 0xa1b23c4d])), ...u16le(2), ...u16le(4), ...u32le(0), ...u32le(0), ...u32le(262144), ...u32le(linkType));
    let t = 1_700_000_000;
    for (let i = 0; i < n; i++) {
      const f = frame(rng, wrap);
      t += int(rng, 3);
      out.push(...u32le(t), ...u32le(int(rng, 999_999)), ...u32le(f.length), ...u32le(f.length + int(rng, 100)), ...f);
    }
  } else {
    out.push(...pcapngBlock(0x0a0d0d0a, [...u32le(0x1a2b3c4d), ...u16le(1), ...u16le(0), ...new Array(8).fill(0xff)]));
    const opts = chance(rng, 0.5) ? [...u16le(9), ...u16le(1), pick(rng, [6, 9, 0x8a]), 0, 0, 0, 0, 0, 0, 0] : [];
    out.push(...pcapngBlock(1, [...u16le(linkType), 0, 0, ...u32le(262144), ...opts]));
    for (let i = 0; i < n; i++) {
      const f = frame(rng, wrap);
      if (chance(rng, 0.2)) {
        out.push(...pcapngBlock(3, [...u32le(f.length), ...f]));
        continue;
      }
      const data = [...f];
      while (data.length % 4) data.push(0);
      const flags = chance(rng, 0.3) ? [...u16le(2), ...u16le(4), ...u32le(int(rng, 4)), 0, 0, 0, 0] : [];
      out.push(...pcapngBlock(6, [...u32le(0), ...u32le(int(rng, 400_000)), ...u32le(int(rng, 2 ** 32)), ...u32le(f.length), ...u32le(f.length), ...data, ...flags]));
    }
  }
  return new Uint8Array(out);
}

export default {
  name: 'pcap',
  expectedErrors: [CaptureError],
  run(rng: Rng): void {
    let bytes = capture(rng);
    if (chance(rng, 0.8)) bytes = mutateBytes(rng, bytes);
    const e = smallEngine();
    e.addService({kind: 'addr', af: 4, proto: 'tcp', addr: 0xc0000201, port: 80}, {scheduler: 'rr'});
    e.addDest({kind: 'addr', af: 4, proto: 'tcp', addr: 0xc0000201, port: 80}, 4, 0x0a010002, 80, {fwd: 'masq'});
    const src = new ReplaySource(captureFromBytes(bytes), {maxFrames: 1000, keepOutgoing: chance(rng, 0.5)});
    while (src.nextTime() !== Infinity) {
      // the engine's timers run through every virtual second: keep the clock within an hour
      if (src.nextTime() > e.now && src.nextTime() < 3_600_000) e.tick(src.nextTime());
      const p = src.take();
      if (packetDir(e, p) === 'in') e.inbound(p);
      else e.outbound(p);
      src.advance();
    }
  },
};
