// The state file of `lvsdeck ipvsadm` / `lvsdeck sysctl`: the director's configuration (services
// with their real servers in kernel list order, tunables that differ from the defaults, the
// --set timeouts and the sync daemons) as versioned JSON, so a sequence of invocations behaves like
// one box. Written atomically (temporary file + rename) by the callers, only after success.
import {mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {dirname, join} from 'node:path';
import {type Addr, canonicalIPv6, formatAddr, parseIPv4} from '../engine/addr.js';
import type {FwdMethod} from '../engine/constants.js';
import {Engine, type EngineOptions, type SyncDaemonConfig} from '../engine/engine.js';
import {TUNABLES} from '../engine/tunables.js';
import type {ProtoName, ServiceKey} from '../engine/types.js';
import {getTunInfo, setTunInfo} from './tunnel.js';

export const STATE_VERSION = 1;

export interface StateDest {
  address: string;
  port: number;
  fwd: FwdMethod;
  weight: number;
  uthreshold: number;
  lthreshold: number;
  /** Tunnel settings for -i real servers. */
  tunnel?: {type: 'ipip' | 'gue' | 'gre'; port: number; csum: 'none' | 'csum' | 'remcsum'};
}

export interface StateService {
  /** 'tcp' | 'udp' | 'sctp' for address services, absent for fwmark services. */
  proto?: ProtoName;
  address?: string;
  port?: number;
  fwmark?: number;
  af: 4 | 6;
  scheduler: string;
  /** IP_VS_SVC_F_* bits besides PERSISTENT (ONEPACKET 0x4, SCHED1..3 0x8/0x10/0x20). */
  flags: number;
  /** Persistence timeout in seconds; 0 = not persistent. */
  persistent: number;
  /** IPv4 persistence netmask (dotted) or IPv6 prefix length. */
  netmask: string | number;
  pe: string;
  /** Real servers in the order they must be added (oldest first) to rebuild the kernel's list. */
  dests: StateDest[];
}

export interface StateFile {
  version: typeof STATE_VERSION;
  /** Tunables whose value differs from the default, as `cat /proc/sys/net/ipv4/vs/NAME` reads them. */
  tunables: Record<string, string>;
  timeouts: {tcp: number; tcpfin: number; udp: number};
  daemons: SyncDaemonConfig[];
  services: StateService[];
}

export class StateError extends Error {}

/** $XDG_CONFIG_HOME/lvsdeck/state.json, else ~/.config/lvsdeck/state.json. */
export function defaultStatePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'lvsdeck', 'state.json');
}

const TUN_TYPES = ['ipip', 'gue', 'gre'] as const;
const TUN_CSUM = ['none', 'csum', 'remcsum'] as const;

/** Capture the engine's configuration. */
export function captureState(e: Engine): StateFile {
  const fresh = new Engine();
  const tunables: Record<string, string> = {};
  for (const d of TUNABLES) {
    const v = e.readTunable(d.name);
    if (v !== fresh.readTunable(d.name)) tunables[d.name] = v;
  }
  const daemons: SyncDaemonConfig[] = [];
  for (const role of ['master', 'backup'] as const) {
    const d = e.syncDaemons[role];
    if (d) daemons.push({...d});
  }
  const services = e.listServices().map((svc): StateService => {
    const k = svc.key;
    const base = k.kind === 'fwmark'
      ? {fwmark: k.fwmark, af: k.af}
      : {proto: k.proto, address: formatAddr(k.addr), port: k.port, af: k.af};
    return {
      ...base,
      scheduler: svc.scheduler,
      flags: svc.flags & ~0x3,
      persistent: svc.flags & 0x1 ? Math.floor(svc.timeout / 1000) : 0,
      netmask: k.af === 6 ? svc.prefixLen : formatAddr(svc.netmask >>> 0),
      pe: svc.pe,
      dests: [...svc.dests].reverse().map((d): StateDest => {
        const sd: StateDest = {
          address: formatAddr(d.addr), port: d.port, fwd: d.fwd, weight: d.weight, uthreshold: d.uThreshold,
          lthreshold: d.lThreshold,
        };
        if (d.fwd === 'tunnel') {
          const t = getTunInfo(d);
          sd.tunnel = {type: TUN_TYPES[t.type], port: t.port, csum: TUN_CSUM[t.flags] ?? 'none'};
        }
        return sd;
      }),
    };
  });
  return {version: STATE_VERSION, tunables, timeouts: e.getTimeouts(), daemons, services};
}

