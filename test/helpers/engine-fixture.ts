// Small helpers to drive an Engine in tests with readable text addresses.
import {parseAddr, parseAddrPort} from '../../src/engine/addr.js';
import {Engine, type EngineOptions} from '../../src/engine/engine.js';
import {packetFromSpec} from '../../src/engine/packet.js';
import type {DestOptions, ServiceKey, ServiceOptions, Verdict} from '../../src/engine/types.js';

export const S = 1000;

export function addrOf(text: string) {
  const a = parseAddr(text);
  if (!a) throw new Error(`bad address ${text}`);
  return a.addr;
}

export function svcKey(proto: 'tcp' | 'udp' | 'sctp', vip: string): ServiceKey {
  const ap = parseAddrPort(vip)!;
  return {kind: 'addr', af: ap.af, proto, addr: ap.addr, port: ap.port};
}

export class Bench {
  readonly e: Engine;
  constructor(opts: EngineOptions = {}) {
    this.e = new Engine({seed: 7, ...opts});
  }
  service(proto: 'tcp' | 'udp' | 'sctp', vip: string, opts: Partial<ServiceOptions> = {}) {
    return this.e.addService(svcKey(proto, vip), opts);
  }
  fwmarkService(mark: number, opts: Partial<ServiceOptions> = {}, af: 4 | 6 = 4) {
    return this.e.addService({kind: 'fwmark', af, fwmark: mark}, opts);
  }
  dest(key: ServiceKey, rs: string, opts: Partial<DestOptions> = {}) {
    const ap = parseAddrPort(rs, true)!;
    return this.e.addDest(key, ap.af, ap.addr, ap.port, opts);
  }
  /** Advance virtual time to `t` seconds. */
  at(t: number): this {
    this.e.tick(t * S);
    return this;
  }
  /** Client -> VIP packet; returns a copy of the verdict. */
  in(proto: string, src: string, dst: string, flags = '', extra: {len?: number; chunk?: string; nextChunk?: string; fwmark?: number; df?: boolean} = {}): Verdict {
    const v = this.e.inbound(packetFromSpec({proto, src, dst, flags: flags || undefined, ...extra}));
    return {...v};
  }
  /** Real server (or VIP) -> client packet. */
  out(proto: string, src: string, dst: string, flags = '', extra: {len?: number; chunk?: string; nextChunk?: string} = {}): Verdict {
    const v = this.e.outbound(packetFromSpec({proto, src, dst, flags: flags || undefined, ...extra}));
    return {...v};
  }
  conn(proto: 'tcp' | 'udp' | 'sctp', client: string, vip: string) {
    const c = parseAddrPort(client)!, v = parseAddrPort(vip)!;
    return this.e.findConn(c.af, proto, c.addr, c.port, v.addr, v.port);
  }
  state(proto: 'tcp' | 'udp' | 'sctp', client: string, vip: string): string | null {
    return this.conn(proto, client, vip)?.stateName ?? null;
  }
  templates() {
    return this.e.allConns().filter((c) => c.template);
  }
}
