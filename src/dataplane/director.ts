// The NAT director loop: packets read from the TUN device are parsed, handed to the engine
// (ip_vs_in for packets to a virtual address, ip_vs_out for packets forwarded from real servers),
// and the verdict applied to the bytes before they are written back for the kernel to route on.
import {type Addr, maskAddr, parseCidr, prefixToIPv4Mask} from '../engine/addr.js';
import {IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP} from '../engine/constants.js';
import type {Engine} from '../engine/engine.js';
import type {Verdict} from '../engine/types.js';
import {
  buildIcmpError, buildTcpReset, type Frame, type MalformedReason, natIcmp, newFrame, parsePacket,
  rewriteDestination, rewriteSource,
} from './codec.js';

/** Where packets come from and go to: a TUN device, or a test double. */
export interface PacketPort {
  readBatch(buf: Uint8Array, lens: Uint32Array): number;
  writeBatch(buf: Uint8Array, offsets: Uint32Array, lens: Uint32Array, count: number): number;
}

export interface DirectorOptions {
  /** Packets per read batch. */
  batch?: number;
  /** Slot size per packet in the buffers (the device's SLOT). */
  slot?: number;
  /**
   * The director's own addresses on the real-server side, the source of ICMP errors it sends to real
   * servers (nat_icmp_send); errors to clients come from the virtual address they wrote to.
   */
  routerAddr4?: number;
  routerAddr6?: string;
  /** ICMP errors per second and burst (the kernel's icmp_msgs_per_sec / icmp_msgs_burst). */
  icmpPerSec?: number;
  icmpBurst?: number;
  /** Wall clock in ms (tests pass a fake). */
  now?: () => number;
  /**
   * Networks the kernel routes into the device (CIDR), beyond the virtual addresses themselves: a
   * packet to one of them that IPVS does not take would come straight back if written out.
   */
  routedIntoDevice?: string[];
}

export interface DirectorCounters {
  read: number;
  written: number;
  writeFailed: number;
  /** Packets passed on untouched (not IPVS's business). */
  passed: number;
  forwardedIn: number;
  forwardedOut: number;
  dropped: number;
  icmpSent: number;
  icmpRateLimited: number;
  resets: number;
  /** Multicast / link-local packets the director's own stack sent into the device (ignored). */
  linkScoped: number;
  /** Reads the device refused (an error other than "nothing waiting"). */
  readErrors: number;
  /**
   * Packets IPVS scheduled to a direct-routing or tunnelling real server: a TUN device can rewrite
   * no MAC address and this director encapsulates nothing, so they are dropped (written back
   * unchanged they would be routed into the device again, once per hop of their TTL).
   */
  unsupportedForwarding: number;
  /**
   * Packets to an address routed into the device that no service uses (the lab routes whole
   * networks there): answered with host unreachable instead of being written back to loop.
   */
  unroutable: number;
  malformed: Record<MalformedReason, number>;
}

function zeroCounters(): DirectorCounters {
  return {
    read: 0, written: 0, writeFailed: 0, passed: 0, forwardedIn: 0, forwardedOut: 0, dropped: 0, icmpSent: 0,
    icmpRateLimited: 0, resets: 0, linkScoped: 0, readErrors: 0, unsupportedForwarding: 0, unroutable: 0,
    malformed: {
      'truncated': 0, 'bad-version': 0, 'bad-header-length': 0, 'bad-ip-checksum': 0, 'bad-total-length': 0,
      'fragment': 0, 'bad-extension-header': 0, 'bad-l4-header': 0,
    },
  };
}

export class Director {
  readonly counters = zeroCounters();
  /** The last device error, for the operator. */
  lastError = '';
  private readonly batch: number;
  private readonly slot: number;
  /** Reads land in the first half; packets the director builds (ICMP, resets) in the second. */
  private readonly buf: Uint8Array;
  private readonly lens: Uint32Array;
  private readonly outOffsets: Uint32Array;
  private readonly outLens: Uint32Array;
  private outCount = 0;
  private genUsed = 0;
  private readonly frame: Frame = newFrame();
  private readonly now: () => number;
  private readonly start: number;
  private readonly engineStart: number;
  private localAddrs = new Set<Addr>();
  private localAddrsVersion = '';
  private icmpTokens: number;
  private icmpLast: number;
  private readonly icmpPerSec: number;
  private readonly icmpBurst: number;
  private readonly routerAddr4: number;
  private readonly routerAddr6: string;
  private readonly loopNets: {af: 4 | 6; base: Addr; prefix: number}[];