function addrOf(text: unknown, where: string): {af: 4 | 6; addr: Addr} {
  if (typeof text !== 'string') throw new StateError(`${where}: address missing`);
  const v4 = parseIPv4(text);
  if (v4 !== null) return {af: 4, addr: v4};
  const v6 = canonicalIPv6(text);
  if (v6 !== null) return {af: 6, addr: v6};
  throw new StateError(`${where}: bad address '${text}'`);
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new StateError(`${where}: not a number`);
  return v;
}

/** Build an engine holding the configuration of a state file (validated). */
export function engineFromState(s: unknown, opts: EngineOptions = {}): Engine {
  const e = new Engine({seed: 1, ...opts});
  if (s === null || typeof s !== 'object') throw new StateError('not a JSON object');
  const st = s as Partial<StateFile>;
  if (st.version !== STATE_VERSION) throw new StateError(`unsupported version ${JSON.stringify(st.version)} (expected ${STATE_VERSION})`);
  for (const [name, value] of Object.entries(st.tunables ?? {})) {
    const r = e.setTunable(name, String(value));
    if (!r.ok) throw new StateError(`tunable ${name}: ${r.error}`);
  }
  if (st.timeouts) {
    const t = st.timeouts;
    try {
      e.setTimeouts(num(t.tcp, 'timeouts.tcp'), num(t.tcpfin, 'timeouts.tcpfin'), num(t.udp, 'timeouts.udp'));
    } catch (err) {
      throw new StateError(`timeouts: ${(err as Error).message}`);
    }
  }
  try {
    for (const d of st.daemons ?? []) e.startDaemon(d);
    (st.services ?? []).forEach((sv, i) => {
      const where = `services[${i}]`;
      let key: ServiceKey;
      if (sv.fwmark !== undefined) key = {kind: 'fwmark', af: sv.af === 6 ? 6 : 4, fwmark: num(sv.fwmark, `${where}.fwmark`)};
      else {
        const a = addrOf(sv.address, where);
        if (sv.proto !== 'tcp' && sv.proto !== 'udp' && sv.proto !== 'sctp') throw new StateError(`${where}: bad proto`);
        key = {kind: 'addr', af: a.af, proto: sv.proto, addr: a.addr, port: num(sv.port, `${where}.port`)};
      }
      const v6 = key.af === 6;
      const mask = v6 ? 0xffffffff : parseIPv4(String(sv.netmask ?? '255.255.255.255'));
      if (mask === null) throw new StateError(`${where}: bad netmask`);
      e.addService(key, {
        scheduler: sv.scheduler,
        flags: num(sv.flags ?? 0, `${where}.flags`),
        persistTimeout: num(sv.persistent ?? 0, `${where}.persistent`) * 1000,
        netmask: mask,
        prefixLen: v6 ? num(sv.netmask, `${where}.netmask`) : 32,
        pe: sv.pe ?? '',
      });
      (sv.dests ?? []).forEach((sd, j) => {
        const a = addrOf(sd.address, `${where}.dests[${j}]`);
        const d = e.addDest(key, a.af, a.addr, num(sd.port, `${where}.dests[${j}].port`), {
          fwd: sd.fwd, weight: sd.weight, uThreshold: sd.uthreshold, lThreshold: sd.lthreshold,
        });
        if (sd.tunnel) {
          setTunInfo(d, {
            type: Math.max(0, TUN_TYPES.indexOf(sd.tunnel.type)) as 0 | 1 | 2,
            port: sd.tunnel.port,
            flags: Math.max(0, TUN_CSUM.indexOf(sd.tunnel.csum)),
          });
        }
      });
    });
  } catch (err) {
    if (err instanceof StateError) throw err;
    throw new StateError((err as Error).message);
  }
  return e;
}

/** Load the state file into a fresh engine (a missing file is an empty box). */
export function loadStateFile(path: string, opts: EngineOptions = {}): Engine {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Engine({seed: 1, ...opts});
    throw new StateError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  try {
    return engineFromState(json, opts);
  } catch (err) {
    throw new StateError(`${path}: ${(err as Error).message}`);
  }
}

/** Write the engine's configuration atomically: a temporary file in the same directory, then rename. */
export function saveStateFile(path: string, e: Engine): void {
  mkdirSync(dirname(path), {recursive: true});
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, `${JSON.stringify(captureState(e), null, 2)}\n`, {mode: 0o644});
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, {force: true});
    throw err;
  }
}
