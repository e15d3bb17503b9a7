// The state file of `lvsdeck ipvsadm` / `lvsdeck sysctl`: the director's configuration (services
// with their real servers in kernel list order, tunables that differ from the defaults, the
// --set timeouts and the sync daemons) as versioned JSON, so a sequence of invocations behaves like
// one box. Written atomically (temporary file + rename) by the callers, only after success, under
// the lock of state-lock.ts.
import {closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {dirname, join} from 'node:path';
import {type Addr, canonicalIPv6, formatAddr, parseIPv4} from '../engine/addr.js';
import type {FwdMethod} from '../engine/constants.js';
import {Engine, type EngineOptions, type SyncDaemonConfig} from '../engine/engine.js';
import {IpvsError} from '../engine/errors.js';
import {TUNABLES} from '../engine/tunables.js';
import type {ProtoName, ServiceKey, ServiceOptions} from '../engine/types.js';
import {acceptedSchedulers} from './exec.js';
import {BOUNDS, BoundError, readBoundedFile} from '../util/bounds.js';
import {resolveStateTarget} from './state-lock.js';
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

// ---------------------------------------------------------------------------------------------
// The schema: every field checked for type and range before the engine sees it, each refusal
// naming the field (services[2].dests[0].weight: ...). The ranges are ipvsadm's (weight 0..65535,
// thresholds 0..INT_MAX, timeouts up to 31 days, fwmark 1..2^32-1) and the kernel's (ports,
// syncid 0..255, interface names under IFNAMSIZ).

const INT_MAX = 0x7fffffff;
const MAX_TIMEOUT_S = 86400 * 31;
const IFNAMSIZ = 16;
const FWD_METHODS: readonly FwdMethod[] = ['masq', 'route', 'tunnel', 'local'];

type Obj = Record<string, unknown>;

function fieldError(where: string, what: string, v: unknown): StateError {
  if (v === undefined) return new StateError(`${where}: missing (expected ${what})`);
  const shown = typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)
    : Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
  return new StateError(`${where}: expected ${what}, got ${shown}`);
}

function obj(v: unknown, where: string, keys: readonly string[]): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fieldError(where, 'an object', v);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw new StateError(`${where}${where ? '.' : ''}${k}: unknown field (known: ${keys.join(', ')})`);
  }
  return v as Obj;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw fieldError(where, 'a list', v);
  return v;
}

function int(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw fieldError(where, `a whole number ${min}..${max}`, v);
  return v;
}

function str(v: unknown, where: string, maxLen = 256): string {
  if (typeof v !== 'string' || v.length > maxLen) throw fieldError(where, `a string of at most ${maxLen} characters`, v);
  return v;
}

function oneOf<T extends string>(v: unknown, where: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) throw fieldError(where, `one of ${values.join(', ')}`, v);
  return v as T;
}

function addrOf(text: unknown, where: string): {af: 4 | 6; addr: Addr} {
  if (typeof text === 'string') {
    const v4 = parseIPv4(text);
    if (v4 !== null) return {af: 4, addr: v4};
    const v6 = canonicalIPv6(text);
    if (v6 !== null) return {af: 6, addr: v6};
  }
  throw fieldError(where, 'an IPv4 or IPv6 address', text);
}

/** `field` of o when present, else the default. */
function opt<T>(o: Obj, field: string, dflt: T, check: (v: unknown, where: string) => T, where: string): T {
  return o[field] === undefined ? dflt : check(o[field], `${where}.${field}`);
}

function daemonOf(v: unknown, where: string): SyncDaemonConfig {
  const o = obj(v, where, ['role', 'mcastIfn', 'syncId', 'syncMaxLen', 'mcastGroup', 'mcastPort', 'mcastTtl']);
  const group = opt(o, 'mcastGroup', '224.0.0.81', (x, w) => { addrOf(x, w); return x as string; }, where);
  return {
    role: oneOf(o.role, `${where}.role`, ['master', 'backup'] as const),
    mcastIfn: opt(o, 'mcastIfn', 'eth0', (x, w) => str(x, w, IFNAMSIZ - 1), where),
    syncId: opt(o, 'syncId', 0, (x, w) => int(x, w, 0, 255), where),
    syncMaxLen: opt(o, 'syncMaxLen', 0, (x, w) => int(x, w, 0, 65535), where),
    mcastGroup: group,
    mcastPort: opt(o, 'mcastPort', 8848, (x, w) => int(x, w, 1, 65535), where),
    mcastTtl: opt(o, 'mcastTtl', 1, (x, w) => int(x, w, 1, 255), where),
  };
}

