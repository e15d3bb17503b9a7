// TUN access: the optional native addon (native/tun) behind a small class, and the checks that turn
// "no addon", "no /dev/net/tun" and "not root" into one sentence each before anything is set up.
import {existsSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';
import {PACKAGE_ROOT} from '../util/package-root.js';

interface TunAddon {
  open(name: string): {fd: number; name: string};
  readBatch(fd: number, buf: Uint8Array, lens: Uint32Array, slot: number): number;
  writeBatch(fd: number, buf: Uint8Array, offsets: Uint32Array, lens: Uint32Array, count: number): number;
  watch(fd: number, onReadable: () => void): unknown;
  unwatch(handle: unknown): void;
  close(fd: number): void;
}

/** A data-plane precondition that does not hold; the message is one sentence for the operator. */
export class DataplaneUnavailable extends Error {}

export const ADDON_PATH = join(PACKAGE_ROOT, 'native/tun/build/Release/lvsdeck_tun.node');

let addon: TunAddon | null = null;

/** The addon, or a DataplaneUnavailable saying what is missing. */
export function loadTunAddon(path = ADDON_PATH): TunAddon {
  if (addon && path === ADDON_PATH) return addon;
  if (!existsSync(path)) {
    throw new DataplaneUnavailable(`The TUN data plane needs its native addon, which is not built (${path} is missing): ` +
      'install a C compiler, make and python3, then run `npm run build:tun`.');
  }
  try {
    const loaded = createRequire(import.meta.url)(path) as TunAddon;
    if (path === ADDON_PATH) addon = loaded;
    return loaded;
  } catch (e) {
    throw new DataplaneUnavailable(`The TUN data plane's native addon (${path}) does not load: ${(e as Error).message}; ` +
      'rebuild it with `npm run build:tun`.');
  }
}

/** Root (or CAP_NET_ADMIN) and /dev/net/tun, checked before anything is created. */
export function checkTunPrerequisites(): void {
  if (process.platform !== 'linux') throw new DataplaneUnavailable('The TUN data plane runs on Linux only.');
  if (!existsSync('/dev/net/tun')) {
    throw new DataplaneUnavailable('The TUN data plane needs /dev/net/tun, which this machine does not have (try `modprobe tun`).');
  }
  if (!hasNetAdmin()) {
    throw new DataplaneUnavailable('The TUN data plane needs root (or CAP_NET_ADMIN) to create a TUN device and its routes: run it with sudo.');
  }
}

/** Effective capabilities include CAP_NET_ADMIN (bit 12); root normally has it. */
export function hasNetAdmin(): boolean {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
    if (m) return (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n;
  } catch { /* no procfs: fall back on the uid */ }
  return process.getuid?.() === 0;
}

/** Largest packet the device hands over (MTU 1500 plus room for a jumbo-ish read). */
export const SLOT = 2048;

/** An open TUN device: batched, non-blocking reads and writes; closing removes the device. */
export class TunDevice {
  readonly name: string;
  private fd: number;
  private watchHandle: unknown = null;
  private readonly lib: TunAddon;

  private constructor(lib: TunAddon, fd: number, name: string) {
    this.lib = lib;
    this.fd = fd;
    this.name = name;
  }

  /** Create (or attach to) the device; throws DataplaneUnavailable with the reason. */
  static open(name: string): TunDevice {
    if (!/^[A-Za-z0-9_.%-]{1,14}$/.test(name)) {
      throw new DataplaneUnavailable(`Bad TUN device name '${name}': use 1 to 14 letters, digits, '.', '_' or '-'.`);
    }
    checkTunPrerequisites();
    const lib = loadTunAddon();
    try {
      const {fd, name: actual} = lib.open(name);
      return new TunDevice(lib, fd, actual);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EPERM') throw new DataplaneUnavailable('The TUN data plane needs root (or CAP_NET_ADMIN) to create a TUN device: run it with sudo.');
      if (err.code === 'EBUSY') throw new DataplaneUnavailable(`The TUN device ${name} is already in use by another process.`);
      throw new DataplaneUnavailable(`Could not open the TUN device ${name}: ${err.message}.`);
    }
  }

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Read up to lens.length packets (packet i at i*SLOT in buf); 0 when none is waiting. */
  readBatch(buf: Uint8Array, lens: Uint32Array): number {
    return this.fd < 0 ? 0 : this.lib.readBatch(this.fd, buf, lens, SLOT);
  }

  /** Write `count` packets (buf[offsets[i], +lens[i])); returns how many the device accepted. */
  writeBatch(buf: Uint8Array, offsets: Uint32Array, lens: Uint32Array, count: number): number {
    return this.fd < 0 || count === 0 ? 0 : this.lib.writeBatch(this.fd, buf, offsets, lens, count);
  }

  /** Call onReadable on the event loop whenever packets wait. */
  watch(onReadable: () => void): void {
    if (this.fd < 0 || this.watchHandle) return;
    this.watchHandle = this.lib.watch(this.fd, onReadable);
  }

  close(): void {
    if (this.watchHandle) this.lib.unwatch(this.watchHandle);
    this.watchHandle = null;
    if (this.fd >= 0) this.lib.close(this.fd);
    this.fd = -1;
  }
}
