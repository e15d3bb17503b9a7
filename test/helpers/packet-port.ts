// The data plane in-process, without a TUN device: a packet port fed from memory, the lab's
// captured packets, and a director + wall clock + DataplaneBackend around a simulation, as
// startDataplane (src/dataplane/run.ts) assembles them on a real device.
import {readFileSync} from 'node:fs';
import {parseAddr} from '../../src/engine/addr.js';
import {IPPROTO_TCP} from '../../src/engine/constants.js';
import {DataplaneBackend} from '../../src/dataplane/backend.js';
import {Director, type PacketPort} from '../../src/dataplane/director.js';
import {WallClock} from '../../src/dataplane/run.js';
import {Simulation} from '../../src/sim/simulation.js';
import {svcKey} from './engine-fixture.js';

/** A device in memory: packets queued here are read by the director; what it writes is kept. */
export class FakePort implements PacketPort {
  queue: Uint8Array[] = [];
  written: Uint8Array[] = [];
  readBatch(buf: Uint8Array, lens: Uint32Array): number {
    let n = 0;
    while (n < lens.length && this.queue.length) {
      const p = this.queue.shift()!;
      buf.set(p.subarray(0, 2048), n * 2048);
      lens[n++] = Math.min(p.length, 2048);
    }
    return n;
  }
  writeBatch(buf: Uint8Array, offsets: Uint32Array, lens: Uint32Array, count: number): number {
    for (let i = 0; i < count; i++) this.written.push(buf.slice(offsets[i]!, offsets[i]! + lens[i]!));
    return count;
  }
}

/** Packets captured in the lab (test/dataplane-fixtures): client 198.18.0.x to the VIP 198.18.0.10, real servers 198.18.2.x. */
export const LAB_PACKETS: Uint8Array[] = (JSON.parse(readFileSync(new URL('../dataplane-fixtures/lab-packets.json', import.meta.url), 'utf8')) as
  {packets: {hex: string}[]}).packets.map((p) => new Uint8Array(Buffer.from(p.hex, 'hex')));

export const a4 = (t: string) => parseAddr(t)!.addr;

/** The first captured IPv4 SYN from a client (198.18.0.x) to the VIP 198.18.0.10:80. */
export const v4Syn = () => LAB_PACKETS.find((b) => b[0] === 0x45 && b[9] === IPPROTO_TCP && b[33] === 0x02 && b[16] === 198 && b[18] === 0)!;

/**
 * The lab's HTTP service 198.18.0.10:80 (rr) with one masquerading real server 198.18.2.13:80 on
 * a simulation driven by the data plane's wall clock, over an in-memory port. `send` feeds packets
 * and returns what the director wrote.
 */
export function inProcessDataplane(o: {labPresent?: () => boolean} = {}) {
  const sim = new Simulation({seed: 1});
  const key = svcKey('tcp', '198.18.0.10:80');
  sim.engine.addService(key, {scheduler: 'rr'});
  sim.engine.addDest(key, 4, a4('198.18.2.13'), 80, {fwd: 'masq', weight: 1});
  const port = new FakePort();
  const director = new Director(sim.engine, port, {routerAddr4: a4('198.18.2.1') as number});
  const clock = new WallClock(sim, director, false);
  clock.onTick = () => { director.drain(16, () => sim.runUntil(director.engineTime())); };
  const backend = new DataplaneBackend(sim, clock, o.labPresent ?? (() => false));
  const send = (...pkts: Uint8Array[]): Uint8Array[] => {
    port.written = [];
    port.queue.push(...pkts.map((p) => p.slice()));
    clock.tick();
    return port.written;
  };
  return {sim, key, port, director, clock, backend, send};
}