interface CheckedDest {
  af: 4 | 6;
  addr: Addr;
  port: number;
  opts: {fwd: FwdMethod; weight: number; uThreshold: number; lThreshold: number};
  tunnel?: {type: 0 | 1 | 2; port: number; flags: number};
}

function destOf(v: unknown, where: string): CheckedDest {
  const o = obj(v, where, ['address', 'port', 'fwd', 'weight', 'uthreshold', 'lthreshold', 'tunnel']);
  const a = addrOf(o.address, `${where}.address`);
  const d: CheckedDest = {
    af: a.af, addr: a.addr, port: int(o.port, `${where}.port`, 0, 65535),
    opts: {
      fwd: opt(o, 'fwd', 'route' as FwdMethod, (x, w) => oneOf(x, w, FWD_METHODS), where),
      weight: opt(o, 'weight', 1, (x, w) => int(x, w, 0, 65535), where),
      uThreshold: opt(o, 'uthreshold', 0, (x, w) => int(x, w, 0, INT_MAX), where),
      lThreshold: opt(o, 'lthreshold', 0, (x, w) => int(x, w, 0, INT_MAX), where),
    },
  };
  if (o.tunnel !== undefined) {
    const tw = `${where}.tunnel`;
    const t = obj(o.tunnel, tw, ['type', 'port', 'csum']);
    if (d.opts.fwd !== 'tunnel') throw new StateError(`${tw}: only a real server with fwd "tunnel" has tunnel settings`);
    d.tunnel = {
      type: TUN_TYPES.indexOf(oneOf(t.type, `${tw}.type`, TUN_TYPES)) as 0 | 1 | 2,
      port: opt(t, 'port', 0, (x, w) => int(x, w, 0, 65535), tw),
      flags: TUN_CSUM.indexOf(opt(t, 'csum', 'none', (x, w) => oneOf(x, w, TUN_CSUM), tw)),
    };
  }
  return d;
}

function serviceOf(v: unknown, where: string, schedulers: readonly string[]): {key: ServiceKey; opts: Partial<ServiceOptions>; dests: CheckedDest[]} {
  const o = obj(v, where, ['proto', 'address', 'port', 'fwmark', 'af', 'scheduler', 'flags', 'persistent', 'netmask', 'pe', 'dests']);
  const declaredAf = opt(o, 'af', null as 4 | 6 | null, (x, w) => { if (x !== 4 && x !== 6) throw fieldError(w, '4 or 6', x); return x; }, where);
  let key: ServiceKey;
  if (o.fwmark !== undefined) {
    for (const f of ['proto', 'address', 'port']) {
      if (o[f] !== undefined) throw new StateError(`${where}.${f}: a fwmark service has no ${f}`);
    }
    key = {kind: 'fwmark', af: declaredAf ?? 4, fwmark: int(o.fwmark, `${where}.fwmark`, 1, 0xffffffff)};
  } else {
    const a = addrOf(o.address, `${where}.address`);
    if (declaredAf !== null && declaredAf !== a.af) throw new StateError(`${where}.af: ${declaredAf} does not match the IPv${a.af} address`);
    key = {kind: 'addr', af: a.af, proto: oneOf(o.proto, `${where}.proto`, ['tcp', 'udp', 'sctp'] as const), addr: a.addr,
      port: int(o.port, `${where}.port`, 0, 65535)};
  }
  const v6 = key.af === 6;
  let netmask = 0xffffffff, prefixLen = v6 ? 128 : 32;
  if (o.netmask !== undefined) {
    if (v6) prefixLen = int(o.netmask, `${where}.netmask`, 1, 128);
    else {
      const m = typeof o.netmask === 'string' ? parseIPv4(o.netmask) : null;
      if (m === null) throw fieldError(`${where}.netmask`, 'a dotted IPv4 netmask', o.netmask);
      netmask = m;
    }
  }
  const opts: Partial<ServiceOptions> = {
    scheduler: opt(o, 'scheduler', 'wlc', (x, w) => oneOf(x, w, schedulers), where),
    flags: opt(o, 'flags', 0, (x, w) => int(x, w, 0, 0xffffffff), where),
    persistTimeout: opt(o, 'persistent', 0, (x, w) => int(x, w, 0, MAX_TIMEOUT_S), where) * 1000,
    netmask, prefixLen,
    pe: opt(o, 'pe', '', (x, w) => oneOf(x, w, ['', 'sip']), where),
  };
  const dests = o.dests === undefined ? [] : list(o.dests, `${where}.dests`).map((d, j) => destOf(d, `${where}.dests[${j}]`));
  return {key, opts, dests};
}