  constructor(readonly engine: Engine, private readonly port: PacketPort, o: DirectorOptions = {}) {
    this.batch = o.batch ?? 64;
    this.slot = o.slot ?? 2048;
    this.buf = new Uint8Array(this.batch * this.slot * 2);
    this.lens = new Uint32Array(this.batch);
    // every read packet may produce one packet out (forwarded, ICMP or reset)
    this.outOffsets = new Uint32Array(this.batch);
    this.outLens = new Uint32Array(this.batch);
    this.now = o.now ?? (() => performance.now());
    this.start = this.now();
    this.engineStart = engine.now;
    this.icmpPerSec = o.icmpPerSec ?? 1000;
    this.icmpBurst = o.icmpBurst ?? 50;
    this.icmpTokens = this.icmpBurst;
    this.icmpLast = this.start;
    this.routerAddr4 = o.routerAddr4 ?? 0;
    this.routerAddr6 = o.routerAddr6 ?? '::';
    this.loopNets = (o.routedIntoDevice ?? []).map((c) => {
      const n = parseCidr(c);
      if (!n) throw new Error(`routedIntoDevice: not a network: ${c}`);
      return n;
    });
  }

  /** Whether the kernel would route a packet to `dst` into the device again. */
  private loopsBack(dst: Addr): boolean {
    for (const n of this.loopNets) {
      if ((typeof dst === 'number') !== (n.af === 4)) continue;
      const masked = typeof dst === 'number' ? (dst & prefixToIPv4Mask(n.prefix)) >>> 0 : maskAddr(dst, 0, n.prefix);
      if (masked === n.base) return true;
    }
    return false;
  }

  /** The engine time that corresponds to the wall clock now. */
  engineTime(): number {
    return this.engineStart + Math.floor(this.now() - this.start);
  }

  /**
   * Read and handle packets until none wait or `maxBatches` batches ran (the caller yields to the
   * UI between calls). Returns the number of packets read.
   */
  drain(maxBatches = 16, beforeBatch?: () => void): number {
    let total = 0;
    for (let b = 0; b < maxBatches; b++) {
      const n = this.port.readBatch(this.buf.subarray(0, this.batch * this.slot), this.lens);
      if (n === 0) break;
      beforeBatch?.();
      this.refreshLocalAddrs();
      this.outCount = 0;
      this.genUsed = 0;
      for (let i = 0; i < n; i++) this.handle(i * this.slot, this.lens[i]!);
      const ok = this.port.writeBatch(this.buf, this.outOffsets, this.outLens, this.outCount);
      this.counters.written += ok;
      this.counters.writeFailed += this.outCount - ok;
      this.counters.read += n;
      total += n;
    }
    return total;
  }

  /** The virtual addresses the director answers for (ip_vs_in runs on packets to local addresses). */
  private refreshLocalAddrs(): void {
    const services = this.engine.listServices();
    let version = `${services.length}`;
    for (const s of services) if (s.key.kind === 'addr') version += `|${String(s.key.addr)}`;
    if (version === this.localAddrsVersion) return;
    this.localAddrsVersion = version;
    this.localAddrs = new Set(services.flatMap((s) => (s.key.kind === 'addr' ? [s.key.addr] : [])));
  }

  private emit(off: number, len: number): void {
    this.outOffsets[this.outCount] = off;
    this.outLens[this.outCount] = len;
    this.outCount++;
  }

  /** Room in the second half of the buffer for a packet the director builds. */
  private genSlot(): {off: number; room: Uint8Array} {
    const off = this.batch * this.slot + this.genUsed * this.slot;
    return {off, room: this.buf.subarray(off, off + this.slot)};
  }

  private handle(off: number, n: number): void {
    const f = this.frame;
    const bytes = this.buf.subarray(off, off + n);
    const bad = parsePacket(bytes, n, f);
    if (bad) {
      this.counters.malformed[bad]++;
      return;
    }
    const p = f.pkt;
    // Link-local and multicast traffic of the director's own stack (IPv6 router solicitations, MLD)
    // leaves through the device like any route's; it is nobody's to forward.
    if (isLinkScoped(p.dst)) {
      this.counters.linkScoped++;
      return;
    }
    const toLocal = this.localAddrs.has(p.dst);
    if (toLocal) {
      const v = this.engine.inbound(p);
      this.applyInbound(v, off);
    } else {
      const v = this.engine.outbound(p);
      this.applyOutbound(v, off);
    }
  }

  private applyInbound(v: Verdict, off: number): void {
    const f = this.frame, p = f.pkt;
    switch (v.action) {
      case 'forward': {
        const fwd = this.engine.conns.view(v.conn)?.fwd ?? v.dest?.fwd ?? 'masq';
        // a real server on the director itself (ip_vs_null_xmit): the local stack, which listens on nothing here
        if (fwd === 'local') { this.localStack(); return; }
        if (fwd !== 'masq') {
          // direct routing / tunnelling would need a TAP device or encapsulation (docs/dataplane.md)
          this.counters.unsupportedForwarding++;
          return;
        }
        const target = this.inboundTarget(v);
        if (!target) { this.counters.dropped++; return; }
        if (p.icmp) natIcmp(f, true, target.addr, target.port);
        else rewriteDestination(f, target.addr, target.port);
        this.counters.forwardedIn++;
        this.emit(off, f.len);
        return;
      }
      case 'bypass':
        this.counters.passed++;
        this.emit(off, f.len);
        return;
      case 'drop':
        this.counters.dropped++;
        if (v.icmpSent) this.sendIcmp(v.icmpSent.type, v.icmpSent.code, p.dst);
        return;
      case 'accept':
        this.localStack();
        return;
    }
  }

