// Traffic generators on virtual time, all seeded: normal clients, SYN flood, connection flood,
// ACK/RST floods, UDP flood and a port-reuse storm. Each generator is a small event source; the
// mixer merges them in time order and feeds the engine packet by packet.
import {type Addr, type Af, parseAddrPort, parseCidr} from '../engine/addr.js';
import {TCP_FLAG} from '../engine/constants.js';
import type {Engine} from '../engine/engine.js';
import {emptyPacket, setTcp, setUdp} from '../engine/packet.js';
import {type Rng, seededRng} from '../engine/rng.js';
import type {Packet, Verdict} from '../engine/types.js';
import {BOUNDS} from '../util/bounds.js';
import {TimeHeap} from './heap.js';

export const GENERATOR_KINDS = ['clients', 'synflood', 'connflood', 'ackflood', 'rstflood', 'udpflood', 'portreuse'] as const;
export type GeneratorKind = (typeof GENERATOR_KINDS)[number];

export interface GeneratorSpec {
  kind: GeneratorKind;
  /** Target VIP:PORT. */
  to: string;
  /** Arrivals per second (sessions, or packets for the floods). */
  rate: number;
  /** Source block (CIDR); defaults differ per kind (clients 192.0.2.0/24, floods 198.18.0.0/15). */
  from?: string;
  /** clients/portreuse: request and response sizes in bytes. */
  request?: number;
  response?: number;
  /** clients: seconds a session stays open after the response before closing. */
  hold?: number;
  /** clients: who closes first; 'hold' keeps the connection open until it times out. */
  close?: 'client' | 'server' | 'hold';
  /** Round-trip time in ms between client and real server (default 20). */
  rttMs?: number;
  /** portreuse: distinct clients and ports each reuses; reconnect delay in seconds. */
  clients?: number;
  ports?: number;
  reuseAfter?: number;
  /** udpflood/ackflood...: packet length in bytes. */
  len?: number;
  /** Cap on sessions in flight (protects the process's own memory). */
  maxPending?: number;
  /** clients: transport of the sessions (default tcp); a UDP session is one request and its reply. */
  proto?: 'tcp' | 'udp';
  /** Poisson arrivals (default) or evenly spaced. */
  arrivals?: 'poisson' | 'uniform';
}

export interface GeneratorStats {
  sessions: number;
  packetsIn: number;
  packetsOut: number;
  forwarded: number;
  dropped: number;
  accepted: number;
  /** Arrivals skipped because maxPending sessions were in flight. */
  capped: number;
}

interface Session {
  step: number;
  af: Af;
  client: Addr;
  cport: number;
  /** Reply source once scheduled (NAT real server), or null if replies bypass the director. */
  rs: Addr | null;
  rsPort: number;
  synTries: number;
  responseSegs: number;
}

const DEFAULT_FROM: Record<GeneratorKind, string> = {
  clients: '192.0.2.0/24', portreuse: '192.0.2.0/24', synflood: '198.18.0.0/15', connflood: '198.18.0.0/15',
  ackflood: '198.18.0.0/15', rstflood: '198.18.0.0/15', udpflood: '198.18.0.0/15',
};

