// Real attacks from the lab's client namespace, bounded in count and time, stopping by themselves,
// at an IPv4 or an IPv6 virtual service:
//   synflood   TCP SYNs from spoofed sources (198.18.128.0/17, fd00:18:0:80::/64), written into a TUN
//              device in the client namespace, which forwards them to the director like any client packet
//   reuse      a port-reuse storm: a few spoofed tuples cycling SYN, ACK, FIN, SYN... on the same ports
//   connflood  real TCP connections (full handshakes) held open and idle
//   udpflood   real UDP datagrams from many source ports
// Run inside lvs-client: `ip netns exec lvs-client node --import tsx src/lab/attack.ts KIND ...`;
// the lab's `startAttack` does that.
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {createSocket} from 'node:dgram';
import {connect, type Socket} from 'node:net';
import {fileURLToPath} from 'node:url';
import {finish, pseudoSum, sum16, write16} from '../dataplane/checksum.js';
import {putAddr} from '../dataplane/codec.js';
import {TunDevice} from '../dataplane/tun.js';
import {type Addr, formatAddr, formatIPv6Groups, parseAddrPort, parseIPv4, parseIPv6Groups} from '../engine/addr.js';
import {RUNNING_FROM_SOURCE} from '../util/package-root.js';
import {CLIENT_NS, SPOOF_NET4, SPOOF_NET6} from './topology.js';

export type AttackKind = 'synflood' | 'reuse' | 'connflood' | 'udpflood';
export const ATTACK_KINDS: AttackKind[] = ['synflood', 'reuse', 'connflood', 'udpflood'];
export const ATTACK_DEV = 'lvs-atk0';

export interface AttackSpec {
  kind: AttackKind;
  /** Virtual service, ADDR:PORT or [ADDR6]:PORT. */
  to: string;
  /** Packets (connections, datagrams) per second. */
  rate: number;
  /** Stop after this many packets / connections / datagrams. */
  count: number;
  /** Stop after this many seconds at the latest. */
  seconds: number;
}

export const LIMITS = {rate: 50_000, count: 1_000_000, seconds: 300, connflood: 20_000};

export function checkAttack(s: AttackSpec): string | null {
  if (!ATTACK_KINDS.includes(s.kind)) return `unknown attack '${s.kind}' (${ATTACK_KINDS.join(', ')})`;
  const to = parseAddrPort(s.to);
  if (!to) return `--to wants ADDR:PORT or [ADDR6]:PORT, not '${s.to}'`;
  for (const [k, max] of [['rate', LIMITS.rate], ['count', s.kind === 'connflood' ? LIMITS.connflood : LIMITS.count], ['seconds', LIMITS.seconds]] as const) {
    const v = s[k];
    if (!Number.isInteger(v) || v < 1 || v > max) return `--${k} wants a whole number from 1 to ${max}, not ${v}`;
  }
  return null;
}

/**
 * A spoofed TCP segment (no options) from the attack range, IPv4 or IPv6 by the addresses' family;
 * checksums complete. Returns its length.
 */
export function tcpSegment(out: Uint8Array, src: Addr, sport: number, dst: Addr, dport: number, seq: number, flags: number): number {
  const v4 = typeof dst === 'number';
  const l3 = v4 ? 20 : 40, len = l3 + 20;
  out.fill(0, 0, len);
  if (v4) {
    out[0] = 0x45;
    write16(out, 2, len);
    write16(out, 6, 0x4000);
    out[8] = 64;
    out[9] = 6;
    putAddr(out, 12, src);
    putAddr(out, 16, dst);
    write16(out, 10, finish(sum16(out, 0, 20)));
  } else {
    out[0] = 0x60;
    write16(out, 4, 20);
    out[6] = 6;
    out[7] = 64;
    putAddr(out, 8, src);
    putAddr(out, 24, dst);
  }
  write16(out, l3, sport);
  write16(out, l3 + 2, dport);
  out[l3 + 4] = seq >>> 24; out[l3 + 5] = (seq >>> 16) & 255; out[l3 + 6] = (seq >>> 8) & 255; out[l3 + 7] = seq & 255;
  out[l3 + 12] = 5 << 4;
  out[l3 + 13] = flags;
  write16(out, l3 + 14, 65535);
  write16(out, l3 + 16, finish(pseudoSum(out, v4 ? 12 : 8, v4 ? 4 : 16, 6, 20) + sum16(out, l3, 20)));
  return len;
}

/** The k-th spoofed source of the attack range of `dst`'s family (k < 2^15). */
export function spoofedSource(dst: Addr, k: number): Addr {
  if (typeof dst === 'number') return (parseIPv4(SPOOF_NET4.split('/')[0]!)! + k) >>> 0;
  const g = parseIPv6Groups(SPOOF_NET6.split('/')[0]!)!;
  g[6] = k >>> 16;
  g[7] = (k & 0xffff) || 1;
  return formatIPv6Groups(g);
}

const SYN = 0x02, ACK = 0x10, FIN = 0x01;