  private applyOutbound(v: Verdict, off: number): void {
    const f = this.frame, p = f.pkt;
    switch (v.action) {
      case 'forward': {
        const src = this.outboundSource(v);
        if (!src) { this.counters.dropped++; return; }
        if (p.icmp) natIcmp(f, false, src.addr, src.port);
        else rewriteSource(f, src.addr, src.port);
        this.counters.forwardedOut++;
        this.emit(off, f.len);
        return;
      }
      case 'drop':
        this.counters.dropped++;
        if (v.icmpSent) this.sendIcmp(v.icmpSent.type, v.icmpSent.code, p.af === 4 ? this.routerAddr4 : this.routerAddr6);
        return;
      default:
        if (this.loopsBack(p.dst)) {
          // nobody owns this address: what a router says when no host answers for it
          this.counters.unroutable++;
          this.sendIcmp(p.af === 4 ? 3 : 1, p.af === 4 ? 1 : 3, p.af === 4 ? this.routerAddr4 : this.routerAddr6);
          return;
        }
        // Not IPVS's business: the kernel forwards it as it would without IPVS.
        this.counters.passed++;
        this.emit(off, f.len);
    }
  }

  /**
   * A packet to a virtual address that IPVS let through continues to the director's own stack,
   * which listens on nothing there: TCP answers with a reset, UDP with port unreachable (as
   * tcp_v4_send_reset and __udp4_lib_rcv do); anything else is dropped.
   */
  private localStack(): void {
    const f = this.frame, p = f.pkt;
    if (p.proto === IPPROTO_TCP) {
      const {off, room} = this.genSlot();
      const n = buildTcpReset(f, room);
      if (n > 0) {
        this.genUsed++;
        this.counters.resets++;
        this.emit(off, n);
      }
      return;
    }
    if (p.proto === IPPROTO_UDP) {
      this.sendIcmp(p.af === 4 ? 3 : 1, p.af === 4 ? 3 : 4, p.dst);
      return;
    }
    if (p.proto !== IPPROTO_ICMP && p.proto !== IPPROTO_ICMPV6) this.counters.dropped++;
    else this.counters.passed++;
  }

  /** icmp_send's global rate limit (icmp_global_allow): a token bucket. */
  private icmpAllowed(): boolean {
    const t = this.now();
    this.icmpTokens = Math.min(this.icmpBurst, this.icmpTokens + ((t - this.icmpLast) * this.icmpPerSec) / 1000);
    this.icmpLast = t;
    if (this.icmpTokens < 1) return false;
    this.icmpTokens -= 1;
    return true;
  }

  private sendIcmp(type: number, code: number, from: Addr): void {
    if (!this.icmpAllowed()) {
      this.counters.icmpRateLimited++;
      return;
    }
    const f = this.frame;
    const fragNeeded = (f.af === 4 && type === 3 && code === 4) || (f.af === 6 && type === 2);
    const {off, room} = this.genSlot();
    const n = buildIcmpError(f, type, code, fragNeeded ? this.engine.mtu : 0, from, room);
    if (n === 0) return;
    this.genUsed++;
    this.counters.icmpSent++;
    this.emit(off, n);
  }

  /** The real server a forwarded packet goes to: the entry's daddr:dport. */
  private inboundTarget(v: Verdict): {addr: Addr; port: number} | null {
    const c = this.engine.conns.view(v.conn);
    if (c) return {addr: c.daddr, port: c.dport};
    // A one-packet (ONE_PACKET) entry expired as soon as it was used: take the destination.
    if (!v.dest) return null;
    return {addr: v.dest.addr, port: v.dest.port || this.frame.pkt.dport};
  }

  /** The virtual service a reply appears to come from: the entry's vaddr:vport. */
  private outboundSource(v: Verdict): {addr: Addr; port: number} | null {
    const c = this.engine.conns.view(v.conn);
    if (c && !c.template) return {addr: c.vaddr, port: c.vport};
    const key = v.dest?.svc.key;
    if (!key || key.kind !== 'addr') return null;
    return {addr: key.addr, port: key.port || this.frame.pkt.sport};
  }
}

function isLinkScoped(a: Addr): boolean {
  if (typeof a === 'number') return a >>> 28 === 14 || a === 0xffffffff;
  return a.startsWith('ff') || a.startsWith('fe80:');
}