/** Build an engine holding the configuration of a state file (validated field by field first). */
export function engineFromState(s: unknown, opts: EngineOptions = {}): Engine {
  const top = obj(s, '', ['version', 'tunables', 'timeouts', 'daemons', 'services']);
  if (top.version !== STATE_VERSION) throw new StateError(`unsupported version ${JSON.stringify(top.version)} (expected ${STATE_VERSION})`);
  const tunables = top.tunables === undefined ? {} : obj(top.tunables, 'tunables', TUNABLES.map((d) => d.name));
  const timeouts = top.timeouts === undefined ? null : (() => {
    const t = obj(top.timeouts, 'timeouts', ['tcp', 'tcpfin', 'udp']);
    return {
      tcp: int(t.tcp, 'timeouts.tcp', 0, MAX_TIMEOUT_S), tcpfin: int(t.tcpfin, 'timeouts.tcpfin', 0, MAX_TIMEOUT_S),
      udp: int(t.udp, 'timeouts.udp', 0, MAX_TIMEOUT_S),
    };
  })();
  const daemons = top.daemons === undefined ? [] : list(top.daemons, 'daemons').map((d, i) => daemonOf(d, `daemons[${i}]`));
  if (daemons.length === 2 && daemons[0]!.role === daemons[1]!.role || daemons.length > 2) {
    throw new StateError('daemons: at most one master and one backup');
  }
  const schedulers = acceptedSchedulers();
  const services = top.services === undefined ? [] : list(top.services, 'services').map((sv, i) => serviceOf(sv, `services[${i}]`, schedulers));

  // the configuration is well-formed: now the engine's own checks (EEXIST, EINVAL...) apply
  const e = new Engine({seed: 1, ...opts});
  const apply = (where: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof IpvsError) throw new StateError(`${where}: ${err.message}`);
      throw err;
    }
  };
  for (const [name, value] of Object.entries(tunables)) {
    if (typeof value !== 'string' && typeof value !== 'number') throw fieldError(`tunables.${name}`, 'a string', value);
    const r = e.setTunable(name, String(value));
    if (!r.ok) throw new StateError(`tunables.${name}: ${r.error}`);
  }
  if (timeouts) apply('timeouts', () => e.setTimeouts(timeouts.tcp, timeouts.tcpfin, timeouts.udp));
  daemons.forEach((d, i) => apply(`daemons[${i}]`, () => e.startDaemon(d)));
  services.forEach((sv, i) => {
    apply(`services[${i}]`, () => e.addService(sv.key, sv.opts));
    sv.dests.forEach((sd, j) => apply(`services[${i}].dests[${j}]`, () => {
      const d = e.addDest(sv.key, sd.af, sd.addr, sd.port, sd.opts);
      if (sd.tunnel) setTunInfo(d, sd.tunnel);
    }));
  });
  return e;
}

/** Load the state file into a fresh engine (a missing file is an empty box). */
export function loadStateFile(path: string, opts: EngineOptions = {}): Engine {
  let text: string;
  try {
    text = readBoundedFile(path, BOUNDS.stateFileBytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Engine({seed: 1, ...opts});
    throw new StateError(err instanceof BoundError ? err.message : `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseStateText(text, path, opts);
}

/** A state file's text (JSON, then the schema) into an engine; errors name the file and the field. */
export function parseStateText(text: string, path: string, opts: EngineOptions = {}): Engine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  try {
    return engineFromState(json, opts);
  } catch (err) {
    if (err instanceof StateError) throw new StateError(`${path}: ${err.message}`);
    throw err;
  }
}

/**
 * Write the engine's configuration atomically: a temporary file next to the file the path finally
 * names (a symlink is followed and stays a symlink), flushed to disk, then renamed over it. The
 * file keeps its permission bits (new files get 0644); a write that fails removes its temporary.
 */
export function saveStateFile(path: string, e: Engine): void {
  const target = resolveStateTarget(path);
  mkdirSync(dirname(target), {recursive: true});
  let mode = 0o644;
  try {
    mode = statSync(target).mode & 0o7777;
  } catch {
    // a new file
  }
  // node:crypto is loaded here, on a write, not at start-up: listing (ipvsadm -Ln) never needs it
  const {randomBytes} = process.getBuiltinModule('node:crypto');
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      fchmodSync(fd, mode); // the umask narrowed the create mode
      writeFileSync(fd, `${JSON.stringify(captureState(e), null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, {force: true});
    throw err;
  }
}
