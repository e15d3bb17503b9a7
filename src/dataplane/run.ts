// Running the data plane in a process: open the TUN device, put it where the traffic is (the lab's
// director namespace when the lab is up), route the virtual addresses into it, and drive the engine
// on wall-clock time. stop() (or the process ending) closes the device, which takes its routes.
import {execFileSync} from 'node:child_process';
import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import {parseIPv4} from '../engine/addr.js';
import type {Simulation} from '../sim/simulation.js';
import type {ClockControl, ClockInfo} from '../store/backend.js';
import {DIRECTOR_NS, DIRECTOR_SERVER4, DIRECTOR_SERVER6, TUN_DEV, tunRoutes, VIP_NET4, VIP_NET6} from '../lab/topology.js';
import {labDirectorPresent} from '../lab/lab.js';
import {NO_TIME_CONTROLS} from './backend.js';
import {CONTROL_SOCKET, serveControl} from './control.js';
import {Director} from './director.js';
import {DataplaneUnavailable, SLOT, TunDevice} from './tun.js';

export {DataplaneUnavailable};

export interface DataplaneOptions {
  dev?: string;
  /** Use the machine's own available memory (/proc/meminfo) instead of the modelled host. */
  hostMemory?: boolean;
  /** Force the namespace to move the device into; default: the lab's director when the lab is up. */
  netns?: string | null;
  /** Control socket path for `lvsdeck ipvsadm --director`; null = none. */
  controlSocket?: string | null;
}

export interface RunningDataplane {
  director: Director;
  device: TunDevice;
  /** Namespace the device lives in ('' = this process's own). */
  netns: string;
  clock: WallClock;
  stop(): void;
}

function ipCmd(args: string[]): void {
  try {
    execFileSync('ip', args, {stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000});
  } catch (e) {
    const err = e as {stderr?: Buffer; message: string};
    throw new DataplaneUnavailable(`Could not set up the TUN device: ip ${args.join(' ')}: ${(err.stderr?.toString() ?? err.message).trim()}.`);
  }
}

/**
 * Let the kernel route packets from the device whose source is one of its own addresses. The
 * director's kernel sends ICMP errors (fragmentation needed, packet too big) about packets it
 * forwards from a local address to the virtual address; the data plane NATs them to the real server
 * and writes them back, and without accept_local the kernel drops them as martians
 * (fib_validate_source), so path MTU discovery would end at the director. The kernel's IPVS sees
 * such errors at LOCAL_OUT (ip_vs_local_request4) and never re-enters routing with them.
 */
function acceptLocal(netns: string, dev: string): void {
  const key = `net.ipv4.conf.${dev}.accept_local`;
  try {
    if (netns) execFileSync('ip', ['netns', 'exec', netns, 'sysctl', '-qw', `${key}=1`], {stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000});
    else writeFileSync(`/proc/sys/net/ipv4/conf/${dev}/accept_local`, '1\n');
  } catch (e) {
    const err = e as {stderr?: Buffer; message: string};
    throw new DataplaneUnavailable(`Could not set up the TUN device: ${key}=1: ${(err.stderr?.toString() ?? err.message).trim()}.`);
  }
}

/** Available and total memory of this machine, in bytes (MemAvailable, MemTotal). */
export function hostMemory(): {totalBytes: number; usedBytes: number} {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  const total = kb('MemTotal');
  return {totalBytes: total, usedBytes: total - kb('MemAvailable')};
}

/**
 * Real mode's clock: the engine follows the wall clock; pause, speed and step make no sense on
 * live traffic and are refused with the reason.
 */
export class WallClock implements ClockControl {
  static readonly REASON = NO_TIME_CONTROLS;
  private timer: ReturnType<typeof setInterval> | null = null;
  lastTickMs = 0;
  /** Run after each tick (the data plane drains the device here too). */
  onTick: () => void = () => {};

  constructor(private readonly sim: Simulation, private readonly director: Director, private readonly hostMem: boolean) {}

  info(): ClockInfo {
    return {speed: 1, paused: false, effective: 1, lagging: false};
  }
  setSpeed(): void { throw new Error(WallClock.REASON); }
  setPaused(): void { throw new Error(WallClock.REASON); }
  step(): void { throw new Error(WallClock.REASON); }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), 50);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Timers, defenses and sync between packets. */
  tick(): void {
    const t0 = performance.now();
    if (this.hostMem) this.sim.engine.setMemory({...hostMemory(), entryBytes: this.sim.engine.memory.entryBytes});
    this.sim.runUntil(this.director.engineTime());
    this.onTick();
    this.lastTickMs = performance.now() - t0;
  }
}

/** Start the data plane on `sim`'s engine. Throws DataplaneUnavailable (nothing left behind). */
export function startDataplane(sim: Simulation, o: DataplaneOptions = {}): RunningDataplane {
  const dev = o.dev ?? TUN_DEV;
  // Generators would inject made-up packets into a real engine: real mode has real traffic only.
  for (const g of sim.traffic.list()) sim.traffic.remove(g.id);
  const device = TunDevice.open(dev);
  const netns = o.netns !== undefined ? (o.netns ?? '') : labDirectorPresent() ? DIRECTOR_NS : '';
  try {
    const n = netns ? ['-n', netns] : [];
    if (netns) ipCmd(['link', 'set', 'dev', device.name, 'netns', netns]);
    ipCmd([...n, 'link', 'set', 'dev', device.name, 'up']);
    acceptLocal(netns, device.name);
    if (netns === DIRECTOR_NS) for (const r of tunRoutes(device.name)) ipCmd([...n, ...r]);
  } catch (e) {
    device.close();
    throw e;
  }
  const director = new Director(sim.engine, device, {
    slot: SLOT, routerAddr4: parseIPv4(DIRECTOR_SERVER4)!, routerAddr6: DIRECTOR_SERVER6,
    routedIntoDevice: netns === DIRECTOR_NS ? [VIP_NET4, VIP_NET6] : [],
  });
  const clock = new WallClock(sim, director, o.hostMemory ?? false);
  let scheduled = false;
  const pump = (): void => {
    scheduled = false;
    // 16 batches, then yield so the UI and the timers run; come back at once if more wait
    let n = 0;
    try {
      n = director.drain(16, () => sim.runUntil(director.engineTime()));
    } catch (e) {
      // a device read error (the kernel refusing one read) must not stop the loop
      director.counters.readErrors++;
      director.lastError = (e as Error).message;
    }
    if (n >= 16 * 64 && !scheduled) {
      scheduled = true;
      setImmediate(pump);
    }
  };
  device.watch(pump);
  // also drained on the clock's tick: a missed wake-up costs at most 50 ms, never a stall
  clock.onTick = pump;
  clock.start();
  const control = o.controlSocket === null ? null : serveControl(sim.engine, o.controlSocket);
  const stop = (): void => {
    clock.stop();
    if (control) {
      control.close();
      rmSync(o.controlSocket ?? CONTROL_SOCKET, {force: true});
    }
    device.close();
    process.removeListener('exit', stop);
  };
  process.on('exit', stop);
  return {director, device, netns, clock, stop};
}