/** A refused spec; `field` names the key at fault (the scenario loader points at it). */
export class GeneratorError extends Error {
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

const CLOSE_MODES = ['client', 'server', 'hold'] as const;
const ARRIVALS = ['poisson', 'uniform'] as const;

/** Numeric keys: [min, max, whole numbers only]; the maxima are the shared bounds (docs/bounds.md). */
const NUMERIC: Record<string, [number, number, boolean]> = {
  rate: [0, BOUNDS.trafficRate, false],
  request: [0, BOUNDS.sessionBytes, true],
  response: [0, BOUNDS.sessionBytes, true],
  hold: [0, BOUNDS.runMs / 1000, false],
  reuseAfter: [0, BOUNDS.runMs / 1000, false],
  rttMs: [0, 60_000, false],
  clients: [1, 65_536, true],
  ports: [1, 65_535, true],
  len: [20, BOUNDS.packetBytes, true],
  maxPending: [0, 1_000_000, true],
};

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** Validate a spec (every key's type and range); throws GeneratorError naming the key. */
export function checkSpec(spec: GeneratorSpec): void {
  const s = spec as unknown as Record<string, unknown>;
  if (typeof s.kind !== 'string' || !GENERATOR_KINDS.includes(s.kind as GeneratorKind)) {
    throw new GeneratorError(`kind: unknown traffic kind ${describeValue(s.kind)} (${GENERATOR_KINDS.join(', ')})`, 'kind');
  }
  if (typeof s.to !== 'string' || !parseAddrPort(s.to)) throw new GeneratorError(`to: expected VIP:PORT as text, got ${describeValue(s.to)}`, 'to');
  if (s.from !== undefined && (typeof s.from !== 'string' || !parseCidr(s.from))) {
    throw new GeneratorError(`from: expected a source block like 198.18.0.0/15, got ${describeValue(s.from)}`, 'from');
  }
  if (s.rate === undefined) throw new GeneratorError('rate: required (arrivals per second)', 'rate');
  for (const [k, [min, max, whole]] of Object.entries(NUMERIC)) {
    const v = s[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || (whole && !Number.isInteger(v))) {
      throw new GeneratorError(`${k}: expected ${whole ? 'a whole number' : 'a number'}, got ${describeValue(v)}`, k);
    }
    if (v < min || v > max) throw new GeneratorError(`${k}: ${v} is outside ${min}..${max} (see docs/bounds.md)`, k);
  }
  if (s.proto !== undefined && s.proto !== 'tcp' && s.proto !== 'udp') throw new GeneratorError(`proto: expected tcp or udp, got ${describeValue(s.proto)}`, 'proto');
  if (s.close !== undefined && !CLOSE_MODES.includes(s.close as never)) throw new GeneratorError(`close: expected one of ${CLOSE_MODES.join(', ')}, got ${describeValue(s.close)}`, 'close');
  if (s.arrivals !== undefined && !ARRIVALS.includes(s.arrivals as never)) throw new GeneratorError(`arrivals: expected poisson or uniform, got ${describeValue(s.arrivals)}`, 'arrivals');
}

const MSS = 1460;
const MAX_RESPONSE_SEGS = 64;
/** SYN retransmissions of a Linux client: 1 s, then 2 s later. */
const SYN_RETRY_MS = [1000, 2000];

/** Where a generator's packets go (default: straight into the engine); lets a runner trace them. */
export type PacketSink = (dir: 'in' | 'out', p: Packet) => Verdict;

export class Generator {
  /** Arrivals stop at this virtual time (sessions in flight still finish). */
  stopAt = Infinity;
  /** Optional packet sink (tracing); the engine's inbound/outbound otherwise. */
  sink: PacketSink | null = null;
  readonly stats: GeneratorStats = {sessions: 0, packetsIn: 0, packetsOut: 0, forwarded: 0, dropped: 0, accepted: 0, capped: 0};
  running = true;
  private readonly rng: Rng;
  private readonly pkt: Packet = emptyPacket();
  private readonly af: Af;
  private readonly vip: Addr;
  private readonly vport: number;
  private readonly srcBase: Addr;
  private readonly srcSize: number;
  private nextArrival: number;
  private readonly pending = new TimeHeap<Session>();
  private reuseCursor = 0;
  private readonly rtt: number;

  constructor(readonly id: string, readonly spec: GeneratorSpec, seed: number, startAt: number,
    private readonly failed: ReadonlySet<string>) {
    checkSpec(spec);
    this.rng = seededRng(seed);
    const to = parseAddrPort(spec.to)!;
    this.af = to.af;
    this.vip = to.addr;
    this.vport = to.port;
    const cidr = parseCidr(spec.from ?? DEFAULT_FROM[spec.kind])!;
    if (cidr.af !== this.af) throw new GeneratorError(`source block ${spec.from} and target ${spec.to} differ in family`);
    this.srcBase = cidr.base;
    this.srcSize = cidr.af === 4 ? 2 ** (32 - cidr.prefix) : 2 ** Math.min(32, 128 - cidr.prefix);
    this.rtt = spec.rttMs ?? 20;
    this.nextArrival = startAt + this.interArrival();
  }

  get rate(): number {
    return this.spec.rate;
  }

  setRate(rate: number, now: number): void {
    if (!(rate >= 0) || !Number.isFinite(rate) || rate > BOUNDS.trafficRate) throw new GeneratorError(`rate: ${rate} is outside 0..${BOUNDS.trafficRate} (see docs/bounds.md)`, 'rate');
    this.spec.rate = rate;
    this.nextArrival = now + this.interArrival();
  }

  start(now: number): void {
    this.running = true;
    this.nextArrival = now + this.interArrival();
  }

  stop(): void {
    this.running = false;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Time of this generator's next event (Infinity if none). */
  nextTime(): number {
    const a = this.running && this.spec.rate > 0 && this.nextArrival < this.stopAt ? this.nextArrival : Infinity;
    return Math.min(a, this.pending.peekTime());
  }

  /** Emit the next event: an arrival or a pending session step. The engine is already at `now`. */
  fire(e: Engine, now: number): void {
    const arrival = this.running && this.spec.rate > 0 && this.nextArrival < this.stopAt ? this.nextArrival : Infinity;
    if (this.pending.peekTime() <= now && !(arrival < this.pending.peekTime())) {
      const s = this.pending.pop()!;
      if (this.spec.proto === 'udp' && this.spec.kind === 'clients') this.udpExchange(e, now, s);
      else this.sessionStep(e, now, s);
      return;
    }
    this.nextArrival = now + this.interArrival();
    this.arrival(e, now);
  }

  private interArrival(): number {
    const rate = this.spec.rate;
    if (rate <= 0) return Infinity;
    if (this.spec.arrivals === 'uniform') return 1000 / rate;
    return (-Math.log(1 - this.rng.float()) * 1000) / rate;
  }

  private randomSource(): Addr {
    const off = this.srcSize <= 1 ? 0 : this.rng.u32() % this.srcSize;
    if (this.af === 4) return ((this.srcBase as number) + off) >>> 0;
    const base = this.srcBase as string;
    const head = base.endsWith('::') ? base : `${base}:`;
    return `${head}${(off >>> 16).toString(16)}:${(off & 0xffff).toString(16)}`.replace(':::', '::');
  }

  private randomPort(): number {
    return 1024 + (this.rng.u32() % 64512);
  }

  private count(v: Verdict): Verdict {
    if (v.action === 'drop') this.stats.dropped++;
    else if (v.action === 'accept') this.stats.accepted++;
    else this.stats.forwarded++;
    return v;
  }

  private in(e: Engine, p: Packet): Verdict {
    this.stats.packetsIn++;
    return this.count(this.sink ? this.sink('in', p) : e.inbound(p));
  }

  private out(e: Engine, p: Packet): void {
    this.stats.packetsOut++;
    if (this.sink) this.sink('out', p);
    else e.outbound(p);
  }

  private sendIn(e: Engine, src: Addr, sport: number, flags: number, len: number): Verdict {
    return this.in(e, setTcp(this.pkt, this.af, src, sport, this.vip, this.vport, flags, len));
  }

  private sendOut(e: Engine, s: Session, flags: number, len: number): void {
    if (s.rs === null || this.failed.has(`${s.rs}|${s.rsPort}`)) return;
    this.out(e, setTcp(this.pkt, this.af, s.rs, s.rsPort, s.client, s.cport, flags, len));
  }

  private schedule(at: number, s: Session): void {
    this.pending.push(at, s);
  }

  private newSession(client: Addr, cport: number): Session | null {
    if (this.pending.size >= (this.spec.maxPending ?? 200_000)) {
      this.stats.capped++;
      return null;
    }
    this.stats.sessions++;
    return {step: 0, af: this.af, client, cport, rs: null, rsPort: 0, synTries: 0, responseSegs: 0};
  }

  private arrival(e: Engine, now: number): void {
    const hdr = this.af === 4 ? 40 : 60;
    switch (this.spec.kind) {
      case 'synflood':
        this.stats.sessions++;
        this.sendIn(e, this.randomSource(), this.randomPort(), TCP_FLAG.SYN, hdr);
        return;
      case 'ackflood':
        this.stats.sessions++;
        this.sendIn(e, this.randomSource(), this.randomPort(), TCP_FLAG.ACK, this.spec.len ?? hdr);
        return;
      case 'rstflood':
        this.stats.sessions++;
        this.sendIn(e, this.randomSource(), this.randomPort(), TCP_FLAG.RST, hdr);
        return;
      case 'udpflood': {
        this.stats.sessions++;
        const len = this.spec.len ?? (this.af === 4 ? 28 + 64 : 48 + 64);
        this.in(e, setUdp(this.pkt, this.af, this.randomSource(), this.randomPort(), this.vip, this.vport, len));
        return;
      }
      case 'portreuse': {
        // Arrivals bring each (client, port) tuple up once; from then on each tuple loops by
        // itself (connect, exchange, close, wait reuseAfter, reconnect from the same port).
        const clients = Math.max(1, this.spec.clients ?? 16), ports = Math.max(1, this.spec.ports ?? 4);
        if (this.reuseCursor >= clients * ports) return;
        const k = this.reuseCursor++;
        const client = this.af === 4 ? ((this.srcBase as number) + (k % clients) % this.srcSize) >>> 0 : this.randomSource();
        const s = this.newSession(client, 40000 + Math.floor(k / clients));
        if (s) this.sessionStep(e, now, s);
        return;
      }
      default: {
        const s = this.newSession(this.randomSource(), this.randomPort());
        if (!s) return;
        if (this.spec.proto === 'udp') this.udpExchange(e, now, s);
        else this.sessionStep(e, now, s);
      }
    }
  }

  /** A UDP request (in) and, half an RTT later, its reply from a NAT real server (out). */
  private udpExchange(e: Engine, now: number, s: Session): void {
    const hdr = this.af === 4 ? 28 : 48;
    if (s.step === 0) {
      const v = this.in(e, setUdp(this.pkt, this.af, s.client, s.cport, this.vip, this.vport, hdr + (this.spec.request ?? 60)));
      const c = v.action === 'forward' && v.dest ? e.conns.view(v.conn) : null;
      if (!c || c.fwd !== 'masq') return;
      s.rs = v.dest!.addr;
      s.rsPort = c.dport;
      s.step = 1;
      this.schedule(now + this.rtt / 2, s);
      return;
    }
    if (s.rs === null || this.failed.has(`${s.rs}|${s.rsPort}`)) return;
    this.out(e, setUdp(this.pkt, this.af, s.rs, s.rsPort, s.client, s.cport, hdr + (this.spec.response ?? 200)));
  }

  /**
   * A TCP session as the director sees it. Steps: 0 SYN, 1 SYN+ACK, 2 ACK + request,
   * 3 response segments (+ client ACKs), 4 close, 5 last ACK. DR/TUN replies bypass the director.
   */
  private sessionStep(e: Engine, now: number, s: Session): void {
    const hdr = this.af === 4 ? 40 : 60;
    const half = this.rtt / 2;
    const spec = this.spec;
    switch (s.step) {
      case 0: {
        const v = this.sendIn(e, s.client, s.cport, TCP_FLAG.SYN, hdr);
        const c = v.action === 'forward' && v.dest ? e.conns.view(v.conn) : null;
        if (c) {
          s.rs = c.fwd === 'masq' ? v.dest!.addr : null;
          s.rsPort = c.dport;
          s.step = 1;
          this.schedule(now + half, s);
        } else if (s.synTries < SYN_RETRY_MS.length && v.action === 'drop') {
          this.schedule(now + SYN_RETRY_MS[s.synTries++]!, s);
        }
        return;
      }
      case 1: {
        if (s.rs !== null && this.failed.has(`${s.rs}|${s.rsPort}`)) {
          // A dead server never answers: the client retries its SYN, then gives up.
          if (s.synTries < SYN_RETRY_MS.length) {
            s.step = 0;
            this.schedule(now + SYN_RETRY_MS[s.synTries++]! - half, s);
          }
          return;
        }
        this.sendOut(e, s, TCP_FLAG.SYN | TCP_FLAG.ACK, hdr);
        s.step = 2;
        this.schedule(now + half, s);
        return;
      }
      case 2: {
        this.sendIn(e, s.client, s.cport, TCP_FLAG.ACK, hdr);
        if (spec.kind === 'connflood') return; // handshake done, then idle until it times out
        this.sendIn(e, s.client, s.cport, TCP_FLAG.PSH | TCP_FLAG.ACK, hdr + (spec.request ?? 200));
        s.step = 3;
        s.responseSegs = Math.min(MAX_RESPONSE_SEGS, Math.max(1, Math.ceil((spec.response ?? 4000) / MSS)));
        this.schedule(now + half, s);
        return;
      }
      case 3: {
        const seg = Math.min(MSS, Math.ceil((spec.response ?? 4000) / s.responseSegs));
        this.sendOut(e, s, TCP_FLAG.PSH | TCP_FLAG.ACK, hdr + seg);
        if (--s.responseSegs % 2 === 0) this.sendIn(e, s.client, s.cport, TCP_FLAG.ACK, hdr);
        if (s.responseSegs > 0) { this.schedule(now + 1, s); return; }
        const close = spec.kind === 'portreuse' ? 'server' : spec.close ?? 'server';
        if (close === 'hold') return;
        s.step = 4;
        this.schedule(now + (spec.kind === 'portreuse' ? half : (spec.hold ?? 0) * 1000 + half), s);
        return;
      }
      case 4: {
        const close = spec.kind === 'portreuse' ? 'server' : spec.close ?? 'server';
        if (close === 'server') {
          this.sendOut(e, s, TCP_FLAG.FIN | TCP_FLAG.ACK, hdr);
          this.sendIn(e, s.client, s.cport, TCP_FLAG.FIN | TCP_FLAG.ACK, hdr);
        } else {
          this.sendIn(e, s.client, s.cport, TCP_FLAG.FIN | TCP_FLAG.ACK, hdr);
          this.sendOut(e, s, TCP_FLAG.FIN | TCP_FLAG.ACK, hdr);
        }
        s.step = 5;
        this.schedule(now + half, s);
        return;
      }
      case 5: {
        if ((spec.close ?? 'server') === 'client' && spec.kind !== 'portreuse') this.sendIn(e, s.client, s.cport, TCP_FLAG.ACK, hdr);
        else this.sendOut(e, s, TCP_FLAG.ACK, hdr);
        if (spec.kind === 'portreuse') {
          // The same client port comes back while the old entry sits in TIME_WAIT.
          s.step = 0;
          s.synTries = 0;
          s.rs = null;
          this.schedule(now + (spec.reuseAfter ?? 1) * 1000, s);
        }
        return;
      }
    }
  }
}

/** Packets per generator event are tiny; this bounds one advance() so a frame never stalls. */
export const DEFAULT_MAX_EVENTS_PER_ADVANCE = 2_000_000;