/** Run `tick(n)` with n units due every 10 ms until `count` units ran or time is up. */
async function paced(s: AttackSpec, tick: (n: number, done: number) => void | Promise<void>): Promise<number> {
  const start = Date.now(), end = start + s.seconds * 1000;
  let done = 0;
  while (done < s.count && Date.now() < end) {
    const due = Math.min(s.count, Math.floor(((Date.now() - start) / 1000) * s.rate) + 1);
    if (due > done) {
      const n = Math.min(due - done, 4096);
      await tick(n, done);
      done += n;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return done;
}

async function crafted(s: AttackSpec): Promise<number> {
  const dev = TunDevice.open(ATTACK_DEV);
  try {
    execFileSync('ip', ['link', 'set', 'dev', dev.name, 'up']);
    const to = parseAddrPort(s.to)!;
    const buf = new Uint8Array(4096 * 64), offs = new Uint32Array(4096), lens = new Uint32Array(4096);
    let rnd = 0x9e3779b9;
    const next = () => (rnd = (Math.imul(rnd ^ (rnd >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0);
    // reuse: 16 tuples, each cycling SYN, ACK, FIN then SYN again on the same ports
    const REUSE_STEPS = [SYN, ACK, ACK | FIN];
    return await paced(s, (n, done) => {
      for (let i = 0; i < n; i++) {
        const k = done + i;
        let src: Addr, sport: number, flags: number;
        if (s.kind === 'synflood') {
          src = spoofedSource(to.addr, next() & 0x7fff);
          sport = 1024 + (next() % 64000);
          flags = SYN;
        } else {
          const tuple = k % 16;
          src = spoofedSource(to.addr, 0x7000 + tuple);
          sport = 40000 + tuple;
          flags = REUSE_STEPS[Math.floor(k / 16) % REUSE_STEPS.length]!;
        }
        offs[i] = i * 64;
        lens[i] = tcpSegment(buf.subarray(i * 64), src, sport, to.addr, to.port, next(), flags);
      }
      dev.writeBatch(buf, offs, lens, n);
    });
  } finally {
    dev.close();
  }
}

async function connflood(s: AttackSpec): Promise<number> {
  const to = parseAddrPort(s.to)!;
  const open: Socket[] = [];
  const n = await paced(s, (k) => {
    for (let i = 0; i < k; i++) {
      const c = connect({host: formatAddr(to.addr), port: to.port});
      c.on('error', () => c.destroy());
      open.push(c);
    }
  });
  // hold them (idle, as a connection flood does) until the time is up, then close
  const left = s.seconds * 1000 - 0;
  await new Promise((r) => setTimeout(r, Math.min(left, 5000)));
  for (const c of open) c.destroy();
  return n;
}

async function udpflood(s: AttackSpec): Promise<number> {
  const to = parseAddrPort(s.to)!;
  const host = formatAddr(to.addr), family = to.af === 4 ? 'udp4' : 'udp6';
  const payload = Buffer.alloc(32, 0x78);
  // a new socket (source port) every 64 datagrams
  let sock = createSocket(family);
  const n = await paced(s, (k, done) => {
    for (let i = 0; i < k; i++) {
      if ((done + i) % 64 === 0) {
        sock.close();
        sock = createSocket(family);
        sock.on('error', () => {});
      }
      sock.send(payload, to.port, host);
    }
  });
  sock.close();
  return n;
}

export async function runAttack(s: AttackSpec): Promise<number> {
  const bad = checkAttack(s);
  if (bad) throw new Error(bad);
  switch (s.kind) {
    case 'synflood': case 'reuse': return crafted(s);
    case 'connflood': return connflood(s);
    case 'udpflood': return udpflood(s);
  }
}

const SELF = fileURLToPath(import.meta.url);

/** Start an attack in the client namespace as a child process; it ends by itself. */
export function startAttack(s: AttackSpec, cwd: string): ChildProcess {
  const bad = checkAttack(s);
  if (bad) throw new Error(bad);
  // the script compiled or not: run from the source it needs the tsx loader
  return spawn('ip', ['netns', 'exec', CLIENT_NS, process.execPath, ...(RUNNING_FROM_SOURCE ? ['--import', 'tsx'] : []), SELF,
    s.kind, s.to, String(s.rate), String(s.count), String(s.seconds)], {cwd, stdio: ['ignore', 'pipe', 'pipe']});
}

// `attack.ts KIND ADDR:PORT RATE COUNT SECONDS` (inside the client namespace)
if (process.argv[1] === SELF) {
  const [kind, to, rate, count, seconds] = process.argv.slice(2);
  const spec = {kind: kind as AttackKind, to: to ?? '', rate: Number(rate), count: Number(count), seconds: Number(seconds)};
  runAttack(spec).then((n) => {
    process.stdout.write(`${spec.kind}: ${n} sent\n`);
    process.exit(0);
  }, (e: Error) => {
    process.stderr.write(`lvsdeck attack: ${e.message}\n`);
    process.exit(1);
  });
}
