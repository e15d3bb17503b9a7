// The embedded demo: what `npm start` shows with no configuration. Three virtual services in
// the classic shapes (NAT web farm with wlc, persistent DR HTTPS with wrr, UDP DNS with rr)
// and steady client traffic, on a host small enough that a SYN flood visibly drains memory.
import {parseAddrPort} from '../engine/addr.js';
import {SECOND} from '../engine/constants.js';
import {Simulation} from '../sim/simulation.js';
import type {GeneratorSpec} from '../traffic/generators.js';
import type {DestOptions, ProtoName, ServiceOptions} from '../engine/types.js';

export interface DemoService {
  proto: ProtoName;
  vip: string;
  opts: Partial<ServiceOptions>;
  servers: {rs: string; opts: Partial<DestOptions>}[];
}

export const DEMO_SERVICES: readonly DemoService[] = [
  {
    proto: 'tcp', vip: '10.0.0.1:80', opts: {scheduler: 'wlc'},
    servers: [
      {rs: '10.1.0.11:8080', opts: {fwd: 'masq', weight: 3}},
      {rs: '10.1.0.12:8080', opts: {fwd: 'masq', weight: 2}},
      {rs: '10.1.0.13:8080', opts: {fwd: 'masq', weight: 1}},
    ],
  },
  {
    proto: 'tcp', vip: '10.0.0.2:443', opts: {scheduler: 'wrr', persistTimeout: 300 * SECOND},
    servers: [
      {rs: '10.1.0.21:443', opts: {fwd: 'route', weight: 1}},
      {rs: '10.1.0.22:443', opts: {fwd: 'route', weight: 1}},
    ],
  },
  {
    proto: 'udp', vip: '10.0.0.3:53', opts: {scheduler: 'rr'},
    servers: [
      {rs: '10.1.0.31:53', opts: {fwd: 'masq', weight: 1}},
      {rs: '10.1.0.32:53', opts: {fwd: 'masq', weight: 1}},
    ],
  },
];

export const DEMO_TRAFFIC: readonly GeneratorSpec[] = [
  {kind: 'clients', to: '10.0.0.1:80', rate: 120, from: '192.0.2.0/24', request: 300, response: 12000, hold: 2},
  {kind: 'clients', to: '10.0.0.2:443', rate: 40, from: '198.51.100.0/24', request: 500, response: 30000, hold: 5, close: 'client'},
  {kind: 'clients', proto: 'udp', to: '10.0.0.3:53', rate: 50, from: '203.0.113.0/24', request: 40, response: 120},
];

/**
 * Simulated host for the demo: 28 MiB free. The clients above settle at about a third of it (their
 * TIME_WAIT, FIN_WAIT and UDP entries at 320 B each), which leaves close to half of the free memory
 * above amemthresh, so no defense engages on normal traffic; the attack menu's SYN flood eats the
 * rest within seconds and the defenses visibly engage (test/demo-calm.test.ts).
 */
export const DEMO_MEMORY = {totalBytes: 256 * 2 ** 20, usedBytes: 228 * 2 ** 20};

/** A host of `totalBytes` with the demo host's proportions of used and free memory. */
export function demoMemory(totalBytes: number): {totalBytes: number; usedBytes: number} {
  return {totalBytes, usedBytes: Math.round(totalBytes * (DEMO_MEMORY.usedBytes / DEMO_MEMORY.totalBytes))};
}

export function buildDemo(seed = 1, memory = DEMO_MEMORY): Simulation {
  const sim = new Simulation({seed, memory});
  const e = sim.engine;
  for (const s of DEMO_SERVICES) {
    const vip = parseAddrPort(s.vip)!;
    const key = {kind: 'addr', af: vip.af, proto: s.proto, addr: vip.addr, port: vip.port} as const;
    e.addService(key, s.opts);
    for (const srv of s.servers) {
      const rs = parseAddrPort(srv.rs)!;
      e.addDest(key, rs.af, rs.addr, rs.port, srv.opts);
    }
  }
  for (const t of DEMO_TRAFFIC) sim.addTraffic(t);
  // The defenses start armed (automatic) so an attack shows them engaging at amemthresh.
  for (const d of ['drop_entry', 'drop_packet', 'secure_tcp']) e.setTunable(d, '1');
  return sim;
}
